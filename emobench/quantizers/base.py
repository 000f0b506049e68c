"""The quantizer plugin API: what every emobench quantizer (built-in or third-party) implements.

A quantizer sees arrays and labels only; it never imports upstreams, corpora or tasks, so anyone can
write one in their own package and declare it under the ``emobench.quantizers`` entry-point group
(see ``tests/plugin_example/``). Subclasses implement five small hooks (``_fit``, ``_encode``,
``_decode``, ``_state``, ``_load_state``); this base class handles input conversion and checks,
chunking, save/load (safetensors + JSON, no pickle) and provenance.

Conventions:
  * inputs may be numpy arrays or torch tensors ``[n_frames, dim]``; outputs are numpy unless the
    input was a torch tensor, in which case they are torch tensors on the input's device;
  * codes are int64 ``[n_frames, n_codes]``; residual quantizers are prefix codes: ``decode(codes,
    depth)`` reconstructs from the first ``depth`` stages, so encode once at full depth;
  * ``progress``, where accepted, is a callable ``progress(description, completed, total)``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch

from emobench.errors import CacheError, EmobenchError
from emobench.frames import FrameSource, as_frame_source
from emobench.fsutil import atomic_path, atomic_write_json

SCHEMA_VERSION = 1
CODEBOOKS_FILE = "codebooks.safetensors"
CONFIG_FILE = "config.json"
Progress = Callable[[str, int, int], None]


def as_progress(progress: Any) -> Progress | None:
    """A ``progress(description, completed, total)`` callable from a callable or a rich Progress.

    With rich, one bar per kind of step (the text after the last ':'), relabelled as stages advance,
    so a 24-stage fit shows two bars rather than 24."""
    if progress is None or not hasattr(progress, "add_task"):
        return progress
    bars: dict[str, Any] = {}

    def report(description: str, completed: int, total: int) -> None:
        kind = description.rsplit(":", 1)[-1].strip()
        if kind not in bars:
            bars[kind] = progress.add_task(description, total=total)
        progress.update(bars[kind], description=description, completed=completed, total=total)

    return report


class QuantizerError(EmobenchError, ValueError):
    """Bad input to a quantizer: unfitted, wrong dimension, non-finite frames, too few points."""


class CodebookMismatchError(QuantizerError, CacheError):
    """A saved codebook was fitted on something else (another upstream, layer, ...) than requested."""


def available_bytes(device: torch.device) -> int | None:
    """Free memory on ``device`` (None when it cannot be told)."""
    if device.type == "cuda":
        return int(torch.cuda.mem_get_info(device)[0])
    try:
        import os

        return int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return None


def check_memory(need: int, device: torch.device, what: str) -> None:
    """Refuse a fit that cannot fit in memory before allocating anything."""
    free = available_bytes(device) if need else None
    if free is not None and need > free:
        raise QuantizerError(
            f"{what} needs about {need / 2**30:.1f} GiB but {free / 2**30:.1f} GiB are free on {device}; "
            "lower codebook_size, n_stages or max_points_per_centroid"
        )


def check_finite(x: torch.Tensor, where: str) -> None:
    if bool(torch.isfinite(x.sum())):  # fast path: one reduction; NaN/inf anywhere makes the sum non-finite
        return
    bad = int((~torch.isfinite(x)).any(dim=-1).sum())
    if bad:  # (a finite sum can only overflow to inf without any bad value: then nothing to report)
        raise QuantizerError(
            f"{where}: {bad} frame(s) contain NaN or inf; check the upstream's output or drop those frames"
        )


def to_tensor(x: Any, device: torch.device | str = "cpu") -> torch.Tensor:
    """Array or tensor -> float32 tensor on ``device`` (no copy when already there)."""
    if isinstance(x, torch.Tensor):
        return x.detach().to(device=device, dtype=torch.float32)
    return torch.as_tensor(np.asarray(x), dtype=torch.float32, device=device)


def like_input(y: torch.Tensor, x: Any) -> Any:
    """Return ``y`` as numpy, or as a tensor on ``x``'s device when ``x`` was a tensor."""
    if isinstance(x, torch.Tensor):
        return y.to(x.device)
    return y.cpu().numpy()


class Quantizer:
    """Base class. Subclasses take keyword-only constructor params (JSON-serialisable) and record
    them in ``self.params`` so ``save``/``load`` can rebuild them."""

    per_emotion: ClassVar[bool] = False  # True: fit takes {emotion: FrameSource}
    codes_per_stage: ClassVar[int] = 1  # grouped quantizers emit G codes per stage
    encode_chunk: ClassVar[int] = 16384  # frames per encode chunk (bounds memory)

    def __init__(self, **params: Any):
        self.params: dict[str, Any] = dict(params)
        self.dim: int | None = None
        self.device = torch.device("cpu")
        self.fitted_on: dict[str, Any] = {}  # provenance the harness fills, e.g. {"upstream": ...}
        self.fit_info: dict[str, Any] = {}  # training statistics (inertia, dead codewords, ...)

    # -- what subclasses provide -------------------------------------------------------------------
    n_stages: int
    codebook_size: int

    def _fit(self, source: Any, *, device: torch.device, seed: int, progress: Progress | None) -> None:
        raise NotImplementedError

    def _encode(self, x: torch.Tensor) -> torch.Tensor:  # [n, dim] fp32 on device -> [n, n_codes] int64
        raise NotImplementedError

    def _decode(self, codes: torch.Tensor, depth: int) -> torch.Tensor:  # -> [n, dim] fp32
        raise NotImplementedError

    def _state(self) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    def _load_state(self, tensors: dict[str, torch.Tensor]) -> None:
        raise NotImplementedError

    def state_bytes(self, dim: int) -> int:
        """Bytes the fit will hold for ``dim``-dim frames (0: unknown); checked against free memory."""
        return 0

    # -- public API --------------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return type(self).__name__

    @property
    def depths(self) -> list[int]:
        """The depths ``decode`` accepts: every prefix 1..n_stages (a codec may allow only its trained ones)."""
        return list(range(1, int(self.n_stages) + 1))

    @property
    def route_bits(self) -> float:
        """Bits sent once per utterance on top of the frame codes (Emo-Q's route); 0 for plain codecs."""
        return 0.0

    @property
    def input_level(self) -> str:
        """"frame": fitted on and applied to frames; "utterance": to mean-pooled utterance vectors."""
        return "frame"

    def stage_codes(self, codes: np.ndarray) -> np.ndarray:
        """The columns of ``encode``'s output that are stage codes (Emo-Q drops its route column)."""
        return np.asarray(codes)

    def decode_prefixes(self, codes: Any, depths) -> Any:
        """``(depth, reconstruction)`` for each depth in ``depths`` from one full-depth ``codes``.
        Residual codebooks override this with incremental sums (O(L) instead of O(L^2) decodes)."""
        for d in depths:
            yield int(d), self.decode(codes, d)

    @property
    def is_fitted(self) -> bool:
        return self.dim is not None

    def fit(
        self,
        frames: Any,
        labels: Any = None,
        *,
        device: str = "cpu",
        seed: int = 0,
        progress: Progress | None = None,
    ) -> Quantizer:
        """Learn codebooks from ``frames`` ([N, D] array/tensor or a FrameSource; a mapping
        ``{emotion: frames}`` for per-emotion quantizers). ``labels`` is for label-aware quantizers."""
        dev = torch.device(device)
        progress = as_progress(progress)
        if self.per_emotion:
            source = self._per_emotion_sources(frames, labels, seed=seed)
            dims = {s.dim for s in source.values()}
            if len(dims) != 1:
                raise QuantizerError(f"{self.name}: per-emotion frames disagree on dim ({sorted(dims)})")
            dim = dims.pop()
        else:
            if isinstance(frames, Mapping):
                raise QuantizerError(
                    f"{self.name} is not per-emotion: pass one array or FrameSource, not a mapping"
                )
            source = as_frame_source(frames)
            dim = source.dim
        self.device = dev
        check_memory(self.state_bytes(int(dim)), dev, f"{self.name} ({self.n_stages} x {self.codebook_size} on "
                     f"{dim}-dim frames)")
        self._fit(source, device=dev, seed=seed, progress=progress)
        self.dim = int(dim)
        return self

    def _per_emotion_sources(self, frames: Any, labels: Any, *, seed: int) -> dict[str, FrameSource]:
        if isinstance(frames, Mapping):
            return {str(e): as_frame_source(f) for e, f in frames.items()}
        raise QuantizerError(f"{self.name} is per-emotion: pass {{emotion: frames}} built with a composition")

    def to(self, device: str | torch.device) -> Quantizer:
        self.device = torch.device(device)
        self._load_state({k: v.to(self.device) for k, v in self._state().items()})
        return self

    def check_input(self, x: Any, where: str = "encode") -> torch.Tensor:
        if not self.is_fitted:
            raise QuantizerError(f"{self.name}.{where}: the quantizer is not fitted; call fit() or load()")
        t = to_tensor(x, self.device)
        if t.ndim != 2:
            raise QuantizerError(
                f"{self.name}.{where}: expected frames [n_frames, dim], got shape {tuple(t.shape)}"
            )
        if t.shape[1] != self.dim:
            origin = f" (fitted on {self.fitted_on})" if self.fitted_on else ""
            raise QuantizerError(
                f"{self.name}.{where}: codebooks are {self.dim}-dim{origin} but the features are "
                f"{t.shape[1]}-dim; refit, or use the upstream/layer the codebooks were trained on"
            )
        check_finite(t, f"{self.name}.{where}")
        return t

    def encode(self, x: Any) -> Any:
        """Codes int64 ``[n_frames, n_stages * codes_per_stage]`` at full depth."""
        t = self.check_input(x, "encode")
        out = [self._encode(c) for c in t.split(self.encode_chunk)] if len(t) else [self._encode(t)]
        return like_input(torch.cat(out), x)

    def check_depth(self, depth: int | None) -> int:
        depth = self.n_stages if depth is None else int(depth)
        if not 1 <= depth <= self.n_stages:
            raise QuantizerError(f"{self.name}: depth must be in 1..{self.n_stages}, got {depth}")
        return depth

    def decode(self, codes: Any, depth: int | None = None) -> Any:
        """Reconstruction ``[n_frames, dim]`` from the first ``depth`` stages (all when None)."""
        if not self.is_fitted:
            raise QuantizerError(f"{self.name}.decode: the quantizer is not fitted; call fit() or load()")
        depth = self.check_depth(depth)
        c = (
            codes.to(self.device)
            if isinstance(codes, torch.Tensor)
            else torch.as_tensor(np.asarray(codes), device=self.device)
        )
        if c.ndim != 2:
            raise QuantizerError(
                f"{self.name}.decode: codes must be [n_frames, n_codes], got {tuple(c.shape)}"
            )
        out = (
            [self._decode(part.long(), depth) for part in c.split(self.encode_chunk)]
            if len(c)
            else [self._decode(c.long(), depth)]
        )
        return like_input(torch.cat(out), codes)

    def reconstruct(self, x: Any, depth: int | None = None) -> Any:
        return self.decode(self.encode(x), depth)

    def bits_per_frame(self, depth: int | None = None) -> float:
        """Nominal (fixed-length) bits per frame at ``depth``."""
        return self.check_depth(depth) * self.codes_per_stage * float(np.log2(self.codebook_size))

    # -- persistence -------------------------------------------------------------------------------
    @classmethod
    def class_path(cls) -> str:
        return f"{cls.__module__}:{cls.__qualname__}"

    def config(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "class": self.class_path(),
            "params": self.params,
            "dim": self.dim,
            "n_stages": self.n_stages,
            "codebook_size": self.codebook_size,
            "fitted_on": self.fitted_on,
            "fit_info": self.fit_info,
        }

    def save(self, directory: str | Path) -> Path:
        """Write ``codebooks.safetensors`` then ``config.json`` (the config marks a complete save)."""
        from safetensors.torch import save_file

        if not self.is_fitted:
            raise QuantizerError(f"{self.name}.save: nothing to save, the quantizer is not fitted")
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        tensors = {k: v.detach().cpu().contiguous() for k, v in self._state().items()}
        with atomic_path(directory / CODEBOOKS_FILE) as tmp:
            save_file(tensors, str(tmp), metadata={"schema_version": str(SCHEMA_VERSION)})
        atomic_write_json(directory / CONFIG_FILE, self.config())
        return directory

    @classmethod
    def load(
        cls, directory: str | Path, *, expect: Mapping[str, Any] | None = None, device: str = "cpu"
    ) -> Quantizer:
        """Rebuild a saved quantizer. ``expect`` (e.g. ``{"upstream": "wavlm"}``) must match the saved
        ``fitted_on`` provenance, so codebooks from another upstream are refused."""
        from safetensors.torch import load_file

        directory = Path(directory)
        config = read_config(directory)
        if config["class"] != cls.class_path() and cls is not Quantizer:
            raise QuantizerError(
                f"{directory}: holds a {config['class']}, not a {cls.class_path()}; use load_quantizer()"
            )
        check_provenance(config, expect, directory)
        q = cls(**config["params"])
        q.dim, q.fitted_on = int(config["dim"]), dict(config.get("fitted_on") or {})
        q.fit_info = dict(config.get("fit_info") or {})
        q.device = torch.device(device)
        try:
            tensors = load_file(str(directory / CODEBOOKS_FILE), device=str(q.device))
        except Exception as exc:
            raise CacheError(
                f"{directory / CODEBOOKS_FILE}: unreadable ({exc}); delete the folder and refit"
            ) from exc
        q._load_state(tensors)
        return q


def read_config(directory: Path) -> dict[str, Any]:
    path = directory / CONFIG_FILE
    if not path.is_file() or not (directory / CODEBOOKS_FILE).is_file():
        raise CacheError(
            f"{directory}: no saved quantizer ({CONFIG_FILE} + {CODEBOOKS_FILE}); fit and save one first"
        )
    try:
        config = json.loads(path.read_text())
    except ValueError as exc:
        raise CacheError(f"{path}: not valid JSON ({exc}); delete the folder and refit") from exc
    if config.get("schema_version") != SCHEMA_VERSION:
        raise CacheError(
            f"{path}: schema_version {config.get('schema_version')} is not {SCHEMA_VERSION}; refit"
        )
    for key in ("class", "params", "dim"):
        if key not in config:
            raise CacheError(f"{path}: lacks {key!r}; delete the folder and refit")
    return config


def check_provenance(config: Mapping[str, Any], expect: Mapping[str, Any] | None, where: Path) -> None:
    recorded = config.get("fitted_on") or {}
    for key, want in (expect or {}).items():
        have = recorded.get(key, "<not recorded>")
        if have != want:
            raise CodebookMismatchError(
                f"{where}: codebooks were fitted on {key}={have!r}, but {key}={want!r} was asked for; "
                "fit codebooks for this one (or point at the right folder)"
            )


def load_quantizer(
    directory: str | Path, *, expect: Mapping[str, Any] | None = None, device: str = "cpu"
) -> Quantizer:
    """Load any saved quantizer, dispatching on the class in its config.json. Only emobench's own
    quantizer classes and classes declared as ``emobench.quantizers`` entry points are imported."""
    from emobench.registry import import_object

    directory = Path(directory)
    target = read_config(directory)["class"]
    if not (target.startswith("emobench.quantizers.") or target in _entry_point_class_paths()):
        raise QuantizerError(
            f"{directory}: refuses to import {target!r}: not an emobench quantizer nor an installed "
            "'emobench.quantizers' entry point; install the plugin that wrote it"
        )
    cls = import_object(target, context=f"quantizer saved in {directory}")
    if not (isinstance(cls, type) and issubclass(cls, Quantizer)):
        raise QuantizerError(f"{directory}: {target} is not an emobench Quantizer subclass")
    return cls.load(directory, expect=expect, device=device)


def _entry_point_class_paths() -> set[str]:
    """Class paths of installed plugin quantizers (an entry point may name a re-export)."""
    import importlib.metadata as md

    paths = set()
    for ep in md.entry_points(group="emobench.quantizers"):
        paths.add(ep.value)
        try:
            obj = ep.load()
        except Exception:  # a broken plugin must not block loading the others' codebooks
            continue
        if isinstance(obj, type) and issubclass(obj, Quantizer):
            paths.add(obj.class_path())
    return paths

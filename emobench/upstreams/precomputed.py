"""Frame features extracted elsewhere: one ``<utt_id>.npy`` or ``.safetensors`` file per utterance.

Lets any encoder outside the registry be benchmarked, and published features (e.g. emotion2vec's
released IEMOCAP features) be used as they are. Files hold ``[frames, dim]`` (one layer) or
``[layers, frames, dim]``; safetensors files hold one tensor (or one named ``tensor``). The frame rate and
the encoder layer the features come from are declared, since a file cannot say.

Lookup for utterance ``corpus/local``: ``<root>/corpus/local.npy``, then ``<root>/local.npy`` (and the
same with .safetensors). The cache keys each utterance on its feature file's bytes, so replacing a file
invalidates its cached copy.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from emobench.errors import AudioError, EmobenchError
from emobench.upstreams.base import Upstream

SUFFIXES = (".npy", ".safetensors")


class PrecomputedUpstream(Upstream):
    reads_audio = False

    def __init__(
        self,
        *,
        root: str,
        frame_rate_hz: float,
        source_layer: int | str | None = None,
        tensor: str | None = None,
        name: str | None = None,
        default_layer: int | None = None,
        device: Any = None,
        dtype: Any = None,
    ):
        super().__init__()
        self.root = Path(root).expanduser().resolve()
        if not self.root.is_dir():
            raise EmobenchError(f"precomputed feature folder {self.root} does not exist; pass root=<folder of <utt_id>.npy>")
        self.tensor = tensor
        sample, errors = None, []
        for path in sorted(p for s in SUFFIXES for p in self.root.rglob(f"*{s}")):  # the first readable file
            try:                                                                   # gives layers and dim
                sample = self._read(path)
                break
            except AudioError as exc:
                errors.append(str(exc))
                if len(errors) >= 20:
                    break
        if sample is None:
            why = f"; e.g. {errors[0]}" if errors else ""
            raise EmobenchError(f"precomputed feature folder {self.root} holds no readable .npy or .safetensors "
                                f"files{why}")
        self.n_layers, self.dim = (1, sample.shape[1]) if sample.ndim == 2 else (sample.shape[0], sample.shape[2])
        self.name = name or self.root.name
        self.frame_rate_hz = float(frame_rate_hz)
        self.source_layer = source_layer
        self.default_layer = self.n_layers - 1 if default_layer is None else int(default_layer)
        self.check_layers([self.default_layer])
        self.min_samples = 1

    def identity(self) -> dict[str, Any]:
        # Content is keyed per utterance by the feature file's hash; the folder names the collection.
        return {"loader": "precomputed", "root": str(self.root), "frame_rate_hz": self.frame_rate_hz,
                "source_layer": self.source_layer, "tensor": self.tensor}

    def n_frames(self, n_samples: int) -> int:
        """An estimate from the duration: the files' own frame counts are what ``extract_utterance`` returns."""
        return int(round(n_samples / self.sample_rate * self.frame_rate_hz))

    def find(self, utt: Any) -> Path:
        local = utt.id.split("/", 1)[-1]
        for stem in dict.fromkeys([utt.id, local]):
            for suffix in SUFFIXES:
                path = self.root / f"{stem}{suffix}"
                if path.is_file():
                    return path
        raise AudioError(
            f"no precomputed features for utterance {utt.id}: looked for {self.root}/{utt.id}.npy|.safetensors "
            f"and {self.root}/{local}.npy|.safetensors"
        )

    def content_file(self, utt: Any) -> str:
        return str(self.find(utt))

    def extract_utterance(self, utt: Any, *, layers: list[int]) -> np.ndarray:
        layers = self.check_layers(layers)
        feats = self._read(self.find(utt))
        feats = feats[None] if feats.ndim == 2 else feats  # [layers, frames, dim]
        if feats.shape[0] != self.n_layers or feats.shape[2] != self.dim:
            raise AudioError(
                f"precomputed features of {utt.id} have shape {feats.shape}, but the folder's first file has "
                f"{self.n_layers} layer(s) of {self.dim} dims; every file must agree"
            )
        if feats.shape[1] == 0 or not np.isfinite(feats).all():
            raise AudioError(f"precomputed features of {utt.id} are empty or not finite")
        return np.ascontiguousarray(feats[layers], dtype=np.float32)

    def _extract(self, waves: list[np.ndarray], layers: list[int]) -> list[np.ndarray]:
        raise EmobenchError(f"upstream {self.name} reads precomputed features by utterance id, not waveforms")

    def _read(self, path: Path) -> np.ndarray:
        try:
            if path.suffix == ".npy":
                arr = np.load(path, allow_pickle=False)
            else:
                from safetensors.numpy import load_file

                tensors = load_file(str(path))
                key = self.tensor or ("tensor" if "tensor" in tensors else None)
                if key is None and len(tensors) == 1:
                    key = next(iter(tensors))
                if key not in tensors:
                    raise EmobenchError(f"{path} holds tensors {sorted(tensors)}; pass tensor=<name> to pick one")
                arr = tensors[key]
        except EmobenchError:
            raise
        except Exception as exc:  # OSError, a lying .npy header (ValueError), a corrupt safetensors file
            raise AudioError(f"cannot read precomputed features {path}: {type(exc).__name__}: {exc}") from exc
        if arr.dtype.kind not in "fiu":
            raise AudioError(f"{path} holds {arr.dtype} values, not numbers; write float arrays")
        if arr.ndim not in (2, 3):
            raise AudioError(f"{path} has shape {arr.shape}; expected [frames, dim] or [layers, frames, dim]")
        return arr

"""s3prl hub entries for local checkpoints, imported directly (``s3prl.upstream.<family>.hubconf``).

``S3PRLUpstream`` (s3prl.nn) does not import on current torch, so each family's ``<family>_local`` entry
is called instead. With torch 2.13, s3prl's wavlm entry imports without torchaudio, while its hubert and
wav2vec2 entries import torchaudio (through s3prl.util.pseudo_data); where torchaudio is missing or
broken they fail with a message naming a working pairing.

Layers are s3prl's ``hidden_states``: 0 the CNN/projection output, the last the encoder output.
Batching is pad-free (equal-length utterances share a forward pass, others go alone): group-norm
checkpoints ("default" extractor) take no mask at all, and for layer-norm ones s3prl derives the frame
mask by reshaping the sample mask (WavLM.forward_padding_mask), which marks a padded frame as real for
many lengths, so padded batches would differ from one-by-one extraction.
"""

from __future__ import annotations

import importlib
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch

from emobench.errors import EmobenchError, MissingExtraError
from emobench.upstreams.base import Upstream, conv_n_frames, conv_receptive_field, hash_files

TORCHAUDIO_PAIRING = (
    "install torch and torchaudio of the same release in a separate environment, e.g. "
    "pip install 'torch==2.11.*' 'torchaudio==2.11.*' 's3prl>=0.4.17' (torchaudio 2.11 does not load with torch 2.13); "
    "or use the transformers backend for this model (impl: transformers)"
)


def import_hubconf(family: str):
    try:
        importlib.import_module("s3prl")
    except Exception as exc:
        raise MissingExtraError("s3prl", "the s3prl upstream", exc) from exc
    try:
        return importlib.import_module(f"s3prl.upstream.{family}.hubconf")
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.startswith("torchaudio"):
            raise EmobenchError(f"s3prl's {family} hub entry imports torchaudio, which is not installed; {TORCHAUDIO_PAIRING}") from exc
        raise EmobenchError(f"s3prl has no hub entry family {family!r} ({exc}); check the entry name") from exc
    except (ImportError, OSError, RuntimeError) as exc:  # a torchaudio built for another torch fails here
        raise EmobenchError(
            f"s3prl's {family} hub entry failed to import ({type(exc).__name__}: {str(exc).splitlines()[0]}); "
            f"{TORCHAUDIO_PAIRING}"
        ) from exc


class S3PRLHubUpstream(Upstream):
    """``entry`` is a hub function such as ``wavlm_local``; ``model`` the checkpoint file it loads."""

    def __init__(
        self,
        *,
        model: str | None = None,
        entry: str = "wavlm_local",
        default_layer: int | None = None,
        name: str | None = None,
        device: Any = None,
        dtype: Any = None,
    ):
        super().__init__()
        if not model:
            raise EmobenchError(
                f"the s3prl upstream needs model=<checkpoint file> for its {entry} entry, "
                "e.g. --set-upstream model=/path/to/WavLM-Large.pt"
            )
        family = entry.rsplit("_", 1)[0]
        hub = import_hubconf(family)
        fn = getattr(hub, entry, None)
        if fn is None:
            options = sorted(n for n in dir(hub) if n.endswith("_local"))
            raise EmobenchError(f"s3prl has no hub entry {entry!r}; local-checkpoint entries of {family}: {options}")
        ckpt = Path(str(model)).expanduser()
        if not ckpt.is_file():
            raise EmobenchError(f"s3prl checkpoint {ckpt} is not a file; pass the .pt file the {entry} entry loads")
        try:
            with warnings.catch_warnings():  # s3prl's weight_norm FutureWarning
                warnings.simplefilter("ignore", FutureWarning)
                self.expert = fn(ckpt=str(ckpt)).eval()  # its torch.load is weights_only on torch >= 2.6
        except Exception as exc:
            raise EmobenchError(
                f"s3prl entry {entry} cannot load {ckpt} ({type(exc).__name__}: {str(exc).splitlines()[0]}); "
                "the file is not a checkpoint in the format this entry expects, or it is incomplete"
            ) from exc
        self.name = name or ckpt.stem
        self._identity = {"loader": "s3prl", "entry": entry, "weights_sha256": hash_files([ckpt])}
        inner = getattr(self.expert, "model", self.expert)
        convs = [m for m in getattr(inner, "feature_extractor", inner).modules() if isinstance(m, torch.nn.Conv1d)]
        if not convs:
            raise EmobenchError(f"s3prl entry {entry}: cannot find its CNN feature extractor to count frames")
        self.conv = [(int(c.kernel_size[0]), int(c.stride[0])) for c in convs]
        self.frame_rate_hz = self.sample_rate / float(np.prod([s for _, s in self.conv]))
        self.min_samples = conv_receptive_field(self.conv)
        probe = self._hidden([np.zeros(self.min_samples * 2, dtype=np.float32)])
        self.n_layers, self.dim = len(probe), int(probe[0].shape[-1])
        self.default_layer = self.n_layers - 1 if default_layer is None else int(default_layer)
        self.check_layers([self.default_layer])
        if device is not None or dtype is not None:
            self.to(device, dtype)

    def _move(self) -> None:
        self.expert.to(device=self.device, dtype=self.dtype)

    def n_frames(self, n_samples: int) -> int:
        return conv_n_frames(n_samples, self.conv)

    @torch.inference_mode()
    def _hidden(self, waves: list[np.ndarray]) -> list[torch.Tensor]:
        wavs = [torch.from_numpy(w).to(self.device, self.dtype) for w in waves]
        return list(self.expert(wavs)["hidden_states"])  # n_layers x [batch, frames, dim]

    def _extract(self, waves: list[np.ndarray], layers: list[int]) -> list[np.ndarray]:
        by_len: dict[int, list[int]] = {}
        for i, w in enumerate(waves):  # pad-free: equal lengths only (see the module docstring)
            by_len.setdefault(w.shape[0], []).append(i)
        groups = list(by_len.values())
        out: list[np.ndarray | None] = [None] * len(waves)
        for idx in groups:
            hidden = self._hidden([waves[i] for i in idx])
            stacked = torch.stack([hidden[x] for x in layers], 1).float().cpu().numpy()  # [batch, L, frames, dim]
            for j, i in enumerate(idx):
                out[i] = stacked[j, :, : self.n_frames(len(waves[i]))]
        return out  # type: ignore[return-value]

"""x-vectors (Snyder et al. 2018) through speechbrain's ``spkrec-xvect-voxceleb``: one 512-d embedding per
utterance, the RLR of HYFuse's best pair (section 2.1; the paper's footnote names this checkpoint).

An optional extra: speechbrain imports torchaudio at import time (``speechbrain.utils.torch_audio_backend``
and ``speechbrain.nnet.CNN``), and torchaudio must match the installed torch (e.g. torch 2.11 with
torchaudio 2.11; with torch 2.13 no torchaudio release loads), so ``emobench[xvector]`` is installed by
hand on such a pair. Without it, building this upstream raises one MissingExtraError.

Features: ``[1, 1, 512]`` per utterance (one layer, one "frame"), from ``EncoderClassifier.encode_batch``
(speechbrain's Fbank, sentence-level mean normalisation, the TDNN and statistics pooling). The TDNN's
"same" padding sees a padded batch's tail, so utterances run one at a time (pad-free), which is exact.
The checkpoint loads from a local folder (hyperparams.yaml, embedding_model.ckpt, ...) or the hub.
HyperPyYAML executes the hyperparams file's tags: load only checkpoints you trust.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from emobench.errors import EmobenchError, require_extra
from emobench.upstreams.base import Upstream, hash_files

EXTRA = "xvector"
WHAT = ("the x-vector upstream (speechbrain imports torchaudio, which must match your torch, e.g. torch 2.11 with "
        "torchaudio 2.11)")


class XvectorUpstream(Upstream):
    """speechbrain's x-vector speaker embedding (512-d) of each utterance, at 16 kHz."""

    def __init__(self, *, model: str = "speechbrain/spkrec-xvect-voxceleb", revision: str | None = None,
                 savedir: str | None = None, name: str | None = None, device: Any = None, dtype: Any = None):
        super().__init__()
        require_extra("speechbrain", EXTRA, WHAT)
        classifiers = require_extra("speechbrain.inference.classifiers", EXTRA, WHAT)
        fetching = require_extra("speechbrain.utils.fetching", EXTRA, WHAT)
        self.name = name or Path(str(model)).name
        self.sample_rate, self.frame_rate_hz = 16_000, 0.0  # one embedding per utterance: no frame rate
        self.n_layers, self.dim, self.default_layer = 1, 512, 0
        self.min_samples = 400  # one 25 ms Fbank window
        path = Path(str(model)).expanduser()
        local = path.is_dir()
        if not local and str(model).startswith((".", "/", "~")):
            raise EmobenchError(f"x-vector model folder {path} does not exist; pass the folder holding "
                                "hyperparams.yaml and embedding_model.ckpt")
        try:
            self.model = classifiers.EncoderClassifier.from_hparams(
                source=str(path) if local else str(model), savedir=savedir,
                fetch_config=fetching.FetchConfig(revision=revision, allow_network=not local),
            )
        except Exception as exc:
            raise EmobenchError(f"cannot load the x-vector model {model} ({type(exc).__name__}: "
                                f"{str(exc).splitlines()[0] if str(exc) else ''}); without network, download "
                                "speechbrain/spkrec-xvect-voxceleb elsewhere and pass model=DIR") from exc
        if local:
            files = [p for p in path.iterdir() if p.suffix in (".ckpt", ".yaml")]
            self._identity = {"loader": "speechbrain-xvector", "weights_sha256": hash_files(files)}
        else:
            self._identity = {"loader": "speechbrain-xvector", "model": str(model), "revision": revision or "main"}
        self.model.eval()
        if device is not None or dtype is not None:
            self.to(device, dtype)

    def _move(self) -> None:
        self.model.to(self.device)
        self.model.device = str(self.device)  # speechbrain's Pretrained moves inputs to .device

    def n_frames(self, n_samples: int) -> int:
        return 1

    @torch.no_grad()
    def _extract(self, waves: list[np.ndarray], layers: list[int]) -> list[np.ndarray]:
        out = []
        for w in waves:  # one at a time: exact (see the module docstring)
            emb = self.model.encode_batch(torch.from_numpy(w)[None])  # [1, 1, 512]
            out.append(emb.float().cpu().numpy().reshape(1, 1, self.dim))
        return out

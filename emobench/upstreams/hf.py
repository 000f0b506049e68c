"""Encoders through transformers: WavLM, HuBERT, wav2vec 2.0 / XLS-R, data2vec-audio, and Whisper's encoder.

Layers follow ``hidden_states``: 0 is the CNN/embedding output, ``i`` the output of block ``i``.

Batching and padding (batched must equal one-by-one):
  * models with ``feat_extract_norm == "layer"`` (WavLM-Large, HuBERT-Large, wav2vec2-large-lv60, XLS-R)
    take an attention mask: on a GPU utterances are zero-padded and masked (on CPU, where batching
    gains nothing and padding costs compute, they run pad-free like the next group);
  * models with ``feat_extract_norm == "group"`` (wav2vec2-base, HuBERT-Base, WavLM-Base+) normalise the
    first CNN layer over time, so padding changes every frame and they take no mask. They are run
    pad-free instead: only utterances of identical length share a forward pass, the rest go one by one;
  * Whisper's encoder always sees fixed 30 s windows: audio is cut into 30 s chunks, windows are batched
    freely, and the frames beyond the real audio are trimmed.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch

from emobench.errors import EmobenchError
from emobench.upstreams.base import Upstream, conv_n_frames, conv_receptive_field
from emobench.upstreams.hf_load import load_hf_model
from emobench.upstreams.hf_whisper import WhisperFrontend

W2V_FAMILIES = ("wavlm", "hubert", "wav2vec2", "wav2vec2-conformer", "data2vec-audio", "unispeech", "unispeech-sat")


class TransformersUpstream(Upstream):
    """A transformers speech encoder from a hub id (pinned ``revision``) or a local directory (``model``)."""

    def __init__(
        self,
        *,
        model: str,
        revision: str | None = None,
        default_layer: int | None = None,
        do_normalize: bool | None = None,
        batch_mode: str = "auto",
        name: str | None = None,
        local_files_only: bool = False,
        device: Any = None,
        dtype: Any = None,
    ):
        super().__init__()
        loaded = load_hf_model(model, revision=revision, local_files_only=local_files_only)
        self.model, self.config, self.source = loaded.model, loaded.model.config, loaded.source
        self.family = self.config.model_type
        self.name = name or Path(str(model)).name
        self._identity: dict[str, Any] = {"loader": "transformers", "family": self.family, **loaded.identity}
        if self.family == "whisper":
            self.frontend = WhisperFrontend(n_mels=self.config.num_mel_bins)
            self.n_layers = self.config.encoder_layers + 1
            self.dim = self.config.d_model
            self.frame_rate_hz = 50.0
            self.min_samples = self.frontend.hop_length * 2
            self.batch_mode = "windows"
        elif self.family in W2V_FAMILIES:
            self.conv = list(zip(self.config.conv_kernel, self.config.conv_stride, strict=True))
            self.n_layers = self.config.num_hidden_layers + 1
            self.dim = self.config.hidden_size
            self.frame_rate_hz = self.sample_rate / float(np.prod(self.config.conv_stride))
            self.min_samples = conv_receptive_field(self.conv)
            takes_mask = getattr(self.config, "feat_extract_norm", "group") == "layer"
            if batch_mode == "auto":
                batch_mode = "masked" if takes_mask else "pad-free"
            if batch_mode not in ("masked", "pad-free"):
                raise EmobenchError(f"upstream {self.name}: batch_mode must be auto, masked or pad-free")
            if batch_mode == "masked" and not takes_mask:
                raise EmobenchError(
                    f"upstream {self.name}: {self.family} with feat_extract_norm={self.config.feat_extract_norm!r} "
                    "takes no attention mask, so padded batches change its features; use batch_mode=pad-free"
                )
            self.batch_mode = batch_mode
            # Large checkpoints were trained on per-utterance normalised audio (their feature extractor's
            # do_normalize); base ones on raw audio. preprocessor_config.json says which, when present.
            self.do_normalize = loaded.do_normalize if do_normalize is None else bool(do_normalize)
            if self.do_normalize is None:
                self.do_normalize = takes_mask
            self._identity["do_normalize"] = self.do_normalize
        else:
            raise EmobenchError(
                f"upstream {self.name}: model type {self.family!r} from {self.source} is not a supported speech "
                f"encoder; supported: whisper, {', '.join(W2V_FAMILIES)}"
            )
        self.default_layer = self.n_layers - 1 if default_layer is None else int(default_layer)
        self.check_layers([self.default_layer])
        if device is not None or dtype is not None:
            self.to(device, dtype)

    def _move(self) -> None:
        self.model.to(device=self.device, dtype=self.dtype)

    def n_frames(self, n_samples: int) -> int:
        if self.family == "whisper":
            return self.frontend.n_frames(n_samples)
        return conv_n_frames(n_samples, self.conv)

    @torch.inference_mode()
    def _extract(self, waves: list[np.ndarray], layers: list[int]) -> list[np.ndarray]:
        if self.family == "whisper":
            return self._extract_whisper(waves, layers)
        if self.batch_mode == "masked" and self.device.type != "cpu":
            return self._forward_w2v(waves, layers, masked=True)
        # pad-free (also for mask-taking models on CPU, where padded frames only cost compute)
        out: list[np.ndarray | None] = [None] * len(waves)
        by_len: dict[int, list[int]] = {}
        for i, w in enumerate(waves):
            by_len.setdefault(w.shape[0], []).append(i)
        for idx in by_len.values():  # equal lengths: no padding at all
            for i, f in zip(idx, self._forward_w2v([waves[i] for i in idx], layers, masked=False), strict=True):
                out[i] = f
        return out  # type: ignore[return-value]

    @torch.inference_mode()
    def _forward_w2v(self, waves: list[np.ndarray], layers: list[int], *, masked: bool) -> list[np.ndarray]:
        lengths = [w.shape[0] for w in waves]
        batch = torch.zeros(len(waves), max(lengths), dtype=torch.float32)  # [batch, samples]
        mask = torch.zeros(len(waves), max(lengths), dtype=torch.long)
        for i, w in enumerate(waves):
            x = torch.from_numpy(w)
            if self.do_normalize:  # over the real samples only, so padding cannot change it
                x = (x - x.mean()) / torch.sqrt(x.var(unbiased=False) + 1e-7)
            batch[i, : len(w)] = x
            mask[i, : len(w)] = 1
        kwargs = {"attention_mask": mask.to(self.device)} if masked else {}
        with warnings.catch_warnings():  # torch's key_padding_mask deprecation, raised inside transformers
            warnings.simplefilter("ignore", UserWarning)
            out = self.model(batch.to(self.device, self.dtype), output_hidden_states=True, return_dict=True, **kwargs)
        hidden = _layers(out)  # n_layers x [batch, frames, dim]
        stacked = torch.stack([hidden[x] for x in layers], dim=1).float().cpu().numpy()  # [batch, L, frames, dim]
        return [stacked[i, :, : self.n_frames(n)] for i, n in enumerate(lengths)]

    def _extract_whisper(self, waves: list[np.ndarray], layers: list[int]) -> list[np.ndarray]:
        windows, owners = [], []
        for i, w in enumerate(waves):
            for chunk in self.frontend.chunks(w):
                windows.append(chunk)
                owners.append(i)
        # On CPU one window at a time is faster (measured: batching 4 windows cost 15% more CPU time).
        step = 1 if self.device.type == "cpu" else len(windows)
        stacked = np.concatenate([self._whisper_windows(windows[s : s + step], layers)
                                  for s in range(0, len(windows), step)])  # [windows, L, 1500, dim]
        parts: list[list[np.ndarray]] = [[] for _ in waves]
        for chunk, owner, feats in zip(windows, owners, stacked, strict=True):
            parts[owner].append(feats[:, : self.frontend.n_frames(len(chunk))])
        return [np.concatenate(p, axis=1) for p in parts]

    def _whisper_windows(self, windows: list[np.ndarray], layers: list[int]) -> np.ndarray:
        mels = self.frontend.log_mel(windows, device=self.device)  # [windows, n_mels, 3000]
        hidden = _layers(self.model(mels.to(self.dtype), output_hidden_states=True, return_dict=True))
        return torch.stack([hidden[x] for x in layers], dim=1).float().cpu().numpy()  # [windows, L, 1500, dim]


def _layers(out) -> list[torch.Tensor]:
    """hidden_states with the last entry replaced by the model's output.

    transformers 5 records the last block's output before the final LayerNorm of pre-LN models
    (wav2vec2-large-lv60, HuBERT-Large, WavLM-Large, XLS-R), transformers 4 after it. The last layer is
    the model's output (``last_hidden_state``) here, whichever version runs.
    """
    hidden = list(out.hidden_states)
    hidden[-1] = out.last_hidden_state
    return hidden

"""emotion2vec / emotion2vec+ through funasr: frame features of every layer, and the model's 9-class head.

Layers: 0 is the output of the audio pre-net (CNN + positional convs + pre-net blocks), ``i`` the output
of block ``i``, the last one the model's output (what the head and funasr's ``generate`` read), always
without the 10 learned extra tokens.

Batching: the data2vec-2 audio encoder does not zero padded frames before its positional convolutions,
so a padding mask does not make padded batches equal to one-by-one extraction. Like the group-norm
transformers models it is run pad-free: equal-length utterances share a forward pass, others go alone.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch

from emobench.errors import EmobenchError, require_extra
from emobench.upstreams.base import Upstream, conv_n_frames, conv_receptive_field, hash_files


class Emotion2VecUpstream(Upstream):
    """emotion2vec(+) from a local funasr model directory or a hub id (``hub``: "hf" or "ms")."""

    def __init__(
        self,
        *,
        model: str,
        hub: str = "hf",
        revision: str | None = None,
        default_layer: int | None = None,
        name: str | None = None,
        ncpu: int | None = None,
        device: Any = None,
        dtype: Any = None,
    ):
        super().__init__()
        with _quiet():  # funasr prints an ffmpeg notice on import
            funasr = require_extra("funasr", "funasr", "the emotion2vec upstream")
        path = Path(str(model)).expanduser()
        local = path.exists() or str(model).startswith((".", "/", "~"))
        if local:
            _check_dir(path)
            self._identity = {"loader": "funasr", "weights_sha256": hash_files(
                [p for p in (path / "model.pt", path / "config.yaml", path / "tokens.txt") if p.is_file()])}
        else:
            self._identity = {"loader": "funasr", "model": str(model), "hub": hub, "revision": revision or "main"}
        kwargs = {"model": str(path) if local else str(model), "hub": hub, "disable_update": True,
                  "ncpu": ncpu or os.cpu_count() or 1, "device": "cpu", "trust_remote_code": False}
        if revision and not local:
            kwargs["model_revision"] = revision
        try:
            with _quiet():
                auto = funasr.AutoModel(**kwargs)
        except Exception as exc:
            if local:
                raise EmobenchError(f"cannot load the emotion2vec directory {path}: {type(exc).__name__}: {exc}") from exc
            raise EmobenchError(
                f"cannot load emotion2vec {model!r} from the {hub} hub ({type(exc).__name__}: {exc}); without network, "
                f"download it elsewhere (e.g. `hf download {model} --local-dir DIR`) and pass model=DIR"
            ) from exc
        self.model = auto.model.eval()
        if local:
            _check_weights(self.model, path / "model.pt")
        tokens = list(auto.kwargs.get("token_list") or [])
        self.name = name or (path.name if local else str(model).rsplit("/", 1)[-1])
        audio = self.model.modality_encoders["AUDIO"]
        self.n_extra = int(audio.modality_cfg.num_extra_tokens)
        self.conv = [(int(k), int(s)) for _, k, s in audio.feature_enc_layers]
        self.normalize = bool(self.model.cfg.get("normalize", False))
        self.n_layers = len(self.model.blocks) + 1
        self.dim = int(self.model.cfg.get("embed_dim"))
        self.frame_rate_hz = self.sample_rate / float(np.prod([s for _, s in self.conv]))
        self.min_samples = conv_receptive_field(self.conv)
        self.default_layer = self.n_layers - 1 if default_layer is None else int(default_layer)
        self.check_layers([self.default_layer])
        # The head: labels called "unuse*" are masked out, as funasr does.
        self._keep = [i for i, t in enumerate(tokens) if not t.startswith("unuse")]
        self.class_names = [tokens[i].split("/")[-1] for i in self._keep]  # "生气/angry" -> "angry"
        if device is not None or dtype is not None:
            self.to(device, dtype)

    def _move(self) -> None:
        self.model.to(device=self.device, dtype=self.dtype)

    def n_frames(self, n_samples: int) -> int:
        return conv_n_frames(n_samples, self.conv)

    @property
    def has_head(self) -> bool:
        return self.model.proj is not None and bool(self.class_names)

    @torch.inference_mode()
    def _extract(self, waves: list[np.ndarray], layers: list[int]) -> list[np.ndarray]:
        out: list[np.ndarray | None] = [None] * len(waves)
        by_len: dict[int, list[int]] = {}
        for i, w in enumerate(waves):
            by_len.setdefault(w.shape[0], []).append(i)
        for idx in by_len.values():
            hidden = self._hidden([waves[i] for i in idx])  # n_layers x [batch, frames, dim]
            stacked = torch.stack([hidden[x] for x in layers], 1).float().cpu().numpy()  # [batch, L, frames, dim]
            for j, i in enumerate(idx):
                out[i] = stacked[j, :, : self.n_frames(len(waves[i]))]
        return out  # type: ignore[return-value]

    def _hidden(self, waves: list[np.ndarray]) -> list[torch.Tensor]:
        """All layers for equal-length waveforms (no padding)."""
        source = torch.from_numpy(np.stack(waves)).to(self.device)  # [batch, samples]
        if self.normalize:  # funasr: F.layer_norm over each whole waveform
            source = torch.nn.functional.layer_norm(source, source.shape[1:])
        captured: list[torch.Tensor] = []
        hooks = [self.model.blocks[0].register_forward_pre_hook(lambda _m, args: captured.append(args[0]))]
        hooks += [b.register_forward_hook(lambda _m, _a, out: captured.append(out[0])) for b in self.model.blocks[:-1]]
        try:
            final = self.model.extract_features(source.to(self.dtype), padding_mask=None)["x"]
        finally:
            for h in hooks:
                h.remove()
        return [h[:, self.n_extra :] for h in captured] + [final]

    @property
    def head_layer(self) -> int:
        """The layer the head reads (mean-pooled): the model's output."""
        return self.n_layers - 1

    def emotion_head(self) -> tuple[np.ndarray, np.ndarray, list[str]]:
        """The model's own 9-class projection, read from the loaded funasr model: (weight ``[C, D]``,
        bias ``[C]``, class names), the classes funasr keeps (``unuse*`` tokens masked out, as it does)."""
        if not self.has_head:
            raise EmobenchError(f"upstream {self.name}: this emotion2vec checkpoint has no classification head")
        weight = self.model.proj.weight.detach().float().cpu().numpy()[self._keep]
        bias = self.model.proj.bias.detach().float().cpu().numpy()[self._keep]
        return weight, bias, list(self.class_names)

    @torch.inference_mode()
    def classify_pooled(self, pooled: np.ndarray) -> np.ndarray:
        """The model's own head on utterance vectors ``[N, dim]`` (mean of the last layer) -> probs ``[N, C]``.

        Works on reconstructions too (the paper's emotion2vec recall applies it to quantized features).
        """
        if not self.has_head:
            raise EmobenchError(f"upstream {self.name}: this emotion2vec checkpoint has no classification head")
        x = torch.as_tensor(np.asarray(pooled, dtype=np.float32), device=self.device).to(self.dtype)
        logits = self.model.proj(x).float()[:, self._keep]  # [N, C]
        return torch.softmax(logits, dim=-1).cpu().numpy()

    def classify(self, waves: list[np.ndarray]) -> np.ndarray:
        """Class probabilities ``[N, len(class_names)]`` of waveforms, as funasr's ``generate`` gives them."""
        last = self.n_layers - 1
        pooled = np.stack([f[0].mean(axis=0) for f in self.extract(waves, layers=[last])])  # [N, dim]
        return self.classify_pooled(pooled)


def _check_dir(path: Path) -> None:
    if not path.is_dir():
        raise EmobenchError(f"emotion2vec model directory {path} does not exist; pass a funasr model folder")
    for needed in ("config.yaml", "model.pt"):
        if not (path / needed).is_file():
            raise EmobenchError(
                f"emotion2vec model directory {path} has no {needed}; it needs config.yaml, model.pt and tokens.txt "
                "(download e.g. emotion2vec/emotion2vec_plus_base completely)"
            )


def _check_weights(model: torch.nn.Module, ckpt: Path) -> None:
    """funasr leaves missing weights randomly initialised with only a log line: refuse that here."""
    state = torch.load(ckpt, map_location="cpu", weights_only=True)
    for key in ("state_dict", "model_state_dict", "model"):
        if isinstance(state, dict) and key in state:
            state = state[key]
    state = {k.removeprefix("module."): v for k, v in state.items()}
    own = model.state_dict()
    missing = [k for k in own if k not in state]
    wrong = [k for k in own if k in state and tuple(state[k].shape) != tuple(own[k].shape)]
    if missing or wrong:
        raise EmobenchError(
            f"emotion2vec weights {ckpt} do not match its config.yaml: {len(missing)} missing, {len(wrong)} with the "
            f"wrong shape (e.g. {', '.join((missing + wrong)[:3])}); re-download the model folder"
        )


@contextlib.contextmanager
def _quiet():
    """funasr prints banners and INFO logs while loading; keep the CLI's output clean."""
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.WARNING)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            yield
    finally:
        root.setLevel(level)

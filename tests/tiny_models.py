"""Builders of tiny randomly initialised models and audio shared by the upstream and cache tests.

Nothing is downloaded: transformers configs are built in code and saved with ``save_pretrained``.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from emobench.corpora.base import Utterance
from emobench.upstreams.base import Upstream

SR = 16_000


def write_wavs(folder: Path, durations_s: list[float], *, seed: int = 0, sr: int = SR) -> list[Utterance]:
    """Noisy tones as 16-bit wav files, one Utterance per duration."""
    import soundfile as sf

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    utts = []
    for i, dur in enumerate(durations_s):
        n = int(dur * sr)
        t = np.arange(n) / sr
        wave = 0.3 * np.sin(2 * np.pi * (120 + 40 * i) * t) + 0.05 * rng.standard_normal(n)
        path = folder / f"u{i:03d}.wav"
        sf.write(path, wave.astype(np.float32), sr, subtype="PCM_16")
        utts.append(Utterance(id=f"toy/u{i:03d}", corpus="toy", path=str(path), speaker=f"s{i % 2}", label="neutral"))
    return utts


class ToyUpstream(Upstream):
    """Deterministic, per-utterance features (no batching effects): frame statistics at 50 Hz.

    ``delay_s`` sleeps per batch (to kill a run mid-way); ``calls`` counts extracted utterances.
    """

    def __init__(self, *, n_layers: int = 3, dim: int = 4, delay_s: float = 0.0, name: str = "toy"):
        super().__init__()
        self.name, self.n_layers, self.dim, self.default_layer = name, n_layers, dim, n_layers - 1
        self.frame_rate_hz, self.min_samples = 50.0, 400
        self.delay_s = delay_s
        self.calls = 0

    def identity(self) -> dict:
        return {"loader": "toy", "n_layers": self.n_layers, "dim": self.dim}

    def n_frames(self, n_samples: int) -> int:
        return 0 if n_samples < 400 else 1 + (n_samples - 400) // 320

    def _extract(self, waves, layers):
        time.sleep(self.delay_s)
        self.calls += len(waves)
        out = []
        for w in waves:
            t = self.n_frames(len(w))
            frames = np.lib.stride_tricks.sliding_window_view(w, 400)[::320][:t]  # [t, 400]
            base = np.stack([frames.mean(1), frames.std(1), np.abs(frames).max(1), frames[:, 0]], 1)[:, : self.dim]
            out.append(np.stack([base * (layer + 1) for layer in layers]).astype(np.float32))
        return out


# -- tiny transformers models ---------------------------------------------------------------------
def tiny_hf_config(family: str, **overrides):
    """A 2-layer config of ``family`` (wavlm, hubert, wav2vec2, whisper) with small dimensions."""
    import transformers as tf

    common = dict(
        hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
        num_conv_pos_embeddings=16, num_conv_pos_embedding_groups=2,
        conv_dim=(16,) * 7, conv_kernel=(10, 3, 3, 3, 3, 2, 2), conv_stride=(5, 2, 2, 2, 2, 2, 2),  # 50 Hz
        hidden_dropout=0.0, attention_dropout=0.0, activation_dropout=0.0, feat_proj_dropout=0.0,
        layerdrop=0.0, mask_time_prob=0.0,
    )
    if family == "whisper":
        cfg = dict(
            d_model=32, encoder_layers=2, decoder_layers=1, encoder_attention_heads=2, decoder_attention_heads=2,
            encoder_ffn_dim=64, decoder_ffn_dim=64, num_mel_bins=80, max_source_positions=1500,
            vocab_size=100, max_target_positions=32, dropout=0.0, pad_token_id=0, bos_token_id=1,
            eos_token_id=2, decoder_start_token_id=1,
        )
        cfg.update(overrides)
        return tf.WhisperConfig(**cfg)
    cls = {"wavlm": tf.WavLMConfig, "hubert": tf.HubertConfig, "wav2vec2": tf.Wav2Vec2Config}[family]
    cfg = {**common, **overrides}
    if family == "wavlm":
        cfg.setdefault("num_buckets", 32)
        cfg.setdefault("max_bucket_distance", 100)
    return cls(**cfg)


def save_tiny_hf(folder: Path, family: str, *, seed: int = 0, **overrides) -> Path:
    """Build and save a randomly initialised tiny model; returns its directory."""
    import torch
    import transformers as tf

    torch.manual_seed(seed)
    config = tiny_hf_config(family, **overrides)
    if family == "whisper":
        model = tf.WhisperModel(config)
    else:
        model = {"wavlm": tf.WavLMModel, "hubert": tf.HubertModel, "wav2vec2": tf.Wav2Vec2Model}[family](config)
    model.eval()
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder, safe_serialization=True)
    return folder


# -- tiny emotion2vec (funasr) ----------------------------------------------------------------------
E2V_TOKENS = ["生气/angry", "厌恶/disgusted", "恐惧/fearful", "开心/happy", "中立/neutral", "其他/other",
              "难过/sad", "吃惊/surprised", "<unk>"]


def tiny_e2v_model_conf(
    depth: int = 2, dim: int = 32, heads: int = 2, *, conv_dim: int = 16, prenet_depth: int = 1,
    conv_pos_width: int = 15, conv_pos_groups: int = 2, conv_pos_depth: int = 3,
) -> dict:
    """emotion2vec's model_conf (as in its config.yaml) shrunk to ``depth`` blocks of ``dim``.

    ``tiny_e2v_model_conf(8, 768, 12, conv_dim=512, prenet_depth=4, conv_pos_width=95, conv_pos_groups=16,
    conv_pos_depth=5)`` is emotion2vec base's size (used by benchmarks/extract.py).
    """
    return {
        "loss_beta": 0.0, "loss_scale": None, "depth": depth, "start_drop_path_rate": 0.0,
        "end_drop_path_rate": 0.0, "num_heads": heads, "norm_eps": 1e-05, "norm_affine": True,
        "encoder_dropout": 0.1, "post_mlp_drop": 0.1, "attention_dropout": 0.1, "activation_dropout": 0.0,
        "dropout_input": 0.0, "layerdrop": 0.05, "embed_dim": dim, "mlp_ratio": 4.0, "layer_norm_first": False,
        "average_top_k_layers": depth, "end_of_block_targets": False, "clone_batch": 8,
        "extractor_mode": "layer_norm", "normalize": True, "supported_modality": "AUDIO",
        "modalities": {"audio": {
            "type": "AUDIO", "prenet_depth": prenet_depth, "prenet_layerdrop": 0.05, "prenet_dropout": 0.1,
            "start_drop_path_rate": 0.0, "end_drop_path_rate": 0.0, "num_extra_tokens": 10,
            "init_extra_token_zero": True, "mask_noise_std": 0.01, "mask_prob_min": None, "inverse_mask": False,
            "mask_prob": 0.5, "mask_prob_adjust": 0.05, "keep_masked_pct": 0.0, "mask_length": 5,
            "add_masks": False, "remove_masks": False, "mask_dropout": 0.0, "encoder_zero_mask": True,
            "mask_channel_prob": 0.0, "mask_channel_length": 64, "ema_local_encoder": False,
            "local_grad_mult": 1.0, "use_alibi_encoder": True, "alibi_scale": 1.0, "learned_alibi": False,
            "alibi_max_pos": None, "learned_alibi_scale": True, "learned_alibi_scale_per_head": True,
            "learned_alibi_scale_per_layer": False, "num_alibi_heads": heads, "model_depth": depth,
            "decoder": None, "extractor_mode": "layer_norm",
            "feature_encoder_spec": f"[({conv_dim}, 10, 5)] + [({conv_dim}, 3, 2)] * 4 + [({conv_dim},2,2)] * 2",
            "conv_pos_width": conv_pos_width, "conv_pos_groups": conv_pos_groups, "conv_pos_depth": conv_pos_depth,
            "conv_pos_pre_ln": False,
        }},
    }


def save_tiny_e2v(folder: Path, *, seed: int = 0, depth: int = 2, conf: dict | None = None) -> Path:
    """A local emotion2vec directory in funasr's layout: config.yaml, model.pt, tokens.txt."""
    import torch
    import yaml
    from funasr.models.emotion2vec.model import Emotion2vec

    torch.manual_seed(seed)
    conf = conf or tiny_e2v_model_conf(depth=depth)
    model = Emotion2vec(model_conf=conf, vocab_size=len(E2V_TOKENS))
    folder.mkdir(parents=True, exist_ok=True)
    config = {"model": "Emotion2vec", "model_conf": conf, "tokenizer": "CharTokenizer",
              "tokenizer_conf": {"unk_symbol": "<unk>", "split_with_space": True}}
    (folder / "config.yaml").write_text(yaml.safe_dump(config, allow_unicode=True))
    (folder / "tokens.txt").write_text("\n".join(E2V_TOKENS) + "\n", encoding="utf-8")
    torch.save({"model": model.state_dict()}, folder / "model.pt")
    return folder


# -- tiny s3prl WavLM checkpoint ----------------------------------------------------------------------
def save_tiny_s3prl_wavlm(
    path: Path, *, extractor_mode: str = "layer_norm", seed: int = 0, base_size: bool = False
) -> Path:
    """A checkpoint in the format ``s3prl.upstream.wavlm.hubconf.wavlm_local`` loads: {"cfg", "model"}."""
    import torch
    from s3prl.upstream.wavlm.WavLM import WavLM, WavLMConfig

    torch.manual_seed(seed)
    cfg = {
        "extractor_mode": extractor_mode, "encoder_layers": 2, "encoder_embed_dim": 32,
        "encoder_ffn_embed_dim": 64, "encoder_attention_heads": 2, "layer_norm_first": extractor_mode == "layer_norm",
        "conv_feature_layers": "[(16,10,5)] + [(16,3,2)] * 4 + [(16,2,2)] * 2", "conv_pos": 16,
        "conv_pos_groups": 2, "normalize": extractor_mode == "layer_norm", "relative_position_embedding": True,
        "num_buckets": 32, "max_distance": 100, "gru_rel_pos": True, "encoder_layerdrop": 0.0,
        "dropout": 0.0, "attention_dropout": 0.0, "activation_dropout": 0.0,
    }
    if base_size:  # WavLM Base+ dimensions
        cfg.update(encoder_layers=12, encoder_embed_dim=768, encoder_ffn_embed_dim=3072, encoder_attention_heads=12,
                   conv_feature_layers="[(512,10,5)] + [(512,3,2)] * 4 + [(512,2,2)] * 2", conv_pos=128,
                   conv_pos_groups=16, num_buckets=320, max_distance=800)
    model = WavLM(WavLMConfig(cfg))
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"cfg": cfg, "model": model.state_dict()}, path)
    return path

"""VQ-MAE-S configurations as frozen dataclasses: the paper's ``vqmaes-12`` and a ``tiny`` one for tests.

Numbers are from Sadok et al., "A vector quantized masked autoencoder for speech emotion recognition"
(section 3.1.1 and Tables 1-5): 64 ms Hann window (1024 samples at 16 kHz) with 70% overlap, D = 513
bins; a VQ-VAE compressing each frame to D' = 64 positions with k = 256 codes of dimension e = 8;
discrete index tokens of (t = 10) x (d = 4); 12 encoder blocks, 4 decoder blocks, 4 heads; AdamW
(0.9, 0.95), weight decay 0.05, base lr 1e-3 x batch / 256 with batch 512; fine-tuning base lr 1e-4.
Where the paper is silent, values come from the authors' code (samsad35/VQ-MAE-S-code) and say so.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from emobench.errors import EmobenchError

MASKINGS = ("frame", "patch-f", "patch-t", "patch-tf")


@dataclass(frozen=True)
class SpectrogramConfig:
    """STFT power spectrogram. ``center=False`` framing: frame i covers samples [i*hop, i*hop + n_fft)."""

    sample_rate: int = 16_000
    n_fft: int = 1024
    win_length: int = 1024  # 64 ms
    hop_length: int = 307  # 70% overlap: round(0.3 * 1024); the authors' code uses 320 (68.75%)
    peak_normalize: bool = True  # the authors' loader divides each waveform by its peak

    @property
    def n_bins(self) -> int:  # D
        return self.n_fft // 2 + 1

    @property
    def frame_rate_hz(self) -> float:  # 16000 / 307 = 52.12 frames per second
        return self.sample_rate / self.hop_length


@dataclass(frozen=True)
class VQVAEConfig:
    """Per-frame VQ-VAE: three 1-d (transposed) convolutions on the frequency axis plus residual layers."""

    codebook_size: int = 256  # k
    code_dim: int = 8  # e
    hidden: int = 32  # channels (authors' code: num_hiddens)
    n_residual_layers: int = 2
    residual_hidden: int = 32
    commitment: float = 0.25  # beta of the commitment loss
    update: str = "ema"  # "ema" (decayed cluster statistics) or "straight-through" (codebook loss)
    decay: float = 0.99  # EMA decay
    dead_share: float = 0.01  # a code is dead when its EMA share of assignments is below dead_share / k
    reseed_every: int = 200  # steps between dead-code re-seeding (0: never)
    # What the first convolution sees. The model's input stays the power spectrogram (and its output a
    # power, scored by IS divergence), but "log" compresses it first: on raw power (the authors' code)
    # BatchNorm's running statistics miss the heavy-tailed batch statistics, so eval-mode codes differ
    # from training-mode ones (measured on the test corpus: eval IS 6.4 vs 1.8 in training mode).
    encoder_input: str = "log"

    def __post_init__(self) -> None:
        if self.update not in ("ema", "straight-through"):
            raise EmobenchError(f"VQ-VAE update {self.update!r}: use 'ema' or 'straight-through'")
        if self.encoder_input not in ("power", "log"):
            raise EmobenchError(f"VQ-VAE encoder_input {self.encoder_input!r}: use 'power' or 'log'")
        if self.codebook_size < 2 or self.code_dim < 1:
            raise EmobenchError(f"VQ-VAE needs codebook_size >= 2 and code_dim >= 1, got {self}")


@dataclass(frozen=True)
class MAEConfig:
    """The masked autoencoder over discrete index tokens. Token width = patch_t * patch_d * code_dim."""

    patch_t: int = 10  # t: frames per token
    patch_d: int = 4  # d: latent (frequency) positions per token
    encoder_blocks: int = 12  # L
    decoder_blocks: int = 4  # L'
    heads: int = 4
    mlp_ratio: float = 4.0
    clip_frames: int = 200  # pre-training clip (authors' code: 200 frames -> 20 x 16 = 320 tokens)
    max_frames: int = 200  # positions learned; longer inputs are encoded in windows of max_frames
    masking: str = "patch-tf"
    mask_ratio: float = 0.8
    init_embedding_from_codebook: bool = True  # section 2.2: the embedding starts as the VQ-VAE codebook
    freeze_embedding: bool = False

    def __post_init__(self) -> None:
        if self.masking not in MASKINGS:
            raise EmobenchError(f"masking {self.masking!r}: use one of {', '.join(MASKINGS)}")
        if not 0.0 < self.mask_ratio < 1.0:
            raise EmobenchError(f"mask_ratio must be in (0, 1), got {self.mask_ratio}")
        for what in ("clip_frames", "max_frames"):
            if getattr(self, what) % self.patch_t:
                raise EmobenchError(
                    f"{what}={getattr(self, what)} is not a multiple of patch_t={self.patch_t}"
                )
        if self.clip_frames > self.max_frames:
            raise EmobenchError(f"clip_frames={self.clip_frames} exceeds max_frames={self.max_frames}")


@dataclass(frozen=True)
class TrainConfig:
    """Optimiser and batch settings of one training stage. ``lr = base_lr * batch_size / lr_batch``."""

    batch_size: int
    base_lr: float
    lr_batch: int = 256  # linear scaling rule (Goyal et al.); 0 turns scaling off
    betas: tuple[float, float] = (0.9, 0.95)
    weight_decay: float = 0.05
    warmup_fraction: float = 0.1  # of the steps; cosine decay after (authors' code: 200 of 2000 epochs)
    grad_clip: float = 0.0  # 0: none
    schedule: str = "cosine"  # or "constant" (the authors' VQ-VAE: plain Adam at 1e-3)

    def lr(self) -> float:
        return self.base_lr * (self.batch_size / self.lr_batch if self.lr_batch else 1.0)


@dataclass(frozen=True)
class SerConfig:
    """SER fine-tuning (section 3.1.2): [CLS] + linear or Query2Emo, asymmetric loss for single labels."""

    head: str = "cls"  # or "query2emo"
    freeze_encoder: bool = False  # Table 1's "freeze"
    loss: str = "asl"  # asymmetric loss adapted to single labels (gamma- = 4, gamma+ = 0, eps = 0.1); or "ce"
    query_heads: int = 8  # Query2Emo attention heads (authors' code)
    query_dropout: float = 0.1

    def __post_init__(self) -> None:
        if self.head not in ("cls", "query2emo"):
            raise EmobenchError(f"SER head {self.head!r}: use 'cls' or 'query2emo'")
        if self.loss not in ("asl", "ce"):
            raise EmobenchError(f"SER loss {self.loss!r}: use 'asl' or 'ce'")


@dataclass(frozen=True)
class Preset:
    """Everything that defines a VQ-MAE-S system and how each of its stages trains."""

    name: str
    spectrogram: SpectrogramConfig
    vqvae: VQVAEConfig
    mae: MAEConfig
    vqvae_train: TrainConfig
    mae_train: TrainConfig
    ser_train: TrainConfig
    ser: SerConfig = field(default_factory=SerConfig)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _paper(name: str, **mae: Any) -> Preset:
    return Preset(
        name=name,
        spectrogram=SpectrogramConfig(),
        vqvae=VQVAEConfig(),
        mae=MAEConfig(**mae),
        # Authors' code: Adam, lr 1e-3, 1024 frames a batch, no schedule.
        vqvae_train=TrainConfig(
            batch_size=1024,
            base_lr=1e-3,
            lr_batch=0,
            betas=(0.9, 0.999),
            weight_decay=0.0,
            warmup_fraction=0.0,
            schedule="constant",
        ),
        mae_train=TrainConfig(batch_size=512, base_lr=1e-3),
        ser_train=TrainConfig(batch_size=16, base_lr=1e-4, lr_batch=0),  # authors' code: 16 a batch
    )


PRESETS: dict[str, Preset] = {
    "vqmaes-12": _paper("vqmaes-12"),
    # Frame masking (Table 2/5): tokens are whole discrete frames (t=1, d=D'), as the authors' code does
    # when it skips the (t x d) patching; token width 64 x 8 = 512.
    "vqmaes-12-frame": _paper("vqmaes-12-frame", patch_t=1, patch_d=64, masking="frame"),
    "tiny": Preset(
        name="tiny",
        spectrogram=SpectrogramConfig(n_fft=256, win_length=256, hop_length=77),  # D = 129 -> D' = 16
        vqvae=VQVAEConfig(
            codebook_size=32, code_dim=4, hidden=8, n_residual_layers=1, residual_hidden=8, reseed_every=10
        ),
        mae=MAEConfig(
            patch_t=2, patch_d=4, encoder_blocks=2, decoder_blocks=1, heads=2, clip_frames=16, max_frames=16
        ),
        vqvae_train=TrainConfig(
            batch_size=256,
            base_lr=3e-3,
            lr_batch=0,
            betas=(0.9, 0.999),
            weight_decay=0.0,
            warmup_fraction=0.0,
            schedule="constant",
        ),
        mae_train=TrainConfig(batch_size=8, base_lr=3e-3, lr_batch=0, warmup_fraction=0.0),
        ser_train=TrainConfig(batch_size=8, base_lr=1e-3, lr_batch=0, warmup_fraction=0.0),
    ),
}


def get_preset(name: str) -> Preset:
    try:
        return PRESETS[name]
    except KeyError:
        raise EmobenchError(f"unknown VQ-MAE-S config {name!r}; use one of {', '.join(PRESETS)}") from None


def _build(cls: type, data: dict[str, Any], where: str) -> Any:
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise EmobenchError(
            f"{where}: unknown {cls.__name__} fields {unknown}; was it written by a newer emobench?"
        )
    kwargs = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
    return cls(**kwargs)


def preset_from_dict(data: dict[str, Any], where: str = "config") -> Preset:
    """Inverse of ``Preset.to_dict`` (checkpoints store presets as JSON)."""
    parts = {
        "spectrogram": SpectrogramConfig,
        "vqvae": VQVAEConfig,
        "mae": MAEConfig,
        "vqvae_train": TrainConfig,
        "mae_train": TrainConfig,
        "ser_train": TrainConfig,
        "ser": SerConfig,
    }
    missing = [k for k in ("name", *parts) if k not in data]
    if missing:
        raise EmobenchError(f"{where}: VQ-MAE-S config lacks {missing}")
    return Preset(name=data["name"], **{k: _build(cls, data[k], where) for k, cls in parts.items()})


def with_overrides(preset: Preset, **sections: dict[str, Any]) -> Preset:
    """A copy with some fields replaced, e.g. ``with_overrides(p, mae={"masking": "patch-t"})``."""
    changes = {}
    for section, values in sections.items():
        if values:
            current = getattr(preset, section)
            changes[section] = _build(
                type(current), {**dataclasses.asdict(current), **values}, f"override {section}"
            )
    return dataclasses.replace(preset, **changes)

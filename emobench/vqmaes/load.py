"""Rebuild trained VQ-MAE-S parts from a checkpoint folder (any of the three kinds).

``vqvae`` checkpoints hold the VQ-VAE; ``vqmaes`` ones also the masked autoencoder; ``vqmaes-ser``
ones also a fine-tuned encoder's head and its label set. Each is self-contained, so ``-U
checkpoint=DIR`` needs one folder.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from emobench.upstreams.base import hash_files
from emobench.vqmaes import checkpoint as ckpt
from emobench.vqmaes.config import Preset, preset_from_dict
from emobench.vqmaes.heads import SerModel
from emobench.vqmaes.model import VQMAES
from emobench.vqmaes.vqvae import SpectrogramVQVAE


@dataclass
class Loaded:
    path: Path
    kind: str
    preset: Preset
    config: dict[str, Any]
    weights_sha256: str
    vqvae: SpectrogramVQVAE
    mae: VQMAES | None = None
    ser: SerModel | None = None
    labels: tuple[str, ...] = ()


def build_vqvae(preset: Preset) -> SpectrogramVQVAE:
    return SpectrogramVQVAE(cfg=preset.vqvae, n_bins=preset.spectrogram.n_bins)


def build_mae(preset: Preset, vqvae: SpectrogramVQVAE) -> VQMAES:
    return VQMAES(
        cfg=preset.mae,
        codebook_size=preset.vqvae.codebook_size,
        code_dim=preset.vqvae.code_dim,
        latent_dim=vqvae.latent_dim,
        codebook_init=vqvae.codebook.codes.detach().float().cpu(),
    )


def load(
    path: str | Path,
    *,
    kinds: tuple[str, ...] = ("vqvae", "vqmaes", "vqmaes-ser"),
    device: str | torch.device = "cpu",
) -> Loaded:
    """Everything a checkpoint holds, in eval mode on ``device``, weights frozen."""
    saved = ckpt.load_checkpoint(path, kinds=kinds, device="cpu")
    preset = preset_from_dict(saved.config["identity"]["preset"], where=str(saved.path / ckpt.CONFIG_FILE))
    vqvae = build_vqvae(preset)
    vqvae.load_state_dict(saved.state("vqvae"))
    out = Loaded(
        saved.path,
        saved.config["kind"],
        preset,
        saved.config,
        hash_files([saved.path / ckpt.MODEL_FILE]),
        vqvae,
    )
    if out.kind in ("vqmaes", "vqmaes-ser"):
        out.mae = build_mae(preset, vqvae)
        out.mae.load_state_dict(saved.state("mae"))
    if out.kind == "vqmaes-ser":
        out.labels = tuple(saved.config["identity"]["labels"])
        out.ser = SerModel(mae=out.mae, cfg=preset.ser, n_classes=len(out.labels))
        out.ser.head.load_state_dict(saved.state("head"))
    for module in (out.vqvae, out.mae, out.ser):
        if module is not None:
            module.to(device).eval().requires_grad_(False)
    return out


def predict_ser(
    path: str | Path,
    utterances,
    *,
    device: str | torch.device = "cpu",
    skipped: list[tuple[str, str]] | None = None,
) -> tuple[tuple[str, ...], torch.Tensor]:
    """(label set, probabilities [n, n_classes]) of a `train vqmaes-ser` checkpoint on utterances (whole
    utterances, windowed). Unusable audio raises its AudioError; given a ``skipped`` list, it is left out
    instead (the rows then follow the usable utterances, in order) and ``(utt id, reason)`` appended."""
    from emobench.audio import load_audio
    from emobench.errors import AudioError
    from emobench.vqmaes.inference import ser_probabilities
    from emobench.vqmaes.spectrogram import power_spectrograms

    dev = torch.device(device)
    loaded = load(path, kinds=("vqmaes-ser",), device=dev)
    silence = loaded.vqvae.encode(torch.zeros(1, loaded.vqvae.n_bins, device=dev))[0]
    codes = []
    for utt in utterances:
        try:
            power = power_spectrograms(
                [load_audio(utt, loaded.preset.spectrogram.sample_rate)], loaded.preset.spectrogram, device=dev
            )[0]
            if power.shape[0] == 0:
                raise AudioError(f"{utt.path} (utterance {utt.id}) is shorter than one STFT window; drop it")
        except AudioError as exc:
            if skipped is None:
                raise
            skipped.append((utt.id, str(exc)))
            continue
        codes.append(loaded.vqvae.encode(power))
    if not codes:
        return loaded.labels, torch.zeros(0, len(loaded.labels))
    return loaded.labels, ser_probabilities(loaded.ser, codes, silence, dev)

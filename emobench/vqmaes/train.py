"""The three VQ-MAE-S training stages as library functions (the CLI `emobench train ...` calls these).

1. ``train_vqvae``: the spectrogram VQ-VAE on random frames of the utterances (Adam, IS divergence);
2. ``train_vqmaes``: the masked autoencoder on random clips of the frozen VQ-VAE's codes;
3. ``train_ser``: fine-tuning the encoder with a [CLS] or Query2Emo head on labelled utterances,
   the encoder frozen or not (Table 1); from a ``vqvae`` checkpoint it starts from a random encoder
   (Table 1's "no pre-training" row).
Each is seeded, reports progress, checkpoints every N steps and resumes exactly (see trainer.py).
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from emobench.corpora.base import Utterance
from emobench.errors import EmobenchError
from emobench.vqmaes import load as loading
from emobench.vqmaes.config import Preset, get_preset, with_overrides
from emobench.vqmaes.data import UtteranceCodes, UtteranceFrames, step_generator, step_rng
from emobench.vqmaes.heads import SerModel, ser_loss
from emobench.vqmaes.inference import pad_windows, windows_of
from emobench.vqmaes.masking import make_mask
from emobench.vqmaes.trainer import Progress, Trainer, TrainResult

_DATA, _MASK, _RESEED = 0, 1, 2  # random streams of a step


def utterances_fingerprint(utterances: Sequence[Utterance]) -> str:
    h = hashlib.sha256()
    for u in sorted(utterances, key=lambda u: u.id):
        h.update(f"{u.id}|{u.label}\n".encode())
    return h.hexdigest()[:16]


def trained_on(utterances: Sequence[Utterance], frames: UtteranceFrames) -> dict[str, Any]:
    corpora: dict[str, int] = {}
    for u in utterances:
        corpora[u.corpus] = corpora.get(u.corpus, 0) + 1
    bad = dict(list(frames.bad.items())[:50])
    return {
        "trained_on": {"corpora": corpora, "n_utterances": len(utterances)},
        "skipped_audio": {"count": len(frames.bad), "first": bad},
    }


def _preset(config: str | Preset) -> Preset:
    return get_preset(config) if isinstance(config, str) else config


def _batch(preset_train, batch_size: int | None):
    return (
        preset_train if batch_size is None else dataclasses.replace(preset_train, batch_size=int(batch_size))
    )


def _device(device: Any) -> torch.device:
    from emobench.device import resolve_device

    return resolve_device(device)


def train_vqvae(
    utterances: Sequence[Utterance],
    *,
    out_dir: str | Path,
    config: str | Preset = "vqmaes-12",
    steps: int,
    batch_size: int | None = None,
    seed: int = 0,
    device: Any = "auto",
    amp: str | None = "auto",
    resume: bool = False,
    checkpoint_every: int = 1000,
    progress: Progress | None = None,
    cache_bytes: int = 1 << 30,
    cpu_threads: int | None = None,
) -> TrainResult:
    """Train the spectrogram VQ-VAE; ``batch_size`` counts frames (authors' code: 1024)."""
    preset = _preset(config)
    train = _batch(preset.vqvae_train, batch_size)
    dev = _device(device)
    torch.manual_seed(seed)
    model = loading.build_vqvae(preset)
    frames = UtteranceFrames(utterances, preset.spectrogram, cache_bytes=cache_bytes)
    identity = {
        "preset": dataclasses.replace(preset, vqvae_train=train).to_dict(),
        "seed": seed,
        "utterances": utterances_fingerprint(utterances),
    }
    trainer = Trainer(
        kind="vqvae",
        out_dir=out_dir,
        modules={"vqvae": model},
        params=list(model.parameters()),
        train=train,
        steps=steps,
        device=dev,
        identity=identity,
        amp=amp,
        checkpoint_every=checkpoint_every,
        progress=progress,
        optimizer="adam",
        cpu_threads=cpu_threads,
    )
    trainer.prepare(resume=resume)
    latest: dict[str, torch.Tensor] = {}

    def step_fn(step: int):
        model.train()
        x = frames.frame_batch(train.batch_size, step_rng(seed, step, _DATA)).to(dev)
        out = model(x)
        latest["latents"] = out.latents
        return out.loss, {"recon": float(out.recon_loss.detach()), "perplexity": float(out.perplexity)}

    def after_step(step: int):
        every = preset.vqvae.reseed_every
        if every and step % every == 0:
            return {
                "reseeded": model.codebook.reseed_dead(latest["latents"], step_generator(seed, step, _RESEED))
            }
        return None

    return trainer.fit(step_fn, info=lambda: trained_on(utterances, frames), after_step=after_step)


def train_vqmaes(
    utterances: Sequence[Utterance],
    *,
    vqvae: str | Path,
    out_dir: str | Path,
    config: str | Preset | None = None,
    steps: int,
    batch_size: int | None = None,
    seed: int = 0,
    device: Any = "auto",
    amp: str | None = "auto",
    resume: bool = False,
    checkpoint_every: int = 1000,
    progress: Progress | None = None,
    masking: str | None = None,
    mask_ratio: float | None = None,
    cache_bytes: int = 1 << 30,
    cpu_threads: int | None = None,
) -> TrainResult:
    """Pre-train the masked autoencoder on the codes of a trained VQ-VAE (``vqvae``: its folder).

    The spectrogram and VQ-VAE settings come from that checkpoint; ``config`` (default: the VQ-VAE's)
    gives the autoencoder and its training settings."""
    dev = _device(device)
    vq = loading.load(vqvae, kinds=("vqvae",), device=dev)
    base = _preset(config) if config is not None else vq.preset
    preset = dataclasses.replace(base, spectrogram=vq.preset.spectrogram, vqvae=vq.preset.vqvae)
    preset = with_overrides(
        preset, mae={k: v for k, v in (("masking", masking), ("mask_ratio", mask_ratio)) if v is not None}
    )
    train = _batch(preset.mae_train, batch_size)
    torch.manual_seed(seed)
    mae = loading.build_mae(preset, vq.vqvae.cpu())
    vq.vqvae.to(dev)
    codes = UtteranceCodes(
        UtteranceFrames(utterances, preset.spectrogram, cache_bytes=0),
        vq.vqvae,
        device=dev,
        cache_bytes=cache_bytes,
    )
    cfg = preset.mae
    n_t, n_d = cfg.clip_frames // cfg.patch_t, mae.n_d
    make_mask(cfg.masking, n_t, n_d, cfg.mask_ratio, batch=1)  # fail before any training on a bad combination
    identity = {
        "preset": dataclasses.replace(preset, mae_train=train).to_dict(),
        "seed": seed,
        "utterances": utterances_fingerprint(utterances),
        "vqvae_sha256": vq.weights_sha256,
    }
    trainer = Trainer(
        kind="vqmaes",
        out_dir=out_dir,
        modules={"vqvae": vq.vqvae, "mae": mae},
        params=list(mae.parameters()),
        train=train,
        steps=steps,
        device=dev,
        identity=identity,
        amp=amp,
        checkpoint_every=checkpoint_every,
        progress=progress,
        cpu_threads=cpu_threads,
    )
    trainer.prepare(resume=resume)

    def step_fn(step: int):
        mae.train()
        clips = codes.clip_batch(train.batch_size, cfg.clip_frames, step_rng(seed, step, _DATA)).to(dev)
        mask = make_mask(
            cfg.masking,
            n_t,
            n_d,
            cfg.mask_ratio,
            batch=train.batch_size,
            generator=step_generator(seed, step, _MASK),
        )
        return mae.pretrain_loss(clips, mask.to(dev)), {}

    info = lambda: {**trained_on(utterances, codes.frames), "vqvae_checkpoint": str(vq.path)}  # noqa: E731
    return trainer.fit(step_fn, info=info)


def train_ser(
    utterances: Sequence[Utterance],
    *,
    checkpoint: str | Path,
    out_dir: str | Path,
    labels: Sequence[str] | None = None,
    head: str = "cls",
    freeze_encoder: bool = False,
    loss: str = "asl",
    steps: int,
    batch_size: int | None = None,
    seed: int = 0,
    device: Any = "auto",
    amp: str | None = "auto",
    resume: bool = False,
    checkpoint_every: int = 1000,
    progress: Progress | None = None,
    cache_bytes: int = 1 << 30,
    cpu_threads: int | None = None,
) -> TrainResult:
    """Fine-tune for SER. ``labels`` orders the classes (default: the sorted labels present)."""
    dev = _device(device)
    src = loading.load(checkpoint, kinds=("vqvae", "vqmaes"), device="cpu")
    labels = tuple(labels) if labels is not None else tuple(sorted({u.label for u in utterances}))
    unknown = sorted({u.label for u in utterances} - set(labels))
    if unknown:
        raise EmobenchError(f"utterances carry labels {unknown} outside the label set {list(labels)}")
    preset = with_overrides(src.preset, ser={"head": head, "freeze_encoder": freeze_encoder, "loss": loss})
    train = _batch(preset.ser_train, batch_size)
    torch.manual_seed(seed)
    mae = src.mae if src.mae is not None else loading.build_mae(preset, src.vqvae)  # no pre-training
    mae.requires_grad_(True)
    model = SerModel(mae=mae, cfg=preset.ser, n_classes=len(labels))
    src.vqvae.to(dev)
    codes = UtteranceCodes(
        UtteranceFrames(utterances, preset.spectrogram, cache_bytes=0),
        src.vqvae,
        device=dev,
        cache_bytes=cache_bytes,
    )
    target = torch.tensor([labels.index(u.label) for u in utterances])
    identity = {
        "preset": dataclasses.replace(preset, ser_train=train).to_dict(),
        "seed": seed,
        "utterances": utterances_fingerprint(utterances),
        "labels": list(labels),
        "source_sha256": src.weights_sha256,
        "source_kind": src.kind,
    }
    trainer = Trainer(
        kind="vqmaes-ser",
        out_dir=out_dir,
        modules={"vqvae": src.vqvae, "mae": mae, "head": model.head},
        params=[p for p in model.parameters() if p.requires_grad],
        train=train,
        steps=steps,
        device=dev,
        identity=identity,
        amp=amp,
        checkpoint_every=checkpoint_every,
        progress=progress,
        cpu_threads=cpu_threads,
    )
    trainer.prepare(resume=resume)
    clip = preset.mae.max_frames

    def step_fn(step: int):
        model.train()
        rng = step_rng(seed, step, _DATA)
        picked = [codes.pick(rng) for _ in range(train.batch_size)]
        windows = [
            windows_of(codes.crop(c, min(c.shape[0], clip), rng), mae, codes.silence)[0] for _, c in picked
        ]
        tokens, n_valid = pad_windows(windows, mae.n_d, dev)
        logits = model(tokens, n_valid)
        y = target[[i for i, _ in picked]].to(dev)
        acc = float((logits.argmax(-1) == y).float().mean())
        return ser_loss(preset.ser, logits, y), {"accuracy": acc}

    info = lambda: {**trained_on(utterances, codes.frames), "source_checkpoint": str(src.path)}  # noqa: E731
    return trainer.fit(step_fn, info=info)


def fit_vqvae_on_frames(
    frames: torch.Tensor,
    *,
    cfg,
    steps: int,
    batch_size: int,
    lr: float,
    seed: int = 0,
    device: Any = "cpu",
    progress: Progress | None = None,
) -> tuple[Any, list[dict]]:
    """Train a VQ-VAE on power frames [n, D] held in memory (the quantizer plugin's fit; no checkpoints)."""
    from emobench.vqmaes.vqvae import SpectrogramVQVAE

    dev = _device(device)
    torch.manual_seed(seed)
    model = SpectrogramVQVAE(cfg=cfg, n_bins=frames.shape[1]).to(dev)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    history = []
    model.train()
    for step in range(1, steps + 1):
        rows = torch.from_numpy(step_rng(seed, step, _DATA).integers(frames.shape[0], size=batch_size))
        out = model(frames[rows].to(dev))
        out.loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        record = {"step": step, "loss": float(out.loss.detach()), "perplexity": float(out.perplexity)}
        if cfg.reseed_every and step % cfg.reseed_every == 0:
            record["reseeded"] = model.codebook.reseed_dead(out.latents, step_generator(seed, step, _RESEED))
        history.append(record)
        if progress:
            progress("vqvae: steps", step, steps)
    return model.eval(), history

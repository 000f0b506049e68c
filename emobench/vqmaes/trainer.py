"""One training loop for every VQ-MAE-S stage: AdamW, warm-up + cosine, AMP, checkpoints, exact resume.

Resuming is exact because nothing random is left outside a checkpoint: weights, buffers (BatchNorm,
EMA codebook), optimiser moments, the GradScaler and torch's RNG states are saved, the schedule is a
function of the step, and batches and masks are functions of (seed, step) (``data.step_rng``). So a
run killed after checkpoint s and resumed computes the same loss at step s + 1 as one never stopped
(bit for bit on the same device and thread count).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from emobench.errors import EmobenchError
from emobench.vqmaes import checkpoint as ckpt
from emobench.vqmaes.config import TrainConfig

Progress = Callable[[str, int, int], None]
HISTORY_KEPT = 2000  # per-step records kept in config.json (the run's full history is returned)


@dataclass
class TrainResult:
    out_dir: Path
    checkpoint: Path
    step: int
    history: list[dict[str, float]] = field(default_factory=list)  # this process' steps
    resumed_from: int = 0


def lr_at(step: int, steps: int, cfg: TrainConfig) -> float:
    """Learning rate of 1-based ``step``: linear warm-up over warmup_fraction of the steps, cosine to 0."""
    peak = cfg.lr()
    warm = int(round(cfg.warmup_fraction * steps))
    if step <= warm:
        return peak * step / max(warm, 1)
    if cfg.schedule == "constant":
        return peak
    progress = (step - warm - 1) / max(steps - warm, 1)  # the last step still learns
    return peak * 0.5 * (1 + math.cos(math.pi * min(progress, 1.0)))


def amp_dtype(amp: str | None, device: torch.device) -> torch.dtype:
    """ "auto": bf16 on a GPU that has it, else fp16 on a GPU, fp32 on CPU; or an explicit fp32/fp16/bf16."""
    from emobench.device import resolve_dtype

    if amp in (None, "auto"):
        if device.type != "cuda":
            return torch.float32
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return resolve_dtype(amp, device)


class Trainer:
    """Runs ``step_fn(step) -> (loss, stats)`` for steps 1..``steps`` with checkpoints in ``out_dir``."""

    def __init__(
        self,
        *,
        kind: str,
        out_dir: str | Path,
        modules: Mapping[str, nn.Module],
        params: Sequence[nn.Parameter],
        train: TrainConfig,
        steps: int,
        device: torch.device,
        identity: Mapping[str, Any],
        amp: str | None = "auto",
        checkpoint_every: int = 1000,
        keep: int = 2,
        progress: Progress | None = None,
        optimizer: str = "adamw",
        cpu_threads: int | None = None,
    ):
        if steps < 1:
            raise EmobenchError(f"--steps must be at least 1, got {steps}")
        self.kind, self.out_dir, self.modules = kind, Path(out_dir), dict(modules)
        self.train, self.steps, self.device, self.identity = train, int(steps), device, dict(identity)
        self.checkpoint_every, self.keep, self.progress = max(int(checkpoint_every), 1), keep, progress
        self.cpu_threads = cpu_threads
        for module in self.modules.values():  # before the optimiser sees them: its state follows the params
            module.to(device)
        self.dtype = amp_dtype(amp, device)
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.dtype == torch.float16)
        trainable = [p for p in params if p.requires_grad]
        if not trainable:
            raise EmobenchError(f"{kind}: nothing to train (every parameter is frozen)")
        opt_cls = torch.optim.AdamW if optimizer == "adamw" else torch.optim.Adam
        self.optimizer = opt_cls(
            trainable, lr=train.lr(), betas=tuple(train.betas), weight_decay=train.weight_decay
        )
        self.history: list[dict[str, float]] = []
        self.saved_history: list[dict[str, float]] = []
        self.start_step, self.elapsed_s = 0, 0.0

    # -- resume ---------------------------------------------------------------------------------
    def prepare(self, *, resume: bool) -> int:
        """Load the latest checkpoint when resuming; returns the step it holds (0: fresh start)."""
        has_latest = (self.out_dir / ckpt.LATEST_FILE).is_file()
        if not resume:
            if has_latest:
                raise EmobenchError(
                    f"{self.out_dir} already holds a training run; pass --resume to continue it "
                    "or choose a fresh --out"
                )
            return 0
        if not has_latest:
            return 0
        saved = ckpt.load_checkpoint(self.out_dir, kinds=(self.kind,), device="cpu")
        ckpt.check_same_config(saved.config.get("identity", {}), self.identity, saved.path)
        for prefix, module in self.modules.items():
            module.load_state_dict(saved.state(prefix))
        ckpt.restore_optimizer(self.optimizer, saved.path, saved.config["optimizer"])
        if saved.config.get("scaler") and self.scaler.is_enabled():
            self.scaler.load_state_dict(saved.config["scaler"])
        self.saved_history = list(saved.config.get("history", []))
        self.elapsed_s = float(saved.config.get("elapsed_s", 0.0))
        self.start_step = int(saved.config["step"])
        return self.start_step

    # -- the loop ---------------------------------------------------------------------------------
    def autocast(self):
        if self.dtype == torch.float32:
            return nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=self.dtype)

    def fit(
        self,
        step_fn: Callable[[int], tuple[torch.Tensor, dict[str, float]]],
        info: Callable[[], dict[str, Any]] | None = None,
        after_step: Callable[[int], dict[str, float] | None] | None = None,
    ) -> TrainResult:
        """Steps ``start+1..steps``; ``cpu_threads`` (on CPU) caps torch's threads meanwhile: small models
        on a shared machine run several times faster on one thread than on contended ones."""
        before = torch.get_num_threads()
        if self.cpu_threads and self.device.type == "cpu":
            torch.set_num_threads(int(self.cpu_threads))
        try:
            return self._fit(step_fn, info, after_step)
        finally:
            torch.set_num_threads(before)

    def _fit(self, step_fn, info, after_step) -> TrainResult:
        last = self.out_dir / ckpt.step_dir_name(self.start_step)
        t0 = time.perf_counter()
        for step in range(self.start_step + 1, self.steps + 1):
            lr = lr_at(step, self.steps, self.train)
            for group in self.optimizer.param_groups:
                group["lr"] = lr
            with self.autocast():
                loss, stats = step_fn(step)
            if not torch.isfinite(loss.detach()):
                raise EmobenchError(
                    f"{self.kind}: loss became {float(loss)} at step {step}; lower the learning "
                    "rate or use --amp fp32"
                )
            self.scaler.scale(loss).backward()
            if self.train.grad_clip:
                self.scaler.unscale_(self.optimizer)
                torch.nn.utils.clip_grad_norm_(
                    [p for g in self.optimizer.param_groups for p in g["params"]], self.train.grad_clip
                )
            self.scaler.step(self.optimizer)
            self.scaler.update()
            self.optimizer.zero_grad(set_to_none=True)
            record = {"step": step, "loss": float(loss.detach()), "lr": lr, **stats}
            if after_step is not None:
                record.update(after_step(step) or {})
            self.history.append(record)
            if self.progress:
                self.progress(f"{self.kind}: step (loss {record['loss']:.4f})", step, self.steps)
            if step % self.checkpoint_every == 0 or step == self.steps:
                last = self.save(step, time.perf_counter() - t0, info)
        return TrainResult(self.out_dir, last, self.steps, self.history, self.start_step)

    def save(self, step: int, run_s: float, info: Callable[[], dict[str, Any]] | None) -> Path:
        from emobench import __version__

        history = (self.saved_history + self.history)[-HISTORY_KEPT:]
        config = {
            "kind": self.kind,
            "identity": self.identity,
            "step": step,
            "steps": self.steps,
            "amp": str(self.dtype).removeprefix("torch."),
            "device_type": self.device.type,
            "elapsed_s": round(self.elapsed_s + run_s, 3),
            "emobench": __version__,
            "torch": torch.__version__,
            "history": history,
            **(info() if info else {}),
        }
        path = ckpt.save_checkpoint(
            self.out_dir / ckpt.step_dir_name(step),
            config=config,
            modules=self.modules,
            optimizer=self.optimizer,
            scaler=self.scaler,
        )
        ckpt.mark_latest(self.out_dir, step, keep=self.keep)
        return path

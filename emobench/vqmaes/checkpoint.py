"""Checkpoints without pickle: weights and optimiser state as safetensors, everything else as JSON.

A checkpoint is a folder: ``model.safetensors`` (module weights and buffers, keys prefixed by module
name: ``vqvae.``, ``mae.``, ``head.``), ``optimizer.safetensors`` (optimiser tensors and the torch RNG
states, for resuming) and ``config.json`` (written last, so its presence marks a complete save). A
training run's output folder holds ``step-NNNNNNN/`` checkpoints and a ``LATEST`` file naming the
newest; pointing any loader at the output folder means its latest checkpoint.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from emobench.errors import CacheError, EmobenchError
from emobench.fsutil import atomic_path, atomic_write_json, atomic_write_text

SCHEMA_VERSION = 1
MODEL_FILE, OPTIMIZER_FILE, CONFIG_FILE, LATEST_FILE = (
    "model.safetensors",
    "optimizer.safetensors",
    "config.json",
    "LATEST",
)


class CheckpointError(CacheError):
    """A checkpoint folder that is missing, incomplete, or of another kind than asked for."""


@dataclass
class Checkpoint:
    path: Path
    config: dict[str, Any]
    weights: dict[str, torch.Tensor]

    def state(self, prefix: str) -> dict[str, torch.Tensor]:
        """Weights of one module (``prefix`` without the dot)."""
        head = prefix + "."
        out = {k[len(head) :]: v for k, v in self.weights.items() if k.startswith(head)}
        if not out:
            raise CheckpointError(
                f"{self.path}: holds no '{prefix}' weights (it is a {self.config.get('kind')} checkpoint)"
            )
        return out


def resolve(path: str | Path) -> Path:
    """A checkpoint folder, or a training output folder (-> its latest checkpoint)."""
    path = Path(path).expanduser()
    if (path / CONFIG_FILE).is_file():
        return path
    if (path / LATEST_FILE).is_file():
        latest = path / (path / LATEST_FILE).read_text().strip()
        if (latest / CONFIG_FILE).is_file():
            return latest
        raise CheckpointError(
            f"{path}: LATEST names {latest.name}, which is incomplete; delete it and resume"
        )
    raise CheckpointError(
        f"{path}: no VQ-MAE-S checkpoint ({CONFIG_FILE}) nor training output ({LATEST_FILE}); "
        "train one with `emobench train vqvae|vqmaes`"
    )


def load_checkpoint(
    path: str | Path,
    *,
    kinds: tuple[str, ...] | None = None,
    device: str | torch.device = "cpu",
) -> Checkpoint:
    from safetensors.torch import load_file

    directory = resolve(path)
    try:
        config = json.loads((directory / CONFIG_FILE).read_text())
    except ValueError as exc:
        raise CheckpointError(f"{directory / CONFIG_FILE}: not valid JSON ({exc})") from exc
    if config.get("schema_version") != SCHEMA_VERSION:
        raise CheckpointError(
            f"{directory}: checkpoint schema {config.get('schema_version')}, expected {SCHEMA_VERSION}"
        )
    if kinds and config.get("kind") not in kinds:
        raise CheckpointError(
            f"{directory}: is a {config.get('kind')!r} checkpoint; expected {' or '.join(kinds)}"
        )
    try:
        weights = load_file(str(directory / MODEL_FILE), device=str(device))
    except Exception as exc:
        raise CheckpointError(f"{directory / MODEL_FILE}: unreadable ({exc}); retrain or re-copy it") from exc
    return Checkpoint(directory, config, weights)


def module_tensors(modules: Mapping[str, nn.Module]) -> dict[str, torch.Tensor]:
    out = {}
    for prefix, module in modules.items():
        for k, v in module.state_dict().items():
            out[f"{prefix}.{k}"] = v.detach().cpu().contiguous()
    return out


def save_checkpoint(
    directory: str | Path,
    *,
    config: dict[str, Any],
    modules: Mapping[str, nn.Module],
    optimizer: torch.optim.Optimizer | None = None,
    scaler: Any = None,
) -> Path:
    """Write one checkpoint folder (weights, then optimiser + RNG, then config.json last)."""
    from safetensors.torch import save_file

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    meta = {"schema_version": str(SCHEMA_VERSION)}
    with atomic_path(directory / MODEL_FILE) as tmp:
        save_file(module_tensors(modules), str(tmp), metadata=meta)
    config = {"schema_version": SCHEMA_VERSION, **config}
    if optimizer is not None:
        tensors, opt_meta = optimizer_tensors(optimizer)
        tensors.update(rng_tensors())
        with atomic_path(directory / OPTIMIZER_FILE) as tmp:
            save_file(tensors, str(tmp), metadata=meta)
        config["optimizer"] = opt_meta
        config["scaler"] = scaler.state_dict() if scaler is not None and scaler.is_enabled() else None
    atomic_write_json(directory / CONFIG_FILE, config)
    return directory


def optimizer_tensors(optimizer: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Split an optimiser state_dict into tensors (safetensors) and JSON (param groups, scalars)."""
    state = optimizer.state_dict()
    tensors, scalars = {}, {}
    for pid, entries in state["state"].items():
        for key, value in entries.items():
            if isinstance(value, torch.Tensor):
                tensors[f"state.{pid}.{key}"] = value.detach().cpu().contiguous()
            else:
                scalars[f"{pid}.{key}"] = value
    return tensors, {"param_groups": state["param_groups"], "scalars": scalars}


def restore_optimizer(optimizer: torch.optim.Optimizer, directory: Path, opt_meta: dict[str, Any]) -> None:
    """Load optimiser state and torch RNG states saved by ``save_checkpoint``."""
    from safetensors.torch import load_file

    tensors = load_file(str(directory / OPTIMIZER_FILE))
    state: dict[int, dict[str, Any]] = {}
    for key, value in tensors.items():
        if key.startswith("state."):
            _, pid, name = key.split(".", 2)
            state.setdefault(int(pid), {})[name] = value
    for key, value in opt_meta["scalars"].items():
        pid, name = key.split(".", 1)
        state.setdefault(int(pid), {})[name] = value
    groups = [{**g, "betas": tuple(g["betas"])} if "betas" in g else g for g in opt_meta["param_groups"]]
    optimizer.load_state_dict({"state": state, "param_groups": groups})
    set_rng(tensors)


def rng_tensors() -> dict[str, torch.Tensor]:
    out = {"rng.cpu": torch.get_rng_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        for i, s in enumerate(torch.cuda.get_rng_state_all()):
            out[f"rng.cuda.{i}"] = s
    return out


def set_rng(tensors: Mapping[str, torch.Tensor]) -> None:
    if "rng.cpu" in tensors:
        torch.set_rng_state(tensors["rng.cpu"])
    cuda = [tensors[k] for k in sorted(tensors) if k.startswith("rng.cuda.")]
    if cuda and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(cuda[: torch.cuda.device_count()])


def step_dir_name(step: int) -> str:
    return f"step-{step:07d}"


def mark_latest(out_dir: Path, step: int, *, keep: int = 2) -> None:
    """Point LATEST at ``step``'s checkpoint and delete older complete ones beyond ``keep``."""
    atomic_write_text(out_dir / LATEST_FILE, step_dir_name(step) + "\n")
    steps = sorted(p for p in out_dir.glob("step-*") if p.is_dir())
    for old in steps[:-keep] if keep > 0 else []:
        if old.name != step_dir_name(step):
            shutil.rmtree(old, ignore_errors=True)


def check_same_config(saved: Mapping[str, Any], current: Mapping[str, Any], where: Path) -> None:
    """Resuming needs the same settings; the first changed field is named rather than silently mixed."""
    diff = _first_difference(json.loads(json.dumps(saved)), json.loads(json.dumps(current)))
    if diff is not None:
        key, old, new = diff
        raise EmobenchError(
            f"{where}: cannot resume, the saved run's {key!r} was {old!r} but this run's is {new!r}; "
            "use the same options or a fresh --out"
        )


def _first_difference(a: Any, b: Any, path: str = "") -> tuple[str, Any, Any] | None:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            found = _first_difference(a.get(key), b.get(key), f"{path}.{key}" if path else key)
            if found:
                return found
        return None
    return None if a == b else (path, a, b)

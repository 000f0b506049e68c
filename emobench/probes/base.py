"""The probe API: a classifier trained on continuous features and applied to quantized ones.

``fit(X_train, y_train, X_val, y_val, *, n_classes, seed=0, device="cpu") -> self``,
``predict_proba(X) -> [N, C]``, ``predict(X) -> [N]``, ``save(dir)`` / ``load(dir)``.
``X`` is ``[N, D]`` mean-pooled features (``[N, L, D]``, one row per layer, for the multi-layer
probe); ``y`` holds class indices ``0..n_classes-1``. ``TorchProbe`` implements the shared
training loop (standardisation with train statistics, AdamW or Adam + cross-entropy, minibatches, model
selection on validation UAR or accuracy with early stopping, seeded) and persistence (weights in
``probe.safetensors``, config in ``probe.json``; no pickle). Subclasses only build the network.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, Protocol, runtime_checkable

import numpy as np
from annotated_types import Ge, Gt, Lt

from emobench.errors import CacheError, EmobenchError
from emobench.fsutil import atomic_path, atomic_write_json

SCHEMA_VERSION = 1
WEIGHTS_FILE = "probe.safetensors"
CONFIG_FILE = "probe.json"


class ProbeError(EmobenchError, ValueError):
    """Bad input to a probe: unfitted, wrong shape, labels out of range."""


@runtime_checkable
class Probe(Protocol):
    def fit(self, X_train, y_train, X_val=None, y_val=None, *, n_classes: int, seed: int = 0,
            device: Any = "cpu") -> Probe: ...

    def predict_proba(self, X) -> np.ndarray: ...

    def predict(self, X) -> np.ndarray: ...

    def save(self, directory: str | Path) -> Path: ...


@dataclass
class TrainConfig:
    """Training hyper-parameters. Defaults follow the SUPERB emotion probe and the cross-lingual
    probing paper (lr 5e-4, weight decay 1e-4, betas (0.9, 0.98); AdamW, where the paper uses Adam:
    its presets set ``optimizer="adam"``), with more epochs and early stopping because mean-pooled
    features give few steps per epoch (``min_steps`` makes a small training set run enough epochs, and
    early stopping waits for it)."""

    lr: Annotated[float, Gt(0)] = 5e-4
    weight_decay: Annotated[float, Ge(0)] = 1e-4
    betas: tuple[Annotated[float, Ge(0), Lt(1)], Annotated[float, Ge(0), Lt(1)]] = (0.9, 0.98)
    epochs: Annotated[int, Ge(1)] = 100
    batch_size: Annotated[int, Ge(0)] = 32  # 0: full batch
    patience: Annotated[int, Ge(1)] = 15  # epochs without validation improvement before stopping
    min_steps: Annotated[int, Ge(0)] = 600  # small training sets get more epochs, so that they get this many steps
    select_on: Literal["uar", "accuracy", "loss"] = "uar"
    standardize: bool = True
    class_weight: Literal["balanced"] | None = None
    # "adam": Adam with L2 weight decay added to the gradient (torch.optim.Adam), as PEFT-SER and the
    # cross-lingual probing paper train their probes; "adamw": decoupled weight decay (the default)
    optimizer: Literal["adamw", "adam"] = "adamw"
    eps: Annotated[float, Gt(0)] = 1e-8


def check_labels(y, n: int, n_classes: int, where: str) -> np.ndarray:
    y = np.asarray(y)
    if y.shape != (n,):
        raise ProbeError(f"{where}: labels must be [N={n}] class indices, got shape {y.shape}")
    if not np.issubdtype(y.dtype, np.integer):
        raise ProbeError(f"{where}: labels must be integer class indices, got dtype {y.dtype}; map names with labels.index")
    if n and (y.min() < 0 or y.max() >= n_classes):
        raise ProbeError(f"{where}: labels must lie in 0..{n_classes - 1}, found {y.min()}..{y.max()}")
    return y.astype(np.int64)


class TorchProbe:
    """Shared training loop and persistence. Subclasses set ``input_ndim`` and ``_build``."""

    registry_name: ClassVar[str] = ""
    input_ndim: ClassVar[int] = 2  # 2: [N, D]; 3: [N, L, D]
    frame_level: ClassVar[bool] = False  # True: reads each utterance's frames (emobench.probes.frame_probe)
    extra_params: ClassVar[type] = TrainConfig  # the keys ``**train`` takes (checked before any work)

    def __init__(self, **train: Any):
        names = {f.name for f in fields(TrainConfig)}
        unknown = set(train) - names
        if unknown:
            raise TypeError(f"{type(self).__name__}: unknown parameters {sorted(unknown)}")
        if "betas" in train:
            train["betas"] = tuple(train["betas"])
        self.train_config = TrainConfig(**train)
        if self.train_config.select_on not in ("uar", "accuracy", "loss"):
            raise ValueError(f"select_on must be 'uar', 'accuracy' or 'loss', got {self.train_config.select_on!r}")
        self.model = None
        self.n_classes: int | None = None
        self.input_shape: tuple[int, ...] | None = None  # per-item shape: (D,) or (L, D)
        self.device = "cpu"
        self.history: dict[str, Any] = {}

    # -- subclass hooks ------------------------------------------------------------------------
    def _build(self, input_shape: tuple[int, ...], n_classes: int):  # -> torch.nn.Module
        raise NotImplementedError

    def arch_params(self) -> dict[str, Any]:
        """Constructor params beyond TrainConfig (hidden size, dropout, ...)."""
        return {}

    def _lr_scales(self) -> dict[str, float]:
        """Parameter-name fragment -> learning-rate multiplier (e.g. the multi-layer probe's weights)."""
        return {}

    def layers_read(self, n_layers: int) -> list[int]:
        """The upstream layers a several-layer probe (spec ``input: layers``) reads: all of them."""
        return list(range(int(n_layers)))

    # -- input checks --------------------------------------------------------------------------
    def _check_X(self, X, where: str) -> np.ndarray:
        X = np.asarray(X, dtype=np.float32)
        if X.ndim != self.input_ndim:
            shape = "[N, D]" if self.input_ndim == 2 else "[N, layers, D]"
            raise ProbeError(f"{type(self).__name__}.{where}: expected features {shape}, got shape {X.shape}")
        if self.input_shape is not None and X.shape[1:] != self.input_shape:
            raise ProbeError(
                f"{type(self).__name__}.{where}: fitted on items of shape {self.input_shape}, got {X.shape[1:]}; "
                "use the upstream/layer the probe was trained on"
            )
        if not np.isfinite(X).all():
            raise ProbeError(f"{type(self).__name__}.{where}: features contain NaN or inf")
        return X

    # -- training ------------------------------------------------------------------------------
    def fit(self, X_train, y_train, X_val=None, y_val=None, *, n_classes: int, seed: int = 0,
            device: Any = "cpu") -> TorchProbe:
        import torch

        from emobench.device import one_cpu_thread
        from emobench.probes.train import train_loop

        X_train = self._check_X(X_train, "fit")
        y_train = check_labels(y_train, len(X_train), n_classes, f"{type(self).__name__}.fit")
        if len(X_train) == 0:
            raise ProbeError(f"{type(self).__name__}.fit: no training items")
        if X_val is not None and len(X_val):
            X_val = self._check_X(X_val, "fit (validation)")
            y_val = check_labels(y_val, len(X_val), n_classes, f"{type(self).__name__}.fit (validation)")
        else:
            X_val = y_val = None
        self.n_classes, self.input_shape = int(n_classes), tuple(X_train.shape[1:])
        self.device = str(torch.device(device))
        dev = torch.device(self.device)
        devices = [dev.index or 0] if dev.type == "cuda" else []
        with torch.random.fork_rng(devices=devices), one_cpu_thread(dev):  # caller's RNG state untouched
            torch.manual_seed(seed)
            self.model = self._make_model()
            self._set_standardizer(X_train)
            self.model.to(dev)
            self.history = train_loop(self.model, X_train, y_train, X_val, y_val, self.train_config,
                                      n_classes=self.n_classes, device=dev, seed=seed,
                                      lr_scales=self._lr_scales())
        self.model.eval()
        return self

    def _make_model(self):
        from emobench.probes.train import Standardized

        return Standardized(self._build(self.input_shape, self.n_classes), self.input_shape)

    def _set_standardizer(self, X: np.ndarray) -> None:
        import torch

        if not self.train_config.standardize:
            return
        std = X.std(axis=0)
        std = np.where(std > 1e-8, std, 1.0)  # constant features: leave unscaled, never divide by 0
        self.model.feat_mean.copy_(torch.as_tensor(X.mean(axis=0)))
        self.model.feat_std.copy_(torch.as_tensor(std))

    # -- inference -----------------------------------------------------------------------------
    def logits(self, X, batch_size: int = 8192) -> np.ndarray:
        import torch

        if self.model is None:
            raise ProbeError(f"{type(self).__name__}: the probe is not fitted; call fit() or load()")
        X = self._check_X(X, "predict")
        dev = torch.device(self.device)
        out = []
        with torch.no_grad():
            for start in range(0, len(X), batch_size):
                xb = torch.as_tensor(X[start : start + batch_size], device=dev)
                out.append(self.model(xb).float().cpu().numpy())
        return np.concatenate(out) if out else np.zeros((0, self.n_classes), np.float32)

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities ``[N, C]`` (float64 softmax of the logits)."""
        z = self.logits(X).astype(np.float64)
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        return p / p.sum(axis=1, keepdims=True)

    def predict(self, X) -> np.ndarray:
        """Class indices ``[N]`` (argmax; ties go to the lower index)."""
        return self.logits(X).argmax(axis=1).astype(np.int64)

    # -- persistence ---------------------------------------------------------------------------
    def config(self) -> dict[str, Any]:
        train = asdict(self.train_config)
        train["betas"] = list(train["betas"])
        return {
            "schema_version": SCHEMA_VERSION, "probe": self.registry_name, "class": type(self).__name__,
            "params": {**train, **self.arch_params()}, "n_classes": self.n_classes,
            "input_shape": list(self.input_shape or ()), "history": self.history,
        }

    def save(self, directory: str | Path) -> Path:
        """Write ``probe.safetensors`` then ``probe.json`` (the JSON marks a complete save)."""
        from safetensors.torch import save_file

        if self.model is None:
            raise ProbeError(f"{type(self).__name__}.save: nothing to save, the probe is not fitted")
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        tensors = {k: v.detach().cpu().contiguous() for k, v in self.model.state_dict().items()}
        with atomic_path(directory / WEIGHTS_FILE) as tmp:
            save_file(tensors, str(tmp), metadata={"schema_version": str(SCHEMA_VERSION)})
        atomic_write_json(directory / CONFIG_FILE, self.config())
        return directory

    @classmethod
    def load(cls, directory: str | Path, *, device: Any = "cpu") -> TorchProbe:
        import torch
        from safetensors.torch import load_file

        directory = Path(directory)
        config = read_probe_config(directory)
        if config.get("class") != cls.__name__:
            raise ProbeError(f"{directory}: holds a {config.get('class')}, not a {cls.__name__}; use load_probe()")
        probe = cls(**config["params"])
        probe.n_classes, probe.input_shape = int(config["n_classes"]), tuple(config["input_shape"])
        probe.history = config.get("history") or {}
        probe.device = str(torch.device(device))
        with torch.random.fork_rng(devices=[]):
            probe.model = probe._make_model()
        try:
            state = load_file(str(directory / WEIGHTS_FILE))
            probe.model.load_state_dict(state)
        except Exception as exc:
            raise CacheError(f"{directory / WEIGHTS_FILE}: unreadable or wrong shapes ({exc}); retrain the probe") from exc
        probe.model.to(torch.device(probe.device)).eval()
        return probe


def read_probe_config(directory: Path) -> dict[str, Any]:
    path = directory / CONFIG_FILE
    if not path.is_file():
        raise CacheError(f"{directory}: no saved probe ({CONFIG_FILE}); train and save one first")
    try:
        config = json.loads(path.read_text())
    except ValueError as exc:
        raise CacheError(f"{path}: not valid JSON ({exc}); delete it and retrain") from exc
    if config.get("schema_version") != SCHEMA_VERSION:
        raise CacheError(f"{path}: schema_version {config.get('schema_version')} is not {SCHEMA_VERSION}; retrain")
    return config


def load_probe(directory: str | Path, *, device: Any = "cpu"):
    """Load any saved probe, dispatching on its registry name (only registered probes are imported)."""
    from emobench.registries import probes

    directory = Path(directory)
    config = read_probe_config(directory)
    cls = probes.load(config.get("probe") or "?")
    return cls.load(directory, device=device)

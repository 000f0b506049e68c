"""emotion2vec's own 9-class classification head, restricted to the task's label set (Emo-Q paper
section 3.2: "the official emotion2vec pretrained linear head (restricted to four emotions)").

Nothing is trained: probabilities of the 9 emotion2vec classes (softmax of the model's projection of the
mean-pooled last layer, as funasr's ``generate`` computes them) are restricted to the labels and
renormalised. The head comes from one of (in this order):
  * ``classifier``: any callable ``X [N, D] -> [N, 9]`` probabilities;
  * ``weight [9, D]`` / ``bias [9]`` arrays, or ``head_path``: a safetensors file holding them
    (keys ``weight``/``bias`` or emotion2vec's ``proj.weight``/``proj.bias``), giving ``softmax(X W^T + b)``;
  * ``attach(upstream, layer=..., labels=...)``: the emotion2vec upstream's own projection, read from the
    loaded funasr model (``Emotion2VecUpstream.emotion_head``), which also gives the class names; the run
    must read the layer the head reads (the last).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from emobench.corpora.base import DEFAULT_LABELS
from emobench.errors import CacheError
from emobench.fsutil import atomic_path, atomic_write_json
from emobench.probes.base import SCHEMA_VERSION, WEIGHTS_FILE, ProbeError, check_labels, read_probe_config

# emotion2vec(+) output order (funasr: 生气/angry, 厌恶/disgusted, ..., <unk>).
E2V_LABELS: tuple[str, ...] = (
    "angry", "disgusted", "fearful", "happy", "neutral", "other", "sad", "surprised", "unknown",
)
# emobench's canonical names -> emotion2vec's, where they differ
CANONICAL_TO_E2V = {"disgust": "disgusted", "unknown": "<unk>"}


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    p = np.exp(z)
    return p / p.sum(axis=1, keepdims=True)


class Emotion2VecHead:
    """Restrict a 9-class emotion2vec head to ``labels`` (renormalised; a row with no mass on any
    label becomes uniform). ``label_map`` renames task labels to emotion2vec names where they differ."""

    registry_name: ClassVar[str] = "e2v-head"

    def __init__(self, *, classifier: Callable | None = None, weight=None, bias=None, head_path: str | None = None,
                 labels: Sequence[str] = DEFAULT_LABELS, label_map: dict[str, str] | None = None):
        self.label_map = dict(label_map or {})
        self.class_names: list[str] = list(E2V_LABELS)
        self._set_labels(labels)
        self.classifier = classifier
        self.weight = self.bias = None
        self.head_path = head_path
        if weight is not None:
            self._set_weights(weight, bias)
        elif head_path is not None:
            self._load_weights(Path(head_path))
        self.device = "cpu"

    def _set_labels(self, labels: Sequence[str]) -> None:
        self.labels = tuple(labels)
        names = [self.label_map.get(lab, CANONICAL_TO_E2V.get(lab, lab)) for lab in self.labels]
        missing = [n for n in names if n not in self.class_names]
        if missing:
            raise ProbeError(
                f"e2v-head: labels {missing} are not emotion2vec classes {self.class_names}; "
                "map them with label_map={'yours': 'emotion2vec name'}"
            )
        self.index = np.array([self.class_names.index(n) for n in names])  # [C] columns of the head's output
        self.n_classes = len(self.labels)

    def _set_weights(self, weight, bias) -> None:
        weight = np.asarray(weight, dtype=np.float64)
        k = len(self.class_names)
        bias = np.zeros(k) if bias is None else np.asarray(bias, dtype=np.float64)
        if weight.ndim != 2 or weight.shape[0] != k or bias.shape != (k,):
            raise ProbeError(f"e2v-head: weight must be [{k}, D] and bias [{k}], got {weight.shape} and {bias.shape}")
        self.weight, self.bias = weight, bias

    def _load_weights(self, path: Path) -> None:
        from safetensors.numpy import load_file

        try:
            t = load_file(str(path))
        except Exception as exc:
            raise CacheError(f"e2v-head: cannot read {path} ({exc}); point head_path at a safetensors file") from exc
        w = t.get("weight", t.get("proj.weight"))
        if w is None:
            raise ProbeError(f"e2v-head: {path} has no 'weight' or 'proj.weight' tensor (found {sorted(t)})")
        self._set_weights(w, t.get("bias", t.get("proj.bias")))

    def attach(self, upstream: Any, *, layer: int | None = None, labels: Sequence[str] | None = None
               ) -> Emotion2VecHead:
        """Take the head (weights and class names) from an emotion2vec upstream's loaded model."""
        if self.classifier is not None or self.weight is not None:
            if labels is not None:
                self._set_labels(labels)
            return self
        getter = getattr(upstream, "emotion_head", None)
        if getter is None:
            raise ProbeError(
                f"e2v-head: upstream {getattr(upstream, 'name', upstream)!r} has no emotion2vec head; "
                "use the emotion2vec upstream, pass head_path=..., or choose --probe linear"
            )
        head_layer = getattr(upstream, "head_layer", None)
        if layer is not None and head_layer is not None and layer != head_layer:
            raise ProbeError(f"e2v-head reads layer {head_layer} (the model's output), but this run uses layer {layer}; "
                             f"drop --layer or choose --probe linear")
        weight, bias, names = getter()
        self.class_names = list(names)
        self._set_labels(labels if labels is not None else self.labels)
        self._set_weights(weight, bias)
        return self

    # -- the probe API -------------------------------------------------------------------------
    def fit(self, X_train=None, y_train=None, X_val=None, y_val=None, *, n_classes: int, seed: int = 0,
            device: Any = "cpu") -> Emotion2VecHead:
        """No training; checks that the task's classes are this head's labels."""
        if n_classes != len(self.labels):
            raise ProbeError(f"e2v-head: task has {n_classes} classes but the head is restricted to {list(self.labels)}")
        if y_train is not None:
            check_labels(y_train, len(y_train), n_classes, "e2v-head.fit")
        self.device = str(device)
        return self

    def full_proba(self, X) -> np.ndarray:
        """The unrestricted 9-class probabilities ``[N, 9]``."""
        X = np.asarray(X, dtype=np.float64)
        if self.classifier is not None:
            p = np.asarray(self.classifier(X), dtype=np.float64)
        elif self.weight is not None:
            if X.ndim != 2 or X.shape[1] != self.weight.shape[1]:
                raise ProbeError(f"e2v-head: expected features [N, {self.weight.shape[1]}], got {X.shape}")
            p = _softmax(X @ self.weight.T + self.bias)
        else:
            raise ProbeError("e2v-head: no head; pass classifier=, weight=/bias=, head_path= or call attach(upstream)")
        if p.ndim != 2 or p.shape[1] != len(self.class_names):
            raise ProbeError(f"e2v-head: the classifier must return [N, {len(self.class_names)}] probabilities, "
                             f"got {p.shape}")
        return p

    def predict_proba(self, X) -> np.ndarray:
        """``[N, C]`` probabilities over ``labels``, renormalised (uniform where all C are 0)."""
        sub = self.full_proba(X)[:, self.index]
        total = sub.sum(axis=1, keepdims=True)
        return np.where(total > 0, sub / np.where(total > 0, total, 1.0), 1.0 / len(self.labels))

    def predict(self, X) -> np.ndarray:
        return self.predict_proba(X).argmax(axis=1).astype(np.int64)

    # -- persistence ---------------------------------------------------------------------------
    def config(self) -> dict[str, Any]:
        return {"schema_version": SCHEMA_VERSION, "probe": self.registry_name, "class": type(self).__name__,
                "params": {"labels": list(self.labels), "label_map": self.label_map}, "n_classes": self.n_classes}

    def save(self, directory: str | Path) -> Path:
        from safetensors.numpy import save_file

        if self.weight is None:
            raise ProbeError("e2v-head.save: only a weight-based head can be saved (a callable cannot)")
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        with atomic_path(directory / WEIGHTS_FILE) as tmp:
            save_file({"weight": self.weight, "bias": self.bias}, str(tmp))
        atomic_write_json(directory / "probe.json", self.config())
        return directory

    @classmethod
    def load(cls, directory: str | Path, *, device: Any = "cpu") -> Emotion2VecHead:
        directory = Path(directory)
        config = read_probe_config(directory)
        return cls(head_path=str(directory / WEIGHTS_FILE), **config["params"])

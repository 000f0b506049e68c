"""What a probe reads, built from the feature cache: one layer's mean-pooled vectors, its frames, or
several layers (pooled per layer, or frames), continuous or with the run's layer reconstructed.

The probe's spec says which (``input: pooled | frames | layers``; a frame-level probe class reads layers as
frames). Under a quantizer only the run's layer, the one the codebooks were fitted on, is reconstructed; a
several-layer probe reads its other layers continuous ("quantization applies to the chosen layer"). A
``FedProbe`` is a trained probe bound to its feed, so tasks and sweeps score it on utterances rather than
on arrays they would have to build for each kind.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from emobench.corpora.base import Utterance
from emobench.errors import EmobenchError

KINDS = ("pooled", "frames", "layers", "layer-frames")


def input_kind(component) -> str:
    """``pooled``, ``frames`` (one layer's frames), ``layers`` (``[N, L, D]`` pooled per layer) or
    ``layer-frames`` (``[L, T, D]`` per utterance), from the probe spec's ``input`` and its class."""
    spec_input = component.spec.input
    frame_level = bool(getattr(component.impl, "frame_level", False))
    if spec_input == "pooled" and not frame_level:
        return "pooled"
    if spec_input == "frames" and frame_level:
        return "frames"
    if spec_input == "layers":
        return "layer-frames" if frame_level else "layers"
    raise EmobenchError(f"probe {component.name!r}: its spec says input {spec_input!r} but its class "
                        f"{'reads' if frame_level else 'does not read'} frames; fix emobench/catalogue/probes/"
                        f"{component.name}.yaml (input: frames or layers for a frame-level probe, pooled otherwise)")


@dataclass
class ProbeFeed:
    """Builds a probe's inputs. ``layers``: the upstream layers a several-layer probe reads; ``all_layers``
    returns a FeatureSet holding them (and ``layer``) for given utterances."""

    kind: str
    layer: int  # the run's layer: what quantizers are fitted on and reconstruct
    layers: list[int] | None = None
    all_layers: Callable[[list[Utterance]], Any] | None = None
    _last: tuple[tuple[str, ...], Any] | None = field(default=None, repr=False)  # a sweep asks once per depth

    @property
    def several(self) -> bool:
        return self.kind in ("layers", "layer-frames")

    @property
    def position(self) -> int:
        """Where the run's layer sits among ``layers`` (the slot a reconstruction replaces)."""
        if self.layers is None or self.layer not in self.layers:
            raise EmobenchError(f"the run's layer {self.layer} is not among the layers the probe reads "
                                f"({self.layers}); quantize one of those (--layer)")
        return self.layers.index(self.layer)

    def source(self, fs, utts: list[Utterance]):
        """The FeatureSet to read ``utts`` from and their rows in it."""
        if self.several:
            ids = tuple(u.id for u in utts)
            if self._last is None or self._last[0] != ids:
                self._last = (ids, self.all_layers(utts))
            src = self._last[1]
        else:
            src = fs
        missing = [u.id for u in utts if u.id not in src]
        if missing:
            raise EmobenchError(f"{len(missing)} utterance(s) have no features (e.g. {missing[0]}); skipped audio "
                                "must be dropped before scoring")
        return src, [src.index(u.id) for u in utts]

    def inputs(self, fs, utts: list[Utterance]):
        """Continuous inputs of ``utts``: ``[N, D]``, ``[N, L, D]`` or Sequences."""
        from emobench.probes.sequences import FeatureSequences

        src, rows = self.source(fs, utts)
        if self.kind == "pooled":
            return src.pooled(self.layer)[rows] if rows else np.zeros((0, src.dim), np.float32)
        if self.kind == "frames":
            return FeatureSequences(src, rows, self.layer)
        if self.kind == "layers":
            return np.stack([src.pooled(layer)[rows] for layer in self.layers], axis=1)  # [N, L, D]
        return FeatureSequences(src, rows, self.layers)

    def reconstructed(self, fs, utts: list[Utterance], recs: Sequence[np.ndarray]):
        """Inputs of ``utts`` with the run's layer replaced by ``recs[i]`` (``[T_i, D]``, or ``[1, D]`` for a
        quantizer of pooled vectors); the other layers continuous."""
        from emobench.probes.sequences import ArraySequences, FeatureSequences, ReplacedLayer

        if self.kind == "pooled":
            return np.stack([r.mean(0) for r in recs]).astype(np.float32)
        if self.kind == "frames":
            return ArraySequences(recs)
        if self.kind == "layers":
            x = self.inputs(fs, utts)
            x[:, self.position] = np.stack([r.mean(0) for r in recs])
            return x
        src, rows = self.source(fs, utts)
        return ReplacedLayer(FeatureSequences(src, rows, self.layers), self.position, recs)

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {"input": self.kind, "layer": self.layer}
        if self.several:
            out["layers"] = list(self.layers)
            out["quantization"] = (f"quantized inputs: layer {self.layer} reconstructed, the other layers read "
                                   "continuous (quantization applies to the chosen layer)")
        return out


@dataclass
class FedProbe:
    """A trained probe with its feed: ``proba(fs, utts)`` on continuous features, ``proba_reconstructed``
    on a quantizer's reconstructions of the run's layer."""

    probe: Any
    feed: ProbeFeed

    @property
    def input(self) -> str:
        return self.feed.kind

    @property
    def history(self) -> dict[str, Any]:
        return getattr(self.probe, "history", {})

    def proba(self, fs, utts: list[Utterance]) -> np.ndarray:
        return self.probe.predict_proba(self.feed.inputs(fs, utts))

    def proba_reconstructed(self, fs, utts: list[Utterance], recs: Sequence[np.ndarray]) -> np.ndarray:
        return self.probe.predict_proba(self.feed.reconstructed(fs, utts, recs))

    def predict_proba(self, X) -> np.ndarray:
        """Arrays or Sequences already in the probe's input form; a pooled matrix for a frame probe is refused."""
        if isinstance(X, np.ndarray) and self.feed.kind in ("frames", "layer-frames"):
            raise EmobenchError(f"this probe reads {self.feed.kind} ({self.feed.describe()}), not pooled vectors: "
                                "score it with inputs.probes.proba(probe, fs, utts)")
        return self.probe.predict_proba(X)

    def layer_weights(self) -> dict[int, float] | None:
        """Upstream layer -> learned weight, for probes that learn one (the Multi-Layer classifiers)."""
        if not self.feed.several or not hasattr(self.probe, "layer_weights"):
            return None
        return {int(layer): float(w) for layer, w in zip(self.feed.layers, self.probe.layer_weights, strict=True)}


def layer_weight_records(probe, **bd: Any) -> list[dict[str, Any]]:
    """``layer_weight`` per upstream layer of a probe that learns layer weights (none otherwise)."""
    from emobench.tasks.records import rec

    weights = probe.layer_weights() if isinstance(probe, FedProbe) else None
    return [rec("layer_weight", w, layer=layer, **bd) for layer, w in (weights or {}).items()]

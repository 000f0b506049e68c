"""Probes: classifiers trained on continuous features and applied to quantized reconstructions.
Import the concrete classes from their modules (or via ``emobench.registries.probes``); importing
this package imports no torch."""

from emobench.probes.base import Probe, ProbeError, TrainConfig, load_probe

__all__ = ["Probe", "ProbeError", "TrainConfig", "load_probe"]

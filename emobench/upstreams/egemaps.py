"""eGeMAPS low-level descriptors through opensmile (extra): 25 hand-crafted acoustic features at 100 Hz.

A weight-free, interpretable baseline. Utterances are processed one by one (opensmile works per signal),
so batching cannot change the features.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from emobench.errors import require_extra
from emobench.upstreams.base import Upstream

_WINDOW, _HOP = 800, 160  # samples at 16 kHz: frames every 10 ms once 50 ms of audio are available


class EGeMAPSUpstream(Upstream):
    """eGeMAPSv02 (default) or ComParE_2016 LLDs; one layer."""

    def __init__(self, *, feature_set: str = "eGeMAPSv02", name: str = "egemaps", default_layer: int = 0,
                 device: Any = None, dtype: Any = None):
        super().__init__()
        opensmile = require_extra("opensmile", "opensmile", "the eGeMAPS upstream")
        try:
            fs = opensmile.FeatureSet[feature_set]
        except KeyError:
            options = ", ".join(m.name for m in opensmile.FeatureSet)
            raise ValueError(f"unknown opensmile feature set {feature_set!r}; choose one of {options}") from None
        self.smile = opensmile.Smile(feature_set=fs, feature_level=opensmile.FeatureLevel.LowLevelDescriptors)
        self.feature_names = list(self.smile.feature_names)
        self.name, self.feature_set = name, feature_set
        self.n_layers, self.dim, self.frame_rate_hz = 1, len(self.feature_names), self.sample_rate / _HOP
        self.default_layer = int(default_layer)
        self.check_layers([self.default_layer])
        self.min_samples = _WINDOW
        self._version = getattr(opensmile, "__version__", "unknown")
        if device is not None or dtype is not None:
            self.to(device, dtype)

    def identity(self) -> dict[str, Any]:
        return {"loader": "opensmile", "feature_set": self.feature_set, "level": "lld", "opensmile": self._version}

    def n_frames(self, n_samples: int) -> int:
        return 0 if n_samples < _WINDOW else (int(n_samples) - _WINDOW) // _HOP + 1

    def _extract(self, waves: list[np.ndarray], layers: list[int]) -> list[np.ndarray]:
        out = []
        for w in waves:
            with warnings.catch_warnings():  # "Segment too short, filling with NaN" near 50 ms: zeroed below
                warnings.simplefilter("ignore", UserWarning)
                lld = self.smile.process_signal(w, self.sample_rate).to_numpy(dtype=np.float32)  # [frames, dim]
            lld = np.nan_to_num(lld[: self.n_frames(len(w))], nan=0.0)
            out.append(np.stack([lld for _ in layers]))
        return out

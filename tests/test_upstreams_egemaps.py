"""eGeMAPS LLDs through opensmile (extra)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("opensmile")

from emobench.errors import AudioError  # noqa: E402
from emobench.registries import upstreams  # noqa: E402


def test_egemaps_lld_shapes_and_batching():
    up = upstreams.create("egemaps")
    assert (up.n_layers, up.dim, up.frame_rate_hz) == (1, 25, 100.0)
    rng = np.random.default_rng(0)
    waves = [(0.1 * rng.standard_normal(n)).astype(np.float32) for n in (800, 1000, 8123, 16000)]
    feats = up.extract(waves)
    assert [f.shape[1] for f in feats] == [1, 2, 46, 96]
    for w, f in zip(waves, feats, strict=True):
        np.testing.assert_array_equal(f, up.extract([w])[0])
        assert np.isfinite(f).all()
    with pytest.raises(AudioError, match="receptive field"):
        up.extract([waves[0][:500]])

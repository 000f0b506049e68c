"""Every catalogue quantizer fits (shrunk for speed), round-trips through save/load, and says what it is."""

from __future__ import annotations

import numpy as np
import pytest

from emobench.quantizers.base import Quantizer, load_quantizer
from emobench.registries import quantizers

EMOTIONS = ["angry", "happy", "neutral", "sad"]
CATALOGUE = [n for n in quantizers.names() if quantizers.get(n).source.startswith("catalogue")]
# A codec's own codebooks are loaded from its checkpoint, not fitted: tests/test_codecs.py covers them.
FITTED = [n for n in CATALOGUE if "model" not in quantizers.get(n).params]
SHRINK = {"n_stages": 2, "n_iter": 3, "max_points_per_centroid": 16, "n_groups": 3}


def small(entry) -> dict:
    overrides = {k: v for k, v in SHRINK.items() if k in entry.params}
    if "codebook_size" in entry.params:
        overrides["codebook_size"] = min(int(entry.params["codebook_size"]), 8)
    return overrides


def test_catalogue_has_the_paper_layouts():
    for name in [
        "rvq",
        "rvq-e2v",
        "rvq-8x32",
        "rvq-8x64",
        "rvq-8x128",
        "rvq-32x2",
        "rvq-32x4",
        "rvq-64x2",
        "rvq-128x2",
        "emo-specific",
        "emo-biased-95",
        "emo-biased-99",
        "emoq",
        "emoq-99",
        "faiss-rq",
        "kmeans",
        "grouped-rvq",
        "rvq-demo",
        "emoq-demo",
    ]:
        assert name in CATALOGUE
    for lk in ["8x32", "8x64", "8x128", "32x2", "32x4", "64x2", "128x2"]:
        L, K = map(int, lk.split("x"))
        assert quantizers.get(f"rvq-{lk}").params == {
            "n_stages": L,
            "codebook_size": K,
            "max_points_per_centroid": 256,
            "n_iter": 20,
        }
    assert quantizers.get("emoq-99").params["target_share"] == 0.99
    assert quantizers.get("emo-biased-95").params["composition"] == "biased"


@pytest.mark.parametrize("name", FITTED)
def test_entry_fits_and_round_trips(name, tmp_path):
    entry = quantizers.get(name)
    assert entry.description and entry.spec.paper
    if entry.spec.extra == "faiss":
        pytest.importorskip("faiss")
    q = quantizers.create(name, **small(entry))
    assert isinstance(q, Quantizer)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 12)).astype(np.float32)
    if q.per_emotion:
        q.fit({e: x[i::4] + i for i, e in enumerate(EMOTIONS)})
    else:
        q.fit(x)
    q.fitted_on = {"upstream": "test-upstream", "layer": 0}
    codes = q.encode(x)
    assert codes.dtype == np.int64 and len(codes) == 400
    q.save(tmp_path / name)
    back = load_quantizer(tmp_path / name, expect={"upstream": "test-upstream"})
    assert type(back) is type(q) and back.params == q.params
    assert np.array_equal(back.encode(x), codes)
    for depth in (1, q.n_stages):
        assert np.allclose(back.decode(codes, depth), q.decode(codes, depth), atol=1e-6)
        assert back.bits_per_frame(depth) == q.bits_per_frame(depth)

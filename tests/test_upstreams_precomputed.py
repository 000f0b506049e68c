"""Precomputed per-utterance features through the cache."""

from __future__ import annotations

import numpy as np
import pytest
from safetensors.numpy import save_file

from emobench.cache import FeatureCache
from emobench.corpora.base import Utterance
from emobench.errors import EmobenchError
from emobench.registries import upstreams


def _utt(i: int) -> Utterance:
    return Utterance(id=f"iemocap/Ses01_{i}", corpus="iemocap", path="/nonexistent.wav", speaker="s", label="sad")


def test_precomputed_folder_through_the_cache(tmp_path):
    rng = np.random.default_rng(0)
    root = tmp_path / "feats"
    (root / "iemocap").mkdir(parents=True)
    arrays = {i: rng.standard_normal((10 + i, 8)).astype(np.float32) for i in range(4)}
    for i in range(3):
        np.save(root / "iemocap" / f"Ses01_{i}.npy", arrays[i])
    save_file({"tensor": arrays[3]}, str(root / "Ses01_3.safetensors"))  # local id, safetensors
    up = upstreams.create("precomputed", root=str(root), frame_rate_hz=50, source_layer="last")
    assert (up.n_layers, up.dim, up.frame_rate_hz) == (1, 8, 50.0)
    utts = [_utt(i) for i in range(5)]  # the 5th has no file
    cache = FeatureCache(tmp_path / "cache")
    fs = cache.features(up, utts, layers=[0])
    assert fs.utt_ids == [u.id for u in utts[:4]] and fs.skipped[0][0] == "iemocap/Ses01_4"
    for i in range(4):
        np.testing.assert_allclose(fs.frames(0, i), arrays[i], atol=2e-3)
        np.testing.assert_allclose(fs.pooled(0)[i], arrays[i].mean(0), atol=1e-6)
    np.save(root / "iemocap" / "Ses01_0.npy", arrays[0] + 1.0)  # replacing a file invalidates its entry
    again = cache.features(up, utts[:1], layers=[0])
    np.testing.assert_allclose(again.frames(0, 0), arrays[0] + 1.0, atol=2e-3)


def test_precomputed_bad_folders(tmp_path):
    with pytest.raises(EmobenchError, match="does not exist"):
        upstreams.create("precomputed", root=str(tmp_path / "none"), frame_rate_hz=50)
    (tmp_path / "empty").mkdir()
    with pytest.raises(EmobenchError, match="no readable .npy"):
        upstreams.create("precomputed", root=str(tmp_path / "empty"), frame_rate_hz=50)
    np.save(tmp_path / "empty" / "a.npy", np.zeros((3, 4, 5), np.float32))
    np.save(tmp_path / "empty" / "b.npy", np.zeros((3, 6), np.float32))
    up = upstreams.create("precomputed", root=str(tmp_path / "empty"), frame_rate_hz=50)
    assert (up.n_layers, up.dim) == (3, 5)
    bad = Utterance(id="x/b", corpus="x", path="", speaker="s", label="sad")
    with pytest.raises(EmobenchError, match="every file must agree"):
        up.extract_utterance(bad, layers=[0])

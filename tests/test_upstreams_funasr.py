"""emotion2vec through funasr on a tiny model built from model_conf: layers, batching, the 9-class head."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("funasr")

from tiny_models import E2V_TOKENS, save_tiny_e2v  # noqa: E402

from emobench.errors import EmobenchError  # noqa: E402
from emobench.registries import upstreams  # noqa: E402
from emobench.upstreams.funasr_e2v import Emotion2VecUpstream  # noqa: E402


def _waves(lengths, seed=0):
    rng = np.random.default_rng(seed)
    return [(0.1 * rng.standard_normal(n)).astype(np.float32) for n in lengths]


@pytest.fixture(scope="module")
def e2v_dir(tmp_path_factory):
    return save_tiny_e2v(tmp_path_factory.mktemp("e2v") / "tiny-e2v")


def test_layers_shapes_and_batched_equals_single(e2v_dir):
    up = Emotion2VecUpstream(model=str(e2v_dir))
    assert (up.n_layers, up.dim, up.frame_rate_hz, up.min_samples, up.default_layer) == (3, 32, 50.0, 400, 2)
    waves = _waves([400, 8000, 16000, 16000, 5000])
    batched = up.extract(waves)
    for wave, feats in zip(waves, batched, strict=True):
        assert feats.shape == (3, up.n_frames(len(wave)), 32)
        assert np.abs(feats - up.extract([wave])[0]).max() < 1e-4
    assert len(up.identity()["weights_sha256"]) == 64


def test_matches_funasr_generate_and_head(e2v_dir):
    from funasr import AutoModel

    up = Emotion2VecUpstream(model=str(e2v_dir))
    wave = _waves([16000], seed=3)[0]
    auto = AutoModel(model=str(e2v_dir), disable_update=True, ncpu=1, hub="hf", device="cpu")
    ref = auto.generate(wave, granularity="frame", extract_embedding=True, disable_pbar=True)[0]
    np.testing.assert_allclose(up.extract([wave], layers=[2])[0][0], ref["feats"], atol=1e-4)
    probs = up.classify([wave])
    assert probs.shape == (1, 9) and up.class_names == [t.split("/")[-1] for t in E2V_TOKENS]
    np.testing.assert_allclose(probs[0], ref["scores"], atol=1e-5)
    np.testing.assert_allclose(probs.sum(1), 1.0, atol=1e-6)


def test_e2v_head_probe_equals_funasr_generate_restricted_to_four_emotions(e2v_dir):
    """The paper's emotion2vec classifier: the model's own head, read from the real funasr model object."""
    from funasr import AutoModel

    from emobench.registries import probes

    up = Emotion2VecUpstream(model=str(e2v_dir))
    labels = ["angry", "happy", "neutral", "sad"]
    head = probes.create("e2v-head").attach(up, layer=up.head_layer, labels=labels)
    waves = _waves([16000, 12000, 9000], seed=5)
    pooled = np.stack([f[0].mean(0) for f in up.extract(waves, layers=[up.head_layer])])
    ours = head.fit(n_classes=4).predict_proba(pooled)
    auto = AutoModel(model=str(e2v_dir), disable_update=True, ncpu=1, hub="hf", device="cpu")
    names = [t.split("/")[-1] for t in E2V_TOKENS]
    for wave, row in zip(waves, ours, strict=True):
        scores = np.asarray(auto.generate(wave, granularity="utterance", disable_pbar=True)[0]["scores"])
        restricted = scores[[names.index(lab) for lab in labels]]
        np.testing.assert_allclose(row, restricted / restricted.sum(), atol=1e-5)
    with pytest.raises(EmobenchError, match="reads layer 2"):
        probes.create("e2v-head").attach(up, layer=0, labels=labels)


def test_registry_override_and_bad_dirs(e2v_dir, tmp_path):
    up = upstreams.create("emotion2vec", model=str(e2v_dir))
    assert isinstance(up, Emotion2VecUpstream) and up.default_layer == up.n_layers - 1
    with pytest.raises(EmobenchError, match="does not exist"):
        Emotion2VecUpstream(model=str(tmp_path / "nothing"))
    broken = save_tiny_e2v(tmp_path / "broken")
    text = (broken / "config.yaml").read_text().replace("depth: 2", "depth: 3")
    (broken / "config.yaml").write_text(text)
    with pytest.raises(EmobenchError, match="do not match"):
        Emotion2VecUpstream(model=str(broken))
    (broken / "model.pt").unlink()
    with pytest.raises(EmobenchError, match="has no model.pt"):
        Emotion2VecUpstream(model=str(broken))


def test_offline_hub_failure_is_clear(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(EmobenchError, match="pass model=DIR"):
        Emotion2VecUpstream(model="emobench-test/not-a-model", hub="hf")

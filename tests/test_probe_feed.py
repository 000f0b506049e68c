"""Probes that read frames or several layers, fed by TaskInputs.probes and the depth sweep: continuous
inputs, reconstructions of the run's layer (the other layers continuous), caching, and clear refusals."""

from __future__ import annotations

import numpy as np
import pytest

from emobench.config import RunConfig
from emobench.errors import EmobenchError
from emobench.probes.linear import LinearProbe
from emobench.registries import quantizers
from emobench.resolve import resolve
from emobench.tasks.probe_feed import FedProbe
from emobench.tasks.sweep import evaluate
from emobench.testing import SyntheticCache, make_inputs, stack_layers, synthetic_corpus

FAST = {"epochs": 15, "lr": 0.01, "batch_size": 0, "min_steps": 0, "class_weight": None}
LABELS = ["angry", "happy", "neutral", "sad"]


@pytest.fixture(autouse=True)
def tiny_presets():
    quantizers.register("t-feed", "emobench.quantizers.rvq:ResidualVQ", "test preset",
                        params={"n_stages": 3, "codebook_size": 4, "n_iter": 5, "min_train_frames": 0})
    quantizers.register("t-feed-emoq", "emobench.quantizers.emoq:EmoQ", "test preset",
                        params={"n_stages": 2, "codebook_size": 2, "n_iter": 5, "min_train_frames": 0})
    yield
    quantizers.unregister("t-feed")
    quantizers.unregister("t-feed-emoq")


def setup(tmp_path, probe, *, layered=False, layer=None, quantizer="t-feed"):
    corpus, feats = synthetic_corpus("a", n_per_label=8, dim=8, seed=0)
    if layered:
        feats = stack_layers(feats, n_layers=4, informative={2: 1.0})
    inputs, _ = make_inputs(tmp_path, {"a": (corpus, feats)}, task="crossling-ser", probe=probe, probe_params=FAST,
                            quantizers={"system": quantizer}, layer=layer)
    utts = corpus.utterances
    fs = inputs.features.get(utts)
    return inputs, fs, utts[::3], utts[1::3], utts[2::3]


def test_a_frame_probe_comes_back_fed_and_is_cached(tmp_path):
    inputs, fs, train, val, test = setup(tmp_path, "crossling-nonlinear")
    probe = inputs.probes.train(fs, train, val, LABELS)
    assert isinstance(probe, FedProbe) and probe.input == "frames"
    p = inputs.probes.proba(probe, fs, test)
    assert p.shape == (len(test), 4) and np.allclose(p.sum(1), 1)
    again = inputs.probes.train(fs, train, val, LABELS)
    assert [f["cached"] for f in inputs.probes.trained] == [False, True]
    np.testing.assert_array_equal(inputs.probes.proba(again, fs, test), p)
    with pytest.raises(EmobenchError, match="inputs.probes.proba"):
        probe.predict_proba(fs.pooled(0)[:3])
    assert inputs.probes.info()["input"] == "frames"


def test_a_pooled_probe_is_returned_as_before(tmp_path):
    inputs, fs, train, val, test = setup(tmp_path, "linear")
    probe = inputs.probes.train(fs, train, val, LABELS)
    assert type(probe) is LinearProbe
    rows = [fs.index(u.id) for u in test]
    np.testing.assert_array_equal(inputs.probes.proba(probe, fs, test), probe.predict_proba(fs.pooled(0)[rows]))
    assert "input" not in inputs.probes.info()


def test_the_sweep_feeds_each_depths_reconstructed_frames(tmp_path):
    inputs, fs, train, val, test = setup(tmp_path, "crossling-nonlinear")
    probe = inputs.probes.train(fs, train, val, LABELS)
    q = inputs.quantizers.fit("system", fs, train, layer=0)
    ev = evaluate(q, fs, test, 0, probe=probe, extra={"again": probe})
    for d in ev.depths:
        recs = [q.decode(q.encode(fs.frames(0, fs.index(u.id))), d) for u in test]
        np.testing.assert_allclose(ev.probs[d], probe.probe.predict_proba(recs), rtol=1e-5, atol=1e-6)
        np.testing.assert_array_equal(ev.extra_probs["again"][d], ev.probs[d])
        pooled = probe.probe.predict_proba([r.mean(0, keepdims=True) for r in recs])
        assert np.abs(pooled - ev.probs[d]).max() > 1e-3  # frames, not their mean, reach the non-linear probe


def test_several_layers_are_read_with_only_the_run_layer_reconstructed(tmp_path):
    inputs, fs, train, val, test = setup(tmp_path, "crossling-multilayer", layered=True, layer=2)
    probe = inputs.probes.train(fs, train, val, LABELS)
    assert probe.input == "layer-frames" and probe.feed.layers == [1, 2, 3]  # Transformer blocks, not layer 0
    q = inputs.quantizers.fit("system", fs, train, layer=2)
    calls = []
    inner = inputs.features.cache

    class Counting(SyntheticCache):  # counts what the sweep asks of the feature cache
        def features(self, upstream, utts, **kw):
            calls.append(kw.get("layers"))
            return inner.features(upstream, utts, **kw)

    inputs.features.cache = Counting(inner.frames_by_id)
    ev = evaluate(q, fs, test, 2, probe=probe)
    assert calls == [[1, 2, 3]]  # the test set's layers read once, for all 3 depths (one chunk)
    d = ev.depths[0]
    expected = []
    for u in test:
        i = fs.index(u.id)
        item = np.stack([fs.frames(layer, i) for layer in (1, 2, 3)])
        item[1] = q.decode(q.encode(fs.frames(2, i)), d)  # layer 2 reconstructed, 1 and 3 continuous
        expected.append(item)
    np.testing.assert_allclose(ev.probs[d], probe.probe.predict_proba(expected), rtol=1e-5, atol=1e-6)
    info = inputs.probes.info()
    assert info["layers"] == [1, 2, 3] and "layer 2 reconstructed" in info["quantization"]
    weights = info["fits"][0]["layer_weights"]
    assert list(weights) == ["1", "2", "3"] and sum(weights.values()) == pytest.approx(1.0)
    assert probe.layer_weights() == pytest.approx({int(k): v for k, v in weights.items()})


def test_the_pooled_multilayer_probe_gets_per_layer_means_with_the_run_layer_replaced(tmp_path):
    inputs, fs, train, val, test = setup(tmp_path, "multilayer", layered=True, layer=3)
    probe = inputs.probes.train(fs, train, val, LABELS)
    assert probe.input == "layers" and probe.feed.layers == [0, 1, 2, 3]
    q = inputs.quantizers.fit("system", fs, train, layer=3)
    ev = evaluate(q, fs, test, 3, probe=probe)
    rows = [fs.index(u.id) for u in test]
    x = np.stack([fs.pooled(layer)[rows] for layer in range(4)], axis=1)
    x[:, 3] = [q.decode(q.encode(fs.frames(3, i)), 1).mean(0) for i in rows]
    np.testing.assert_allclose(ev.probs[1], probe.probe.predict_proba(x), rtol=1e-5, atol=1e-6)


def test_routers_route_the_extra_probes_too(tmp_path):
    inputs, fs, train, val, test = setup(tmp_path, "crossling-linear", quantizer="t-feed-emoq")
    probe = inputs.probes.train(fs, train, val, LABELS)
    q = inputs.quantizers.fit("system", fs, {lab: [u for u in train if u.label == lab] for lab in LABELS}, layer=0)
    ev = evaluate(q, fs, test, 0, probe=probe, extra={"again": probe})
    for d in ev.depths:
        np.testing.assert_array_equal(ev.extra_probs["again"][d], ev.probs[d])
        assert ev.probs[d].shape == (len(test), 4)


def test_refusals_say_what_to_do(tmp_path):
    inputs, fs, train, val, test = setup(tmp_path, "crossling-multilayer", layered=True, layer=0)
    probe = inputs.probes.train(fs, train, val, LABELS)
    q = inputs.quantizers.fit("system", fs, train, layer=0)
    with pytest.raises(EmobenchError, match="layer 0 is not among the layers the probe reads"):
        evaluate(q, fs, test, 0, probe=probe)
    inputs.probes.features = None
    with pytest.raises(EmobenchError, match="no feature cache"):
        inputs.probes.train(fs, train, val, LABELS)
    with pytest.raises(EmobenchError, match="feeds its probe pooled features only"):
        resolve(RunConfig(upstream="fbank", task="codec-resynth", probe="crossling-linear"))
    with pytest.raises(EmobenchError, match="trains its own models and uses no --probe"):
        resolve(RunConfig(upstream="fbank", task="hyfuse", probe="linear"))
    assert resolve(RunConfig(upstream="fbank", task="rq1", probe="crossling-multilayer")).probe.name
    assert resolve(RunConfig(upstream="fbank", task="crossling-ser", probe="crossling-multilayer")).probe.name


def test_a_spec_that_contradicts_its_class_is_named(tmp_path):
    from emobench.registries import probes

    probes.register("t-bad-input", "emobench.probes.crossling:CrosslingLinearProbe", "test", input="pooled")
    try:
        inputs, fs, train, val, _ = setup(tmp_path, "t-bad-input")
        with pytest.raises(EmobenchError, match="input 'pooled' but its class reads frames"):
            inputs.probes.train(fs, train, val, LABELS)
    finally:
        probes.unregister("t-bad-input")


def test_a_several_layer_probe_run_extracts_each_utterance_once(tmp_path):
    """The runner fetches the probe's layers with the run's, so the codebooks' and the probe's features come
    from one forward pass per utterance: as many extractions as a one-layer probe's run, none on a rerun."""
    from tiny_models import save_tiny_hf
    from typer.testing import CliRunner

    from emobench.cli.main import app
    from emobench.results import read_result

    model = save_tiny_hf(tmp_path / "wavlm", "wavlm")

    def run(probe: str, cache: str) -> dict:
        args = ["run", "-t", "crossling-ser", "-u", "wavlm", "-U", f"model={model}", "--layer", "1",
                "--probe", probe, "-P", "epochs=2", "-q", "rvq-demo", "--limit", "12",
                "--out", str(tmp_path / probe), "--cache-dir", str(tmp_path / cache), "--no-site"]
        result = CliRunner().invoke(app, args, terminal_width=200)
        assert result.exit_code == 0, result.output
        doc = read_result(max((tmp_path / probe).glob("*.json"), key=lambda p: p.stat().st_mtime))
        return doc

    one_layer = run("crossling-linear", "c1")["provenance"]["extraction"]["extracted_utterances"]
    doc = run("crossling-multilayer", "c2")
    assert doc["probe"]["layers"] == [1, 2]
    assert doc["provenance"]["extraction"]["extracted_utterances"] == one_layer > 0  # not twice
    assert run("crossling-multilayer", "c2")["provenance"]["extraction"]["extracted_utterances"] == 0

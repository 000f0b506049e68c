"""Probes on synthetic features with a known answer."""

from __future__ import annotations

import numpy as np
import pytest

from emobench.probes.base import ProbeError, load_probe
from emobench.probes.e2v_head import E2V_LABELS, Emotion2VecHead
from emobench.probes.linear import LinearProbe
from emobench.probes.mlp import MLPProbe
from emobench.probes.multilayer import MultiLayerProbe
from emobench.registries import probes


def clusters(n=400, d=32, c=4, sep=3.0, seed=0, noise_seed=None):
    """One Gaussian cluster per class (centres fixed by ``seed``, noise by ``noise_seed``)."""
    centers = np.random.default_rng(seed).normal(size=(c, d)) * sep / np.sqrt(d) * 2
    rng = np.random.default_rng(seed if noise_seed is None else noise_seed)
    y = np.arange(n) % c
    return (centers[y] + rng.normal(size=(n, d)) * 0.5 + 7.0).astype(np.float32), y  # offset: tests standardising


@pytest.mark.parametrize("cls", [LinearProbe, MLPProbe])
def test_separable_clusters_near_perfect(cls):
    X, y = clusters()
    Xv, yv = clusters(noise_seed=1)
    probe = cls(epochs=30).fit(X[:300], y[:300], X[300:], y[300:], n_classes=4)
    assert (probe.predict(Xv) == yv).mean() > 0.97
    proba = probe.predict_proba(Xv)
    assert proba.shape == (400, 4)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-9)
    np.testing.assert_array_equal(proba.argmax(axis=1), probe.predict(Xv))


def test_shuffled_labels_give_chance():
    X, y = clusters(n=800, seed=2)
    rng = np.random.default_rng(0)
    y_shuf = rng.permutation(y)
    probe = LinearProbe(epochs=20).fit(X[:600], y_shuf[:600], X[600:700], y_shuf[600:700], n_classes=4)
    acc = (probe.predict(X[700:]) == y_shuf[700:]).mean()
    assert 0.1 < acc < 0.45


def test_seeds_reproduce_exactly():
    X, y = clusters(seed=3)
    a = LinearProbe(epochs=5).fit(X, y, X, y, n_classes=4, seed=7).predict_proba(X)
    b = LinearProbe(epochs=5).fit(X, y, X, y, n_classes=4, seed=7).predict_proba(X)
    c = LinearProbe(epochs=5).fit(X, y, X, y, n_classes=4, seed=8).predict_proba(X)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    # the caller's global RNG is untouched by a seeded fit
    import torch

    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    MLPProbe(epochs=2).fit(X, y, n_classes=4, seed=1)
    assert torch.rand(1) == before


@pytest.mark.parametrize("cls", [LinearProbe, MLPProbe, MultiLayerProbe])
def test_save_load_round_trip(cls, tmp_path):
    X, y = clusters(n=120, d=8)
    if cls is MultiLayerProbe:
        X = np.stack([X, X[::-1]], axis=1)  # [N, 2, D]
    probe = cls(epochs=3, lr=1e-3).fit(X, y, X, y, n_classes=4)
    probe.save(tmp_path / "p")
    assert sorted(p.name for p in (tmp_path / "p").iterdir()) == ["probe.json", "probe.safetensors"]
    again = load_probe(tmp_path / "p")
    assert type(again) is cls and again.train_config.lr == 1e-3
    np.testing.assert_array_equal(again.predict_proba(X), probe.predict_proba(X))
    with pytest.raises(ProbeError, match="shape"):
        again.predict(X[:, :-1] if X.ndim == 2 else X[:, :, :-1])


def test_multilayer_finds_informative_layer():
    rng = np.random.default_rng(0)
    n, n_layers, d = 600, 5, 16
    y = np.arange(n) % 4
    centers = rng.normal(size=(4, d)) * 1.5
    X = rng.normal(size=(n, n_layers, d)).astype(np.float32)
    X[:, 3] += centers[y]
    probe = MultiLayerProbe(epochs=30).fit(X[:400], y[:400], X[400:], y[400:], n_classes=4)
    w = probe.layer_weights
    assert w.shape == (5,) and w.sum() == pytest.approx(1.0)
    assert w.argmax() == 3 and w[3] > 2 * np.delete(w, 3).max()
    assert (probe.predict(X[400:]) == y[400:]).mean() > 0.9


def test_bad_inputs_are_clear():
    X, y = clusters(n=40, d=4)
    with pytest.raises(ProbeError, match="0..3"):
        LinearProbe().fit(X, y + 1, n_classes=4)
    with pytest.raises(ProbeError, match=r"\[N, D\]"):
        LinearProbe().fit(X[:, None, :], y, n_classes=4)
    with pytest.raises(ProbeError, match="not fitted"):
        LinearProbe().predict(X)
    with pytest.raises(TypeError, match="unknown"):
        LinearProbe(learning_rate=1.0)


def test_registry_creates_probes():
    assert isinstance(probes.create("linear", epochs=3), LinearProbe)
    assert probes.create("mlp", hidden=8).hidden == 8
    assert isinstance(probes.create("multilayer"), MultiLayerProbe)
    assert isinstance(probes.create("e2v-head", weight=np.zeros((9, 3))), Emotion2VecHead)


def test_e2v_head_restriction(tmp_path):
    p9 = np.array(
        [
            [0.1, 0.3, 0.0, 0.2, 0.1, 0.0, 0.1, 0.2, 0.0],  # angry .1 happy .2 neutral .1 sad .1
            [0.0, 0.5, 0.5, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],  # no mass on the four labels -> uniform
        ]
    )
    head = Emotion2VecHead(classifier=lambda X: p9[: len(X)])
    head.fit(n_classes=4)
    np.testing.assert_allclose(head.predict_proba(np.zeros((2, 3))), [[0.2, 0.4, 0.2, 0.2], [0.25] * 4])
    np.testing.assert_array_equal(head.predict(np.zeros((1, 3))), [1])
    with pytest.raises(ProbeError, match="classes"):
        head.fit(n_classes=5)
    # label names are mapped to emotion2vec's order; unknown names fail clearly
    sad_first = Emotion2VecHead(classifier=lambda X: p9[:1], labels=("sad", "joy"), label_map={"joy": "happy"})
    np.testing.assert_allclose(sad_first.predict_proba(np.zeros((1, 3))), [[1 / 3, 2 / 3]])
    with pytest.raises(ProbeError, match="label_map"):
        Emotion2VecHead(labels=("angry", "excited"))
    # weight-based head: softmax(X W^T + b), saved and loaded without pickle
    rng = np.random.default_rng(0)
    w, b = rng.normal(size=(9, 5)), rng.normal(size=9)
    X = rng.normal(size=(6, 5))
    head = Emotion2VecHead(weight=w, bias=b)
    z = X @ w.T + b
    full = np.exp(z - z.max(1, keepdims=True))
    full /= full.sum(1, keepdims=True)
    np.testing.assert_allclose(head.full_proba(X), full)
    idx = [E2V_LABELS.index(lab) for lab in ("angry", "happy", "neutral", "sad")]
    np.testing.assert_allclose(head.predict_proba(X), full[:, idx] / full[:, idx].sum(1, keepdims=True))
    head.save(tmp_path / "h")
    np.testing.assert_allclose(load_probe(tmp_path / "h").predict_proba(X), head.predict_proba(X))
    with pytest.raises(ProbeError, match="emotion2vec head"):
        Emotion2VecHead().attach(object())

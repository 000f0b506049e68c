"""The cross-lingual probing paper's three classifiers on frames (emobench.probes.crossling): their
architecture and preset, masking (a batch gives its items' logits one at a time), and known outcomes."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from emobench.probes.base import ProbeError, TrainConfig, load_probe
from emobench.probes.crossling import (
    PAPER_TRAIN,
    CrosslingLinearProbe,
    CrosslingMultiLayerProbe,
    CrosslingNonLinearProbe,
)
from emobench.probes.sequences import ArraySequences, FeatureSequences, ReplacedLayer, batch_rows, pad
from emobench.probes.train import make_optimizer
from emobench.registries import probes

FAST = {"epochs": 40, "lr": 0.01, "batch_size": 16, "class_weight": None}
FAMILIES = (CrosslingLinearProbe, CrosslingNonLinearProbe, CrosslingMultiLayerProbe)


def frames_data(n=90, d=8, c=3, seed=0, shift=1.0, n_layers=None):
    """Variable-length utterances whose frames sit around a class centre; [L, T, D] with ``n_layers``
    (class information in the last layer only)."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(c, d)) * shift
    y = np.arange(n) % c
    items = []
    for i in range(n):
        t = int(rng.integers(2, 12))
        x = (centers[y[i]] + rng.normal(size=(t, d))).astype(np.float32)
        if n_layers:
            x = np.stack([rng.normal(size=(t, d)).astype(np.float32) for _ in range(n_layers - 1)] + [x])
        items.append(x)
    return items, y


def test_architectures_follow_the_paper():
    lin = CrosslingLinearProbe()._build((768,), 7)
    assert [type(m) for m in lin.frame] == [nn.Linear] and isinstance(lin.post, nn.Identity)  # eq. 2: no activation
    assert (lin.frame[0].in_features, lin.frame[0].out_features, lin.head.out_features) == (768, 256, 7)
    nl = CrosslingNonLinearProbe()._build((768,), 7)  # eq. 3: two (linear, ReLU, dropout) blocks, l1, pool, l2 + ReLU
    assert [type(m) for m in nl.frame] == [nn.Linear, nn.ReLU, nn.Dropout] * 2 + [nn.Linear]
    assert nl.frame[2].p == 0.1 and [type(m) for m in nl.post] == [nn.Linear, nn.ReLU] and nl.layer_logits is None
    ml = CrosslingMultiLayerProbe()._build((12, 768), 7)  # eqs. 4-5: layer weights, then the Non-Linear pipeline
    assert ml.layer_logits.shape == (12,) and [type(m) for m in ml.frame] == [type(m) for m in nl.frame]
    assert CrosslingMultiLayerProbe().layers_read(13) == list(range(1, 13))  # the Transformer blocks
    assert CrosslingMultiLayerProbe(include_embedding=True).layers_read(13) == list(range(13))
    assert CrosslingMultiLayerProbe().layers_read(1) == [0]


@pytest.mark.parametrize("name", ["crossling-linear", "crossling-nonlinear", "crossling-multilayer"])
def test_catalogue_presets_are_the_papers_training(name):
    probe = probes.create(name)
    assert probe.train_config == TrainConfig(**{**PAPER_TRAIN, "betas": (0.9, 0.98)})
    assert (probe.train_config.epochs, probe.train_config.lr, probe.train_config.weight_decay) == (30, 5e-4, 1e-4)
    assert probe.train_config.eps == 1e-8 and probe.projection == 256
    opt = make_optimizer([{"params": [nn.Parameter(torch.zeros(1))]}], probe.train_config)
    assert type(opt) is torch.optim.Adam and opt.defaults["betas"] == (0.9, 0.98) and opt.defaults["eps"] == 1e-8
    assert probes.get(name).spec.input == ("layers" if "multi" in name else "frames")
    # the default of every other probe is unchanged: decoupled weight decay
    assert type(make_optimizer([{"params": [nn.Parameter(torch.zeros(1))]}], TrainConfig())) is torch.optim.AdamW


@pytest.mark.parametrize("cls", FAMILIES)
def test_a_batch_gives_its_items_logits_one_at_a_time(cls):
    items, y = frames_data(n=40, n_layers=3 if cls.input_ndim == 3 else None)
    probe = cls(**{**FAST, "epochs": 2}).fit(items, y, n_classes=3)
    together = probe.logits(items)
    alone = np.concatenate([probe.logits([x]) for x in items])
    np.testing.assert_allclose(together, alone, rtol=1e-5, atol=1e-5)
    x, mask = pad(items[:3])
    assert x.shape[-2] == max(i.shape[-2] for i in items[:3]) and mask.sum(1).tolist() == [i.shape[-2] for i in items[:3]]
    if x.ndim == 3:
        assert not x[~mask].any()  # padded frames are zeros


def test_the_linear_classifier_reads_only_the_mean_of_its_frames():
    """Eq. 2 is affine per frame before average pooling: its logits equal those of the mean frame."""
    items, y = frames_data(n=60)
    probe = CrosslingLinearProbe(**FAST).fit(items, y, n_classes=3)
    means = [x.mean(0, keepdims=True) for x in items]
    np.testing.assert_allclose(probe.logits(items), probe.logits(means), rtol=1e-4, atol=1e-4)
    nl = CrosslingNonLinearProbe(**FAST).fit(items, y, n_classes=3)
    assert np.abs(nl.logits(items) - nl.logits(means)).max() > 1e-2  # ReLU before pooling: not the mean's


def test_a_cue_in_frame_spread_is_read_by_the_non_linear_classifier_only():
    """Classes differ only in how much the frames spread around the same mean: averaging erases it, so the
    Linear classifier stays at chance while ReLU blocks before pooling read it."""
    rng = np.random.default_rng(0)
    y = np.arange(240) % 2
    items = [(rng.normal(size=(16, 6)) * (0.4 if c == 0 else 2.0)).astype(np.float32) for c in y]
    tr, te = slice(0, 160), slice(160, 240)
    accs = {}
    for cls in (CrosslingLinearProbe, CrosslingNonLinearProbe):
        p = cls(**FAST).fit(items[tr], y[tr], items[160:200], y[160:200], n_classes=2)
        accs[cls.__name__] = (p.predict(items[te]) == y[te]).mean()
    assert accs["CrosslingNonLinearProbe"] > 0.95 and accs["CrosslingLinearProbe"] < 0.7, accs


def test_multi_layer_weights_find_the_informative_layer():
    items, y = frames_data(n=150, n_layers=4, shift=1.5)
    probe = CrosslingMultiLayerProbe(**{**FAST, "epochs": 60, "lr": 0.02}).fit(items[:120], y[:120], items[120:],
                                                                               y[120:], n_classes=3)
    w = probe.layer_weights
    assert w.shape == (4,) and w.sum() == pytest.approx(1.0) and (w >= 0).all()
    assert w.argmax() == 3 and w[3] > 0.5, w
    assert (probe.predict(items[120:]) == y[120:]).mean() > 0.9


@pytest.mark.parametrize("cls", FAMILIES)
def test_save_load_and_seeds(cls, tmp_path):
    items, y = frames_data(n=30, n_layers=2 if cls.input_ndim == 3 else None)
    a = cls(**{**FAST, "epochs": 3}).fit(items, y, items, y, n_classes=3, seed=4)
    b = cls(**{**FAST, "epochs": 3}).fit(items, y, items, y, n_classes=3, seed=4)
    c = cls(**{**FAST, "epochs": 3}).fit(items, y, items, y, n_classes=3, seed=5)
    np.testing.assert_array_equal(a.predict_proba(items), b.predict_proba(items))
    assert not np.array_equal(a.predict_proba(items), c.predict_proba(items))
    a.save(tmp_path / "p")
    again = load_probe(tmp_path / "p")
    assert type(again) is cls and again.train_config.lr == 0.01 and again.projection == 256
    np.testing.assert_array_equal(again.predict_proba(items), a.predict_proba(items))


def test_bad_inputs_are_clear():
    items, y = frames_data(n=12)
    with pytest.raises(ProbeError, match="reads frames"):
        CrosslingLinearProbe().fit(np.stack([x.mean(0) for x in items]), y, n_classes=3)
    with pytest.raises(ProbeError, match=r"\[layers, frames, dim\]"):
        CrosslingMultiLayerProbe().fit(items, y, n_classes=3)
    probe = CrosslingLinearProbe(epochs=1).fit(items, y, n_classes=3)
    with pytest.raises(ProbeError, match="fitted on frames of shape"):
        probe.predict([x[:, :-1] for x in items])
    bad = [x.copy() for x in items]
    bad[0][0, 0] = np.nan
    with pytest.raises(ProbeError, match="NaN"):
        probe.predict(bad)
    with pytest.raises(ProbeError, match="projection"):
        CrosslingNonLinearProbe(projection=0)


def test_sequences_read_features_and_replace_one_layer():
    from emobench.testing import SyntheticFeatures

    rng = np.random.default_rng(0)
    feats = {f"u{i}": rng.normal(size=(3, 4 + i, 5)).astype(np.float32) for i in range(4)}  # [L, T, D]
    fs = SyntheticFeatures(list(feats), feats)
    seqs = FeatureSequences(fs, [2, 0], [0, 2])
    assert seqs.item_shape == (2, 5) and seqs.lengths.tolist() == [6, 4]
    np.testing.assert_array_equal(seqs.gather([0])[0], feats["u2"][[0, 2]])
    recs = [np.full((6, 5), 7.0, np.float32), np.full((1, 5), 9.0, np.float32)]  # frames, and a pooled vector
    swapped = ReplacedLayer(seqs, 1, recs).gather([0, 1])
    np.testing.assert_array_equal(swapped[0][0], feats["u2"][0])  # the other layer stays continuous
    assert (swapped[0][1] == 7).all() and (swapped[1][1] == 9).all() and swapped[1].shape == (2, 4, 5)
    with pytest.raises(ProbeError, match="reconstruction 0"):
        ReplacedLayer(seqs, 1, [np.zeros((3, 5), np.float32), recs[1]])
    assert ArraySequences([np.zeros((2, 3)), np.zeros((5, 3))]).item_shape == (3,)
    with pytest.raises(ProbeError, match="one dim"):
        ArraySequences([np.zeros((2, 3)), np.zeros((5, 4))])
    rows = batch_rows(np.array([5, 1, 9, 3]), budget=10)
    assert sorted(r for b in rows for r in b) == [0, 1, 2, 3] and rows[0] == [2]  # longest first, within budget

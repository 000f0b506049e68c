"""Training-set compositions and the Emo-Q router."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from emobench.quantizers.base import QuantizerError, load_quantizer
from emobench.quantizers.compositions import compose, per_emotion
from emobench.quantizers.emoq import EmoQ

EMOTIONS = ["angry", "happy", "neutral", "sad"]
LABELS = ["angry"] * 60 + ["happy"] * 50 + ["neutral"] * 80 + ["sad"] * 40


def counts(idx):
    return Counter(np.asarray(LABELS)[idx].tolist())


def test_compositions_counts_and_equal_totals():
    bal = compose(LABELS, scheme="balanced", n_total=40, seed=0)
    assert counts(bal) == {e: 10 for e in EMOTIONS}
    spec = compose(LABELS, scheme="specific", target="sad", n_total=40)
    assert counts(spec) == {"sad": 40}
    biased = compose(LABELS, scheme="biased", target="happy", target_share=0.7, n_total=40)
    assert counts(biased) == {"happy": 28, "angry": 4, "neutral": 4, "sad": 4}
    odd = compose(LABELS, scheme="biased", target="happy", target_share=0.95, n_total=40)
    assert counts(odd)["happy"] == 38 and sum(counts(odd).values()) == 40
    # default n_total: the smallest class, so every scheme and target is feasible and totals match
    assert {
        len(compose(LABELS, scheme=s, target="angry", target_share=0.9))
        for s in ("balanced", "specific", "biased")
    } == {40}
    assert len(set(bal.tolist())) == len(bal) and np.all(np.diff(bal) > 0)


def test_compositions_are_seeded():
    a = compose(LABELS, scheme="balanced", n_total=20, seed=1)
    assert np.array_equal(a, compose(LABELS, scheme="balanced", n_total=20, seed=1))
    assert not np.array_equal(a, compose(LABELS, scheme="balanced", n_total=20, seed=2))
    sets = per_emotion(LABELS, target_share=0.99, n_total=40)
    assert sorted(sets) == EMOTIONS and all(len(v) == 40 for v in sets.values())
    assert counts(sets["sad"]) == {"sad": 40}  # round(0.99 * 40) = 40: 99+1 needs n_total >= 50 to differ
    via_emoq = EmoQ(composition="biased", target_share=0.9).training_sets(LABELS, n_total=40)
    assert counts(via_emoq["angry"])["angry"] == 36 and sum(counts(via_emoq["angry"]).values()) == 40


def test_composition_errors_name_the_cause():
    with pytest.raises(QuantizerError, match="asks for emotion 'fear'.*have: angry, happy, neutral, sad"):
        compose(LABELS, scheme="specific", target="fear")
    with pytest.raises(QuantizerError, match="surprise has none"):
        compose(LABELS, scheme="balanced", emotions=EMOTIONS + ["surprise"])
    with pytest.raises(QuantizerError, match="needs 100 utterances of 'sad', only 40"):
        compose(LABELS, scheme="specific", target="sad", n_total=100)
    with pytest.raises(QuantizerError, match="unknown composition"):
        compose(LABELS, scheme="mixed")


def emotion_clusters(n, seed, dim=24, nuisance=4):
    """One Gaussian cluster per emotion plus a large shared nuisance subspace (like phonetic content)."""
    rng = np.random.default_rng(seed)
    means = np.random.default_rng(99).normal(size=(4, dim)) * 2
    basis = np.random.default_rng(98).normal(size=(dim, nuisance))
    y = rng.integers(0, 4, n)
    x = means[y] + rng.normal(size=(n, nuisance)) @ basis.T * 1.5 + rng.normal(size=(n, dim)) * 0.3
    return x.astype(np.float32), np.asarray(EMOTIONS)[y]


@pytest.fixture(scope="module")
def fitted():
    x, y = emotion_clusters(2000, seed=0)
    return EmoQ(n_stages=4, codebook_size=16, n_iter=10).fit({e: x[y == e] for e in EMOTIONS})


def test_emoq_routes_near_perfectly(fitted):
    x, y = emotion_clusters(400, seed=1)
    for depth in (1, 2, 4):
        assert (fitted.predict(x, depth=depth) == y).mean() > 0.95
    idx, scores = fitted.route(x, depth=2)
    assert scores.shape == (400, 4) and np.array_equal(idx, scores.argmax(1))
    # frame-level: a list of utterances, each scored by its frames' mean cosine
    utts = [x[y == e][i * 5 : i * 5 + 5] for e in EMOTIONS for i in range(5)]
    truth = np.repeat(np.arange(4), 5)
    assert (fitted.route(utts, level="frame")[0] == truth).mean() > 0.9
    assert (fitted.route(utts, level="utterance")[0] == truth).mean() > 0.9


def test_emoq_codec_and_round_trip(fitted, tmp_path):
    x, y = emotion_clusters(300, seed=2)
    codes = fitted.encode(x)
    assert codes.shape == (300, 1 + 4)
    assert (np.asarray(EMOTIONS)[codes[:, 0]] == y).mean() > 0.9  # best codebook per frame
    forced = fitted.encode(x, emotion="sad")
    assert set(forced[:, 0].tolist()) == {3}
    assert np.allclose(fitted.decode(forced, 2), fitted.reconstruct_with("sad", x, 2), atol=1e-5)
    fitted.save(tmp_path / "emoq")
    back = load_quantizer(tmp_path / "emoq")
    assert back.emotions == EMOTIONS
    assert np.array_equal(back.encode(x), codes)
    assert np.allclose(back.route(x)[1], fitted.route(x)[1], atol=1e-6)


def test_emoq_from_frame_labels_and_errors():
    x, y = emotion_clusters(800, seed=3)
    q = EmoQ(n_stages=2, codebook_size=4, composition="biased", target_share=0.95, n_iter=5).fit(x, y)
    assert q.emotions == EMOTIONS
    with pytest.raises(QuantizerError, match="no training frames for emotion.*sad"):
        EmoQ(n_stages=1, codebook_size=2, emotions=EMOTIONS).fit({e: x[y == e] for e in EMOTIONS[:3]})
    with pytest.raises(QuantizerError, match="does not fit target_share"):
        EmoQ(composition="specific", target_share=0.99)
    with pytest.raises(QuantizerError, match="needs a list"):
        q.route(x, level="frame")
    with pytest.raises(QuantizerError, match="needs {emotion: frames}"):
        EmoQ().fit(x)

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
    biased = per_emotion(LABELS, target_share=0.9, n_total=40)
    assert counts(biased["angry"])["angry"] == 36 and sum(counts(biased["angry"]).values()) == 40


def test_composition_errors_name_the_cause():
    with pytest.raises(QuantizerError, match="asks for emotion 'fear'.*have: angry, happy, neutral, sad"):
        compose(LABELS, scheme="specific", target="fear")
    with pytest.raises(QuantizerError, match="surprise has none"):
        compose(LABELS, scheme="balanced", emotions=EMOTIONS + ["surprise"])
    with pytest.raises(QuantizerError, match="needs 100 utterances of 'sad', only 40"):
        compose(LABELS, scheme="specific", target="sad", n_total=100)
    with pytest.raises(QuantizerError, match="unknown composition"):
        compose(LABELS, scheme="mixed")


def utterances(n_utts: int, seed: int, *, frames: int = 40, dim: int = 16, nuisance: float = 4.0):
    """Utterances whose frames are an emotion's mean plus a large zero-mean "phonetic" component: frames sit
    far from the origin in every direction, but their mean (the pooled vector) is near the emotion mean, a
    point of much smaller norm that frame-trained codebooks never see."""
    rng = np.random.default_rng(seed)
    means = np.random.default_rng(99).normal(size=(4, dim))
    y = rng.integers(0, 4, n_utts)
    x = np.concatenate([means[e] + nuisance * rng.normal(size=(frames, dim)) for e in y]).astype(np.float32)
    return x, np.full(n_utts, frames), np.asarray(EMOTIONS)[y]


@pytest.fixture(scope="module")
def fitted():
    x, lens, y = utterances(400, seed=0)
    frame_y = np.repeat(y, lens)
    return EmoQ(n_stages=4, codebook_size=16, n_iter=10, min_train_frames=0).fit(
        {e: x[frame_y == e] for e in EMOTIONS})


def test_emoq_routes_pooled_reconstructions_of_frames(fitted):
    """Frames go through each codebook, reconstructions are pooled: the route the paper defines."""
    x, lens, y = utterances(200, seed=1)
    acc = {d: (fitted.predict(x, lens, depth=d) == y).mean() for d in (1, 2, 4)}
    # shallow codebooks are the selective bottleneck (RQ2): deeper ones reconstruct every emotion well
    assert acc[1] > 0.95 and acc[2] > 0.95 and acc[4] > 0.8, acc
    routes = fitted.route(x, lens, [2])
    assert routes[2].scores.shape == (200, 4) and np.array_equal(routes[2].choice, routes[2].scores.argmax(1))
    assert routes[2].pooled.shape == (200, 16)


def test_frame_trained_codebooks_never_see_pooled_vectors(fitted):
    """The old definition quantized the pooled vector through frame-trained codebooks: off their training
    distribution (its norm is far smaller than any frame's), it routes near chance here."""
    from emobench.quantizers.routing import route_choice
    from emobench.quantizers.sweep import owners, segment_mean

    x, lens, y = utterances(200, seed=1)
    import torch

    t = torch.as_tensor(x)
    pooled = segment_mean(t, owners(lens, t.device), torch.as_tensor(lens)).numpy()
    assert np.linalg.norm(pooled, axis=1).mean() < 0.5 * np.linalg.norm(x, axis=1).mean()
    from emobench.metrics import cosine_similarity

    old = route_choice(np.stack([cosine_similarity(pooled, b.reconstruct(pooled, 1)) for b in fitted.books.values()], 1))
    new = fitted.route(x, lens, [1])[1].choice
    assert (new == np.array([EMOTIONS.index(e) for e in y])).mean() > 0.9
    assert (old == np.array([EMOTIONS.index(e) for e in y])).mean() < 0.6


def test_utterance_level_trains_and_routes_pooled_vectors():
    x, lens, y = utterances(400, seed=0)
    import torch

    from emobench.quantizers.sweep import owners, segment_mean

    t = torch.as_tensor(x)
    pooled = segment_mean(t, owners(lens, t.device), torch.as_tensor(lens)).numpy()
    q = EmoQ(n_stages=2, codebook_size=8, n_iter=10, level="utterance", min_train_frames=0).fit(
        {e: pooled[y == e] for e in EMOTIONS})
    assert q.input_level == "utterance"
    xt, lt, yt = utterances(200, seed=1)
    assert (q.predict(xt, lt, depth=2) == yt).mean() > 0.9


def test_emoq_codec_and_round_trip(fitted, tmp_path):
    x, lens, y = utterances(30, seed=2)
    first = x[: lens[0]]
    codes = fitted.encode(first)  # one utterance: routed once, every frame coded with that book
    assert codes.shape == (lens[0], 1 + 4) and len(set(codes[:, 0].tolist())) == 1
    assert EMOTIONS[codes[0, 0]] == y[0]
    forced = fitted.encode(first, emotion="sad")
    assert set(forced[:, 0].tolist()) == {3}
    assert np.allclose(fitted.decode(forced, 2), fitted.book("sad").reconstruct(first, 2), atol=1e-5)
    assert fitted.bits_per_frame(4) == 4 * 4 and fitted.route_bits == 2.0
    fitted.save(tmp_path / "emoq")
    back = load_quantizer(tmp_path / "emoq")
    assert back.emotions == EMOTIONS
    assert np.array_equal(back.encode(first), codes)
    assert np.allclose(back.route(x, lens, [3])[3].scores, fitted.route(x, lens, [3])[3].scores, atol=1e-6)


def test_emoq_from_frame_labels_and_errors():
    x, lens, y = utterances(100, seed=3)
    frame_y = np.repeat(y, lens)
    q = EmoQ(n_stages=2, codebook_size=4, composition="biased", target_share=0.95, n_iter=5).fit(x, frame_y)
    assert q.emotions == EMOTIONS
    with pytest.raises(QuantizerError, match="no training frames for emotion.*sad"):
        EmoQ(n_stages=1, codebook_size=2, emotions=EMOTIONS).fit({e: x[frame_y == e] for e in EMOTIONS[:3]})
    with pytest.raises(QuantizerError, match="does not fit target_share"):
        EmoQ(composition="specific", target_share=0.99)
    with pytest.raises(QuantizerError, match="needs {emotion: frames}"):
        EmoQ().fit(x)

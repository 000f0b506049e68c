"""Split protocols: stratification within one clip, speaker independence, determinism, leakage errors."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from emobench import splits as sp
from emobench.corpora.base import Utterance
from emobench.errors import CorpusError, EmobenchError, SplitLeakError

LABELS = ("angry", "happy", "neutral", "sad")


def corpus(name: str, n_speakers: int = 8, per_speaker: int = 13, seed: int = 0) -> list[Utterance]:
    rng = random.Random(seed)
    out = []
    for s in range(n_speakers):
        for i in range(per_speaker + rng.randint(0, 5)):
            out.append(Utterance(id=f"{name}/s{s}_{i}", corpus=name, path=f"/x/{name}/s{s}_{i}.wav",
                                 speaker=f"{s:02d}", label=LABELS[rng.randrange(4)], split=f"Session{s % 5 + 1}"))
    return out


UTTS = corpus("a") + corpus("b", n_speakers=10, seed=1)


def ids(utts):
    return [u.id for u in utts]


@pytest.mark.parametrize("fractions", [(0.5, 0.1, 0.4), (0.7, 0.15, 0.15), (0.34, 0.33, 0.33)])
def test_stratified_within_one_clip_per_class_per_corpus(fractions):
    s = sp.stratified(UTTS, fractions=fractions, seed=3)
    assert len(s.train) + len(s.val) + len(s.test) == len(UTTS)
    totals = Counter((u.corpus, u.label) for u in UTTS)
    for part, frac in zip((s.train, s.val, s.test), fractions, strict=True):
        got = Counter((u.corpus, u.label) for u in part)
        for key, n in totals.items():
            assert abs(got[key] - n * frac) <= 1, (key, got[key], n * frac)
    assert s.protocol["name"] == "stratified" and s.protocol["fractions"] == list(fractions)


def test_same_seed_same_split_regardless_of_order():
    shuffled = list(UTTS)
    random.Random(9).shuffle(shuffled)
    a, b = sp.stratified(UTTS, seed=7), sp.stratified(shuffled, seed=7)
    assert ids(a.train) == ids(b.train) and ids(a.test) == ids(b.test)
    assert a.protocol["ids_sha256"] == b.protocol["ids_sha256"]
    assert ids(sp.stratified(UTTS, seed=8).test) != ids(a.test)
    c, d = sp.speaker_independent(UTTS, seed=7), sp.speaker_independent(shuffled, seed=7)
    assert ids(c.test) == ids(d.test)


def test_speaker_independent_has_no_shared_speaker_and_rough_fractions():
    s = sp.speaker_independent(UTTS, seed=1)
    spk = [{(u.corpus, u.speaker) for u in part} for part in (s.train, s.val, s.test)]
    assert not (spk[0] & spk[1]) and not (spk[0] & spk[2]) and not (spk[1] & spk[2])
    assert all(spk)  # every part has speakers
    n = len(UTTS)
    assert abs(len(s.train) / n - 0.5) < 0.12 and abs(len(s.test) / n - 0.4) < 0.12
    assert s.protocol["speaker_independent"] is True
    s.check()


def test_kfold_covers_everything_once():
    folds = sp.kfold(UTTS, k=5, seed=0)
    tests = [u.id for f in folds for u in f.test]
    assert sorted(tests) == sorted(ids(UTTS))
    sizes = [len(f.test) for f in folds]
    assert max(sizes) - min(sizes) <= 4
    for f in folds:
        assert not set(ids(f.train)) & set(ids(f.test))
    si = sp.kfold(UTTS, k=4, seed=0, speaker_independent=True, val_fraction=0.2)
    for f in si:
        assert not {(u.corpus, u.speaker) for u in f.train + f.val} & {(u.corpus, u.speaker) for u in f.test}
        assert f.val and f.protocol["fold"] in range(4)
    with pytest.raises(CorpusError, match="cannot make 50 folds"):
        sp.kfold(UTTS, k=50, seed=0, speaker_independent=True)


def test_predefined_sessions():
    s = sp.predefined(UTTS, train=["Session1", "Session2", "Session3"], val="Session4", test="Session5",
                      speaker_independent=True)
    assert {u.split for u in s.test} == {"Session5"} and s.protocol["unused"] == 0
    with pytest.raises(CorpusError, match=r"predefined split values \['Session9'\] match no utterance"):
        sp.predefined(UTTS, train="Session9", test="Session5")
    with pytest.raises(EmobenchError, match="in both train and test"):
        sp.predefined(UTTS, train="Session1", test=["Session1"])


def test_leave_one_corpus_out_and_held_out():
    (loco,) = sp.leave_one_corpus_out(UTTS, held_out="a", seed=0)
    assert {u.corpus for u in loco.codebook_train} == {"b"}
    folds = sp.leave_one_corpus_out(UTTS, held_out="a", seed=0, protocol="kfold", k=3)
    assert len(folds) == 3 and all(f.codebook_train == loco.codebook_train for f in folds)
    assert sorted(u.id for f in folds for u in f.test) == sorted(u.id for u in UTTS if u.corpus == "a")
    assert {u.corpus for u in loco.train + loco.val + loco.test} == {"a"}
    held = sp.held_out_corpus(UTTS, held_out="a", seed=0)
    assert ids(held.test) == sorted(u.id for u in UTTS if u.corpus == "a")
    assert {u.corpus for u in held.train + held.val} == {"b"}
    with pytest.raises(CorpusError, match="held-out corpus 'iemocap' has no utterances"):
        sp.held_out_corpus(UTTS, held_out="iemocap", seed=0)


def test_leakage_is_an_error_before_work():
    a = UTTS[:10]
    with pytest.raises(SplitLeakError, match="1 evaluation utterances are also in the fitting data"):
        sp.check_disjoint(a, [a[3]], by_speaker=False)
    other = [u for u in UTTS[10:] if (u.corpus, u.speaker) == (a[0].corpus, a[0].speaker)][:1]
    sp.check_disjoint(a, other, by_speaker=False)
    with pytest.raises(SplitLeakError, match="speakers are in both fitting and evaluation data"):
        sp.check_disjoint(a, other, by_speaker=True)
    same_audio = Utterance(id="c/other-id", corpus="c", path=a[0].path, speaker="z", label="sad")
    with pytest.raises(SplitLeakError):
        sp.check_disjoint(a, [same_audio], by_speaker=False)
    bad = sp.stratified(UTTS, seed=0)
    bad.test.append(bad.train[0])
    with pytest.raises(SplitLeakError):
        bad.check()


def test_bad_inputs():
    with pytest.raises(CorpusError, match="duplicate utterance ids"):
        sp.stratified(UTTS + UTTS[:1], seed=0)
    with pytest.raises(EmobenchError, match="fractions must be three"):
        sp.stratified(UTTS, fractions=(0.5, 0.5, 0.5), seed=0)


def test_ambiguity_strata():
    assert sp.ambiguity_stratum((0.6, 0.3, 0.1, 0.0)) == "low"
    assert sp.ambiguity_stratum((0.5, 0.5, 0.0, 0.0)) == "high"
    assert sp.ambiguity_stratum((0.4, 0.3, 0.3, 0.0)) == "high"
    assert sp.ambiguity_stratum(1 / 6 + 1 / 6 + 1 / 6) == "high"  # 0.5000000000000001 is an exact 50%
    assert sp.ambiguity_stratum(0.5 + 1e-6) == "low"
    with pytest.raises(EmobenchError):
        sp.ambiguity_stratum(None)


def test_split_protocol_table_and_exported_split_round_trip(tmp_path):
    import csv

    for name in ("stratified", "speaker_independent"):
        (s,) = sp.split(UTTS, name, seed=3)
        s.check()
    assert len(sp.split(UTTS, "kfold", seed=0, k=4)) == 4
    (s,) = sp.split(UTTS, "speaker_independent", seed=1)
    path = tmp_path / "split.csv"
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["utt_id", "part"])
        for part in ("train", "val", "test"):
            w.writerows((u.id, part) for u in getattr(s, part))
    (back,) = sp.split(UTTS, "from_file", seed=99, path=str(path))
    assert [ids(getattr(back, p)) for p in ("train", "val", "test")] == [ids(getattr(s, p)) for p in ("train", "val", "test")]
    with pytest.raises(EmobenchError, match="unknown split protocol 'random'"):
        sp.split(UTTS, "random", seed=0)


def test_describe_mentions_parts():
    text = sp.leave_one_corpus_out(UTTS, held_out="b", seed=0)[0].describe()
    assert "codebook_train" in text and "held_out b" in text and "test:" in text

"""Acted corpora loaded from fake trees in their native layouts: labels, speakers, drops, soft labels."""

from __future__ import annotations

import re

import pytest
from corpora_fixtures import (
    make_cremad,
    make_emns,
    make_emodb,
    make_enterface,
    make_esd,
    make_jl,
    make_ravdess,
    write_wav,
)

from emobench.corpora.cremad import CREMAD
from emobench.corpora.emns import EMNS
from emobench.corpora.emodb import EmoDB
from emobench.corpora.enterface import ENTERFACE
from emobench.corpora.esd import ESD
from emobench.corpora.jl import JLCorpus
from emobench.corpora.ravdess import RAVDESS
from emobench.errors import CorpusError


def by_id(corpus):
    return {u.id: u for u in corpus.utterances}


def test_ravdess_codes_speakers_and_drops(tmp_path):
    c = RAVDESS(root=make_ravdess(tmp_path / "r")).load()
    u = by_id(c)["ravdess/03-01-05-01-02-01-03"]
    assert (u.label, u.speaker, u.meta["gender"], u.meta["statement"]) == ("angry", "03", "male", "02")
    assert {x.label for x in c.utterances} == {"angry", "happy", "neutral", "sad"}
    assert len(c) == 4 * 4 * 2 and c.dropped == {"fearful": 8}
    assert c.skipped == {"song (vocal channel 02)": 4}
    c8 = RAVDESS(root=tmp_path / "r", label_set="ravdess8").load()
    assert len(c8) == 40 and not c8.dropped


def test_ravdess_duplicate_copy_is_an_error(tmp_path):
    root = make_ravdess(tmp_path / "r", actors=(1,))
    write_wav(tmp_path / "r" / "copy" / "Actor_01" / "03-01-05-01-01-01-01.wav")
    with pytest.raises(CorpusError, match="ravdess: duplicate utterance id '03-01-05-01-01-01-01'.*copy"):
        RAVDESS(root=root).load()


def test_emodb_letters(tmp_path):
    c = EmoDB(root=make_emodb(tmp_path / "e")).load()
    labels = {u.id.split("/")[1]: u.label for u in c.utterances}
    assert labels["03a01Wa"] == "angry" and labels["03a05Fa"] == "happy" and labels["03a01Ta"] == "sad"
    assert c.dropped == {"bored": 4, "disgust": 4, "fearful": 4}
    c7 = EmoDB(root=tmp_path / "e", label_set="emodb7").load()
    assert len(c7) == 28 and {u.speaker for u in c7.utterances} == {"03", "08", "09", "10"}


def test_cremad_votes_are_voice_only_and_renormalised(tmp_path):
    table = make_cremad(tmp_path / "c")
    c = CREMAD(root=tmp_path / "c").load()
    assert c.soft_label_source.startswith("processedResults/tabulatedVotes.csv")
    u = by_id(c)["crema-d/1002_IEO_HAP_HI"]
    a, d, f, h, n, s = table["1002_IEO_HAP_HI"]
    total = a + h + n + s
    if total:
        assert u.soft_label == pytest.approx((a / total, h / total, n / total, s / total))
    assert u.label == "happy" and u.speaker == "1002" and u.meta["level"] == "HI"
    # the first clip's votes are all disgust/fear: it keeps its hard label but has no soft label
    assert by_id(c)["crema-d/1001_DFA_ANG_XX"].soft_label is None
    assert any("votes only outside the label set" in p for p in c.problems)
    assert c.dropped == {"disgust": 6, "fearful": 6}
    c6 = CREMAD(root=tmp_path / "c", label_set="crema6").load()
    assert by_id(c6)["crema-d/1001_DFA_ANG_XX"].soft_label == pytest.approx((0, 0.6, 0.4, 0, 0, 0))
    face = CREMAD(root=tmp_path / "c", vote_condition="face").load()
    assert by_id(face)["crema-d/1002_IEO_HAP_HI"].soft_label == (1.0, 0.0, 0.0, 0.0)


def test_cremad_without_votes(tmp_path):
    make_cremad(tmp_path / "c", votes=False)
    c = CREMAD(root=tmp_path / "c").load()
    assert not c.has_soft_labels and any("tabulatedVotes" in p for p in c.problems)
    with pytest.raises(CorpusError, match="crema-d: vote table .*tabulatedVotes.csv not found"):
        CREMAD(root=tmp_path / "c", soft_labels=True).load()


def test_esd_english_speakers_and_own_splits(tmp_path):
    c = ESD(root=make_esd(tmp_path / "s")).load()
    assert {u.speaker for u in c.utterances} == {"0011", "0012", "0013"}
    assert c.dropped == {"surprised": 12}
    assert {u.split for u in c.utterances} == {"train", "evaluation", "test"}
    u = by_id(c)["esd/0011_000351"]
    assert (u.label, u.split) == ("angry", "train")
    assert any("0014" in p for p in c.problems)  # selected but absent speakers are reported
    assert c.skipped["speaker not selected (Mandarin speakers 0001-0010 by default)"] == 20


def test_jl_primary_emotions(tmp_path):
    c = JLCorpus(root=make_jl(tmp_path / "j")).load()
    assert {u.speaker for u in c.utterances} == {"female1", "female2", "male1", "male2"}
    assert c.dropped == {"excited": 8, "anxious (no canonical emotion)": 8}
    assert by_id(c)["jl-corpus/male2_sad_2b_1"].label == "sad"


def test_enterface_labels_from_folders(tmp_path):
    c = ENTERFACE(root=make_enterface(tmp_path / "n"), label_set="enterface6").load()
    assert len(c) == 3 * 6 * 2
    u = by_id(c)["enterface/s11_happiness_2"]
    assert (u.speaker, u.label, u.meta["file_name"]) == ("s11", "happy", "s12_ha_2.wav")
    assert by_id(c)["enterface/s1_anger_1"].path.endswith(".wav")
    emo4 = ENTERFACE(root=tmp_path / "n").load()
    assert {u.label for u in emo4.utterances} == {"angry", "happy", "sad"}


def test_emns_metadata_and_converted_audio(tmp_path):
    c = EMNS(root=make_emns(tmp_path / "m")).load()
    assert {u.label for u in c.utterances} == {"angry", "happy", "sad", "neutral"}
    assert all(u.path.endswith(".wav") and u.speaker == "3" for u in c.utterances)
    assert any("no .wav/.flac audio" in p for p in c.problems)
    assert c.dropped["excited"] == 2
    merged = EMNS(root=tmp_path / "m", merge_excited=True).load()
    assert "excited" not in merged.dropped and len(merged) == len(c) + 2


def test_unknown_native_label_is_skipped_counted_and_named(tmp_path):
    root = make_emns(tmp_path / "m")
    whole = len(EMNS(root=root).load().utterances)
    text = (root / "metadata.csv").read_text().replace("|Angry|", "|Furious|", 1)
    (root / "metadata.csv").write_text(text)
    c = EMNS(root=root).load()  # one stray label must not block the corpus
    assert len(c.utterances) == whole - 1 and c.skipped.get("unknown emotion code") == 1
    ((_, reason),) = c.unusable
    assert re.search(r"emns: unknown label 'Furious' in .*metadata.csv line 2", reason)


def test_ravdess_file_with_an_emotion_code_that_does_not_exist(tmp_path):
    root = make_ravdess(tmp_path / "r")
    write_wav(root / "Actor_01" / "03-01-09-01-01-01-01.wav")  # there is no emotion 09
    c = RAVDESS(root=root).load()
    assert c.skipped.get("unknown emotion code") == 1
    assert any("03-01-09-01-01-01-01.wav" in f for f, _ in c.unusable)


def test_jl_prefers_the_raw_folder_over_other_copies(tmp_path):
    root = make_jl(tmp_path / "j")
    write_wav(root / "other copy" / "female1_angry_1a_1.wav")
    assert len(JLCorpus(root=root).load()) == 32  # only the release's JL(wav+txt) folder is read
    flat = tmp_path / "flat"
    write_wav(flat / "a" / "female1_angry_1a_1.wav")
    write_wav(flat / "b" / "female1_angry_1a_1.wav")
    with pytest.raises(CorpusError, match="jl-corpus: duplicate utterance id 'female1_angry_1a_1'"):
        JLCorpus(root=flat).load()

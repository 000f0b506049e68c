"""IEMOCAP from a fake release tree: EmoEvaluation parsing, excited -> happy, vote distributions."""

from __future__ import annotations

import re

import pytest
from corpora_fixtures import make_iemocap

from emobench.corpora.iemocap import IEMOCAP, parse_emo_evaluation
from emobench.errors import CorpusError

ORDER = ("angry", "happy", "neutral", "sad")


def test_parse_block_votes(tmp_path):
    root = make_iemocap(tmp_path / "i", sessions=(1,))
    items = parse_emo_evaluation(root / "Session1/dialog/EmoEvaluation/Ses01F_impro01.txt")
    first = items[0]
    assert (first["name"], first["code"], first["start_s"]) == ("Ses01F_impro01_F000", "neu", 6.0)
    assert dict(first["votes"]) == {"neutral": 2.0, "frustrated": 1.0}  # the C-F1 self-evaluation is left out
    both = parse_emo_evaluation(root / "Session1/dialog/EmoEvaluation/Ses01F_impro01.txt", self_evaluations=True)
    assert dict(both[0]["votes"]) == {"neutral": 2.0, "frustrated": 1.0, "angry": 1.0}
    # an evaluator naming two categories gives each half a vote
    assert dict(items[1]["votes"]) == {"angry": 1.5, "frustrated": 0.5, "sad": 1.0}


def test_loader_labels_speakers_sessions_soft(tmp_path):
    c = IEMOCAP(root=make_iemocap(tmp_path / "i"), sessions=(1, 2)).load()
    ids = {u.id: u for u in c.utterances}
    assert len(c) == 2 * 4  # per session: neu, ang, exc->happy, sad kept; xxx and fru dropped
    assert c.dropped == {"frustrated": 2, "no agreement (kept for soft-label tasks)": 2}
    # no-agreement (xxx) utterances with votes are kept apart, for RQ3's high-ambiguity population
    assert len(c.unlabelled) == 2 and all(u.label is None and u.soft_label for u in c.unlabelled)
    exc = ids["iemocap/Ses02F_impro01_F002"]
    assert (exc.label, exc.speaker, exc.split) == ("happy", "Ses02F", "Session2")
    # votes: excited 1 + happiness 1 merged into happy, neutral 1
    assert exc.soft_label == pytest.approx((0, 2 / 3, 1 / 3, 0))
    ang = ids["iemocap/Ses01F_impro01_M001"]
    assert ang.speaker == "Ses01M"
    # 1.5 angry, 0.5 frustrated (outside emo4: removed), 1 sad -> renormalised over 2.5
    assert ang.soft_label == pytest.approx((0.6, 0, 0, 0.4))
    # the strata use the share of ALL votes: 1.5 of 3 is exactly one half, no majority (not 0.6 = "low")
    from emobench.splits import stratum_of

    assert ang.primary_share == 0.5 and stratum_of(ang) == "high"
    sad = ids["iemocap/Ses01F_impro01_M005"]
    assert sad.soft_label == pytest.approx((0, 0, 0, 1.0))  # the 'Other' vote is outside the set
    assert ang.start_s is None and ang.path.endswith("Session1/sentences/wav/Ses01F_impro01/Ses01F_impro01_M001.wav")


def test_label_set_with_excited_keeps_it_apart(tmp_path):
    c = IEMOCAP(root=make_iemocap(tmp_path / "i", sessions=(1,)), sessions=(1,), label_set="iemocap6").load()
    ids = {u.id: u for u in c.utterances}
    assert ids["iemocap/Ses01F_impro01_F002"].label == "excited"
    assert ids["iemocap/Ses01F_impro01_F004"].label == "frustrated"


def test_missing_annotation_folder_and_bad_category(tmp_path):
    root = make_iemocap(tmp_path / "i", sessions=(1,))
    with pytest.raises(CorpusError, match=r"iemocap: annotation folder .*Session2/dialog/EmoEvaluation not found"):
        IEMOCAP(root=root, sessions=(1, 2)).load()
    f = root / "Session1/dialog/EmoEvaluation/Ses01F_impro01.txt"
    f.write_text(f.read_text().replace("C-E3:\tNeutral;", "C-E3:\tGrumpy;", 1))
    c = IEMOCAP(root=root, sessions=(1,)).load()  # free text on an evaluator line: an 'other' vote, reported
    assert any("Ses01F_impro01_F000" in p and "'Grumpy' on line" in p for p in c.problems)
    u = {x.id: x for x in c.utterances}["iemocap/Ses01F_impro01_F000"]
    assert u.soft_label == pytest.approx((0, 0, 1.0, 0))
    f.write_text(f.read_text().replace("\tneu\t", "\tgrr\t", 1))
    c = IEMOCAP(root=root, sessions=(1,)).load()  # an unknown consensus code: that utterance is skipped, named
    assert "iemocap/Ses01F_impro01_F000" not in {u.id for u in c.utterances}
    assert any(re.search(r"unknown label 'grr' in .*Ses01F_impro01.txt \(Ses01F_impro01_F000\)", r)
               for _, r in c.unusable)


def test_missing_wav_is_reported(tmp_path):
    root = make_iemocap(tmp_path / "i", sessions=(1,))
    (root / "Session1/sentences/wav/Ses01F_impro01/Ses01F_impro01_M005.wav").unlink()
    c = IEMOCAP(root=root, sessions=(1,)).load()
    assert any("Ses01F_impro01_M005 has no audio file" in p for p in c.problems)
    assert len(c) == 3

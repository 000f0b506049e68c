"""MSP-Podcast from a fake release: consensus labels, partitions, per-annotator votes (two file styles)."""

from __future__ import annotations

import pytest
from corpora_fixtures import make_msp_podcast

from emobench import splits as sp
from emobench.corpora.msp_podcast import MSPPodcast
from emobench.errors import CorpusError


@pytest.mark.parametrize("style", ["EmoDetail", "EmoClass_Major"])
def test_consensus_partitions_and_votes(tmp_path, style):
    c = MSPPodcast(root=make_msp_podcast(tmp_path / "m", style)).load()
    ids = {u.id: u for u in c.utterances}
    assert c.dropped == {"no agreement (kept for soft-label tasks)": 1, "contempt": 1}
    assert [u.label for u in c.unlabelled] == [None]
    a = ids["msp-podcast/MSP-PODCAST_0001_0001"]
    assert (a.label, a.speaker, a.split) == ("angry", "10", "Train")
    assert a.soft_label == pytest.approx((2 / 3, 0, 1 / 3, 0))
    h = ids["msp-podcast/MSP-PODCAST_0001_0002"]
    assert h.soft_label == pytest.approx((0, 1, 0, 0))  # the Surprise vote is outside emo4
    n = ids["msp-podcast/MSP-PODCAST_0002_0001"]
    assert n.soft_label == pytest.approx((0, 0, 0.5, 0.5))  # "Other-Concerned" is other: removed
    assert ids["msp-podcast/MSP-PODCAST_0004_0001"].speaker == "podcast-0004"
    s = sp.predefined(c.utterances, train="Train", val="Development", test=["Test1"])
    assert [u.id for u in s.val] == ["msp-podcast/MSP-PODCAST_0002_0001"]
    assert s.protocol["unused"] == 0 and len(s.test) == 1


def test_without_detailed_labels_and_missing_consensus(tmp_path):
    root = make_msp_podcast(tmp_path / "m", detailed_style="")
    c = MSPPodcast(root=root).load()
    assert not c.has_soft_labels and any("labels_detailed.csv" in p for p in c.problems)
    with pytest.raises(CorpusError, match="labels_detailed.csv not found"):
        MSPPodcast(root=root, soft_labels=True).load()
    (root / "Labels" / "labels_consensus.csv").unlink()
    with pytest.raises(CorpusError, match=r"msp-podcast: label file .*labels_consensus.csv not found"):
        MSPPodcast(root=root).load()


def test_segment_without_audio_is_reported(tmp_path):
    root = make_msp_podcast(tmp_path / "m")
    (root / "Audios" / "MSP-PODCAST_0001_0001.wav").unlink()
    c = MSPPodcast(root=root).load()
    assert any("1 labelled segments have no file" in p for p in c.problems)

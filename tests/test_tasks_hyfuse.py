"""The hyfuse task: a known-outcome fusion on synthetic features (each input alone holds half the label,
one half only in the per-frame pattern the paper's CBR pooling keeps), and `emobench run -t hyfuse` end
to end with a tiny wav2vec 2.0 and a tiny EnCodec on a fake CREMA-D tree."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
import torch
from codec_fixtures import HOP, SR, save_tiny_codec
from corpora_fixtures import make_cremad, make_emodb
from tiny_models import save_tiny_hf
from typer.testing import CliRunner

from emobench.errors import EmobenchError
from emobench.tasks.hyfuse import HYFuse
from emobench.tasks.inputs import Features
from emobench.testing import SyntheticCache, SyntheticUpstream, make_inputs, records, synthetic_corpus, value

LABELS = ("angry", "happy", "neutral", "sad")
FAST = {"lr": 1e-2, "epochs": 40, "patience": 40, "batch_size": 0}  # full batch: the paper's lr 1e-5 needs far more


def two_halves(n_per_label: int = 50, frames: int = 12):
    """label i = 2a + b. The RLR's frames carry a as a constant offset (any pooling keeps it); the CBR's
    carry b only in *when* its channels are high: the first half of the frames for b = 0, the second for
    b = 1, so its time mean is the same for every label and only a per-frame channel mean sees b."""
    centers = np.zeros((4, 8))
    centers[:, 0] = [-3.0, -3.0, 3.0, 3.0]  # a = i // 2
    corpus, rlr = synthetic_corpus("syn", n_per_label=n_per_label, n_speakers=8, dim=8, emo_dims=1, nuisance=1.0,
                                   noise=0.3, frames=frames, labels=LABELS, centers=centers)
    rng = np.random.default_rng(1)
    early = (np.arange(frames) < frames // 2).astype(np.float32)[:, None]  # [frames, 1]
    cbr = {}
    for u in corpus.utterances:
        b = LABELS.index(u.label) % 2
        pattern = 2.0 * (early if b == 0 else 1.0 - early) - 1.0  # +-1: zero time mean for both
        cbr[u.id] = (pattern + rng.normal(size=(frames, 6)) * 0.3 + rng.normal(size=6) * 0.5).astype(np.float32)
    return corpus, rlr, cbr


def synthetic_inputs(tmp_path, corpus, rlr, cbr):
    inputs, _ = make_inputs(tmp_path, {"syn": (corpus, rlr)}, task="hyfuse")
    for slot, frames in (("rlr", rlr), ("cbr", cbr)):
        dim = next(iter(frames.values())).shape[1]
        inputs.upstreams[slot] = Features(SyntheticCache(frames), SyntheticUpstream(dim), 0, inputs.device, inputs.timer)
    return inputs


def acc(out, probe, representation, pooling):
    return value(out.metrics, "accuracy", fold="mean", probe=probe, representation=representation, pooling=pooling,
                 corpus="syn")


def test_fusion_beats_each_half_and_only_the_papers_cbr_pooling_sees_the_frame_pattern(tmp_path):
    corpus, rlr, cbr = two_halves()
    task = HYFuse(rlr="syn-rlr", cbr="syn-cbr", models=("hyfuse", "cnn"), model_params=FAST, pooling="both",
                  paper_cbr="cbr", k=3, n_boot=200, label_set=list(LABELS))
    out = task.run(synthetic_inputs(tmp_path, corpus, rlr, cbr))
    pair = "syn-rlr+syn-cbr"
    assert acc(out, "hyfuse", pair, "paper") > 0.85  # both halves: every label
    assert 0.35 < acc(out, "hyfuse", pair, "masked") < 0.65  # the time mean erases b: half the label
    assert 0.35 < acc(out, "cnn", "syn-rlr", "paper") < 0.65  # a alone
    assert 0.35 < acc(out, "cnn", "syn-cbr", "paper") < 0.65  # b alone, in the per-frame channel means
    assert acc(out, "cnn", "syn-cbr", "masked") < 0.4  # nothing: chance is 0.25
    assert acc(out, "hyfuse", pair, "paper") - max(acc(out, "cnn", s, "paper") for s in ("syn-rlr", "syn-cbr")) > 0.25
    gain = records(out.metrics, "accuracy_diff", comparison="paper-masked", probe="hyfuse", fold="mean")[0]
    assert gain["value"] > 0.25 and gain["ci_low"] > 0  # paired over the same test folds
    assert out.protocol["per_corpus"]["syn"]["widths"] == {"paper": {"rlr": 8, "cbr": 12},
                                                          "masked": {"rlr": 8, "cbr": 6}}


@pytest.fixture(scope="module")
def five_folds(tmp_path_factory):
    corpus, rlr, cbr = two_halves(n_per_label=10)
    task = HYFuse(rlr="syn-rlr", cbr="syn-cbr", models=("hyfuse", "concat"), model_params={"epochs": 3},
                  n_boot=50, label_set=list(LABELS))
    tmp = tmp_path_factory.mktemp("hyfuse")
    return task, task.run(synthetic_inputs(tmp, corpus, rlr, cbr)), corpus, tmp


def test_fold_records_are_means_of_the_folds_and_every_utterance_is_tested_once(five_folds):
    _, out, corpus, _ = five_folds
    at = {"probe": "hyfuse", "representation": "syn-rlr+syn-cbr", "pooling": "paper", "corpus": "syn"}
    per_fold = [value(out.metrics, "accuracy", fold=k, **at) for k in range(5)]
    mean = records(out.metrics, "accuracy", fold="mean", **at)[0]
    assert mean["value"] == pytest.approx(np.mean(per_fold)) and mean["std"] == pytest.approx(np.std(per_fold, ddof=1))
    assert mean["n"] == 5 and mean["ci_low"] <= mean["value"] <= mean["ci_high"]
    preds = out.predictions
    mine = preds[preds.probe == "hyfuse"]
    assert sorted(mine.utt_id) == sorted(u.id for u in corpus.utterances)  # each utterance in one test fold
    for k in range(5):  # the per-fold accuracy is the sidecar's
        fold = mine[mine.fold == k]
        assert value(out.metrics, "accuracy", fold=k, **at) == pytest.approx(float((fold.pred == fold.label).mean()))
    conf = records(out.metrics, "confusion", fold="all", **at)
    assert sum(r["value"] for r in conf) == len(corpus.utterances)
    diff = records(out.metrics, "accuracy_diff", comparison="hyfuse-concat", fold="mean")[0]
    assert diff["value"] == pytest.approx(acc(out, "hyfuse", at["representation"], "paper")
                                          - acc(out, "concat-fusion", at["representation"], "paper"))
    assert any("not speaker-independent" in n for n in out.notes)


def test_models_are_cached_by_content_and_a_rerun_gives_the_same_numbers(five_folds):
    task, out, corpus, tmp = five_folds
    _, rlr, cbr = two_halves(n_per_label=10)
    store = tmp / "probes"
    before = sorted(p.name for p in store.iterdir())
    assert len(before) == 5 * 2  # folds x (hyfuse, concat)
    again = task.run(synthetic_inputs(tmp, corpus, rlr, cbr))
    assert sorted(p.name for p in store.iterdir()) == before
    assert [m["value"] for m in again.metrics] == [m["value"] for m in out.metrics]


def test_speaker_independent_folds_keep_each_speaker_in_one_test_fold(tmp_path):
    corpus, rlr, cbr = two_halves(n_per_label=10)
    task = HYFuse(rlr="a", cbr="b", models=("concat",), model_params={"epochs": 1}, speaker_independent=True,
                  n_boot=20, label_set=list(LABELS))
    out = task.run(synthetic_inputs(tmp_path, corpus, rlr, cbr))
    folds_of = out.predictions.groupby("speaker").fold.nunique()
    assert (folds_of == 1).all() and out.predictions.fold.nunique() == 5
    assert not any("not speaker-independent" in n for n in out.notes)


def test_bad_settings_fail_before_any_work(tmp_path):
    from emobench.corpora.emodb import EmoDB

    with pytest.raises(EmobenchError, match="rlr_params / rlr_layer need rlr=NAME"):
        HYFuse(rlr_params={"model": "x"})
    with pytest.raises(TypeError, match="unknown parameters"):
        HYFuse(model_params={"epoch": 3})
    emodb = EmoDB(root=make_emodb(tmp_path / "emodb"), label_set="crema6").load()
    with pytest.raises(EmobenchError, match=r"emodb .*drops \{'bored'.*-T label_set=emodb7"):
        HYFuse().check({"emodb": emodb})


# -- end to end through the CLI -----------------------------------------------------------------------
@pytest.fixture(scope="module")
def models(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    return {"w2v": save_tiny_hf(root / "w2v", "wav2vec2"), "encodec": save_tiny_codec(root / "encodec", "encodec")}


def cli(tmp_path, *args):
    from emobench.cli.main import app

    result = CliRunner().invoke(app, ["run", "-t", "hyfuse", "--out", str(tmp_path / "out"), "--cache-dir",
                                      str(tmp_path / "cache"), "--no-site", "--device", "cpu", *args])
    return result


def test_emobench_run_hyfuse_with_wav2vec2_and_encodec(tmp_path, models):
    crema = tmp_path / "crema"
    make_cremad(crema)
    torch.manual_seed(0)
    result = cli(tmp_path, "-T", "rlr=wav2vec2", "-T", f"rlr_params={{model: {models['w2v']}}}", "-T", "cbr=encodec",
                 "-T", f"cbr_params={{model: {models['encodec']}}}", "-T", "model_params={epochs: 2}",
                 "-T", "n_boot=20", "-c", f"crema-d={crema}")
    assert result.exit_code == 0, result.output
    doc = json.loads(next((tmp_path / "out").glob("hyfuse-*.json")).read_text())
    assert doc["extra_upstreams"]["rlr"]["name"] == "wav2vec2" and doc["extra_upstreams"]["cbr"]["dim"] == 16
    assert doc["corpora"][0]["label_set"] == ["angry", "disgust", "fearful", "happy", "neutral", "sad"]
    widths = doc["protocol"]["per_corpus"]["crema-d"]["widths"]["paper"]
    assert widths == {"rlr": 32, "cbr": round(0.25 * SR / HOP)}  # hidden size; one channel mean per 100 Hz frame
    accs = [m for m in doc["metrics"] if m["name"] == "accuracy" and m["breakdown"]["fold"] == "mean"]
    assert {m["breakdown"]["probe"] for m in accs} == {"hyfuse", "concat-fusion"}
    assert all(0 <= m["value"] <= 1 and m["unit"] == "fraction" for m in accs)
    assert any("cbr_params={pad_to_s: 0.250}" in n for n in doc["notes"])
    # the pair, not -u, names the run; it trains its own models, so the result names no probe
    assert doc["system"] == "wav2vec2+encodec" and doc["run_id"].startswith("hyfuse-wav2vec2-encodec-")
    assert doc["probe"] is None
    # the site: every table of the paper (Tables 1-2, accuracy and F1), ours in the pair's row
    from emobench.leaderboard import build_site

    build_site([tmp_path / "out"], tmp_path / "site")
    page = (tmp_path / "site" / "task-hyfuse.html").read_text()
    titles = re.findall(r'<h2 id="pt-h\d+">(.*?)</h2>', page)
    assert len(titles) == 8 and titles[0] == "Table 2: HYFuse accuracy" and "Table 1" in titles[-1]
    assert "<caption>wav2vec2+encodec</caption>" in page and "[, ]" not in page and "probe —" not in page


def test_pad_to_s_encodes_the_padding_and_masked_pooling_refuses_it(tmp_path, models):
    crema = tmp_path / "crema"
    make_cremad(crema, actors=("1001", "1002"))
    base = ["-T", "rlr=encodec", "-T", f"rlr_params={{model: {models['encodec']}}}", "-T", "cbr=encodec",
            "-T", "models=[cnn]", "-T", "model_params={epochs: 1}", "-T", "n_boot=5", "-T", "k=2",
            "-c", f"crema-d={crema}"]
    padded = f"cbr_params={{model: {models['encodec']}, pad_to_s: 0.5}}"
    result = cli(tmp_path, *base, "-T", padded)
    assert result.exit_code == 0, result.output
    doc = json.loads(next((tmp_path / "out").glob("hyfuse-*.json")).read_text())
    assert doc["protocol"]["per_corpus"]["crema-d"]["widths"]["paper"] == {"rlr": 25, "cbr": 50}  # both are CBRs
    result = cli(tmp_path, *base, "-T", padded, "-T", "pooling=masked")
    assert result.exit_code != 0 and "drop pad_to_s" in result.output

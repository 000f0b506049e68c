"""`emobench run` through Typer's CliRunner on the embedded default, and its bad-input errors."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from emobench.cli.main import app
from emobench.results import read_result

runner = CliRunner()


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="module")
def default_run(tmp_path_factory, cache_dir):
    """The README's main job: `emobench run` with no options (paths redirected to tmp)."""
    out = tmp_path_factory.mktemp("results")
    result = runner.invoke(app, ["run", "--out", str(out), "--cache-dir", str(cache_dir)])
    assert result.exit_code == 0, result.output
    return out, result.output


def _metric(doc, name, **bd):
    return [m for m in doc["metrics"] if m["name"] == name and all(m["breakdown"].get(k) == v for k, v in bd.items())
            and ("emotion" in bd or "emotion" not in m["breakdown"])]


def test_default_run_writes_valid_results_and_a_page(default_run):
    out, output = default_run
    (path,) = out.glob("*.json")
    doc = read_result(path)
    assert doc["synthetic"] is True and "SYNTHETIC" in doc["notes"][0]
    assert doc["upstream"]["name"] == "fbank" and doc["task"] == "rq1"
    assert (out / "site" / "index.html").is_file()
    assert "SYNTHETIC" in output and "UAR" in output  # summary table
    preds = pd.read_csv(out / doc["predictions_file"])
    assert set(preds["condition"]) == {"continuous", "quantized"}  # the baseline is one condition, no depth
    assert set(preds.loc[preds.condition == "quantized", "depth"]) == set(range(1, doc["quantizer"]["n_stages"] + 1))
    assert preds.loc[preds.condition == "continuous", "depth"].isna().all()
    csv = pd.read_csv(next(out.glob("*.metrics.csv")))
    from emobench.results.table import COLUMNS

    assert list(csv.columns[: len(COLUMNS)]) == list(COLUMNS)
    assert csv["depth"].dropna().apply(float.is_integer).all()


def test_default_run_numbers_make_sense(default_run):
    out, _ = default_run
    doc = read_result(next(out.glob("*.json")))
    n_stages = doc["quantizer"]["n_stages"]
    cos = [_metric(doc, "cosine_frame", depth=d)[0]["value"] for d in range(1, n_stages + 1)]
    assert all(-1 <= c <= 1 for c in cos)
    assert all(b >= a - 1e-6 for a, b in zip(cos, cos[1:])), cos  # more stages never reconstruct worse
    uar_cont = _metric(doc, "uar", condition="continuous")[0]["value"]
    uar = [_metric(doc, "uar", depth=d)[0]["value"] for d in range(1, n_stages + 1)]
    assert 0.35 < uar_cont < 0.95, "the demo corpus should be informative but not trivially separable"
    assert abs(uar[-1] - uar_cont) < 0.1, (uar, uar_cont)
    assert uar[0] < uar_cont, "one RVQ stage should lose emotion information"
    # recomputable from the predictions sidecar
    preds = pd.read_csv(out / doc["predictions_file"])
    last = preds[(preds["condition"] == "quantized") & (preds["depth"] == n_stages)]
    from sklearn.metrics import recall_score

    assert np.isclose(recall_score(last["label"], last["pred"], average="macro"), uar[-1])
    confusion = [m for m in doc["metrics"] if m["name"] == "confusion" and m["breakdown"].get("depth") == n_stages]
    pd_confusion = pd.crosstab(last["label"], last["pred"])
    for m in confusion:
        expected = pd_confusion.get(m["breakdown"]["predicted"], {}).get(m["breakdown"]["emotion"], 0)
        assert m["value"] == expected
    assert sum(m["value"] for m in confusion) == len(last)
    bitrate = doc["quantizer"]["bitrate"]
    assert bitrate["bps"] == pytest.approx(n_stages * np.log2(doc["quantizer"]["codebook_size"]) * 100)


def test_second_run_reuses_cache_and_is_reproducible(default_run, cache_dir, tmp_path):
    out, _ = default_run
    first = read_result(next(out.glob("*.json")))
    result = runner.invoke(app, ["run", "--out", str(tmp_path), "--cache-dir", str(cache_dir), "--no-site"])
    assert result.exit_code == 0, result.output
    second = read_result(next(tmp_path.glob("*.json")))
    assert second["run_hash"] == first["run_hash"]
    assert [m["value"] for m in second["metrics"]] == [m["value"] for m in first["metrics"]]
    assert second["provenance"]["timings_s"].get("fit", 0.0) == 0.0  # codebooks came from the cache


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "--upstream", "wavlmm"], "unknown upstream 'wavlmm'"),
        (["run", "--quantizer", "rvqq"], "unknown quantizer 'rvqq'"),
        (["run", "--task", "rq9"], "unknown task 'rq9'"),
        (["run", "--corpus", "ravdess=/definitely/not/here"], "/definitely/not/here"),
        (["run", "--corpus", "nosuchcorpus=/tmp"], "unknown corpus 'nosuchcorpus'"),
        (["run", "-Q", "n_stages"], "must look like KEY=VALUE"),
        (["run", "--probe", "nosuchprobe"], "unknown probe 'nosuchprobe'"),
    ],
)
def test_bad_input_is_one_line_without_traceback(args, message, tmp_path):
    result = runner.invoke(app, [*args, "--out", str(tmp_path / "o"), "--cache-dir", str(tmp_path / "c")])
    assert result.exit_code == 1, result.output
    assert message in result.output
    assert "Traceback" not in result.output


def test_unwritable_out_is_reported(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = runner.invoke(app, ["run", "--out", str(blocker / "sub"), "--cache-dir", str(tmp_path / "c")])
    assert result.exit_code == 1
    assert "cannot write output folder" in result.output


def test_debug_shows_the_traceback(tmp_path):
    result = runner.invoke(app, ["--debug", "run", "--task", "rq9", "--out", str(tmp_path)])
    assert result.exit_code != 0 and result.exception is not None


def test_help_explains_every_option():
    result = runner.invoke(app, ["run", "--help"])
    assert result.exit_code == 0
    for option in ("--upstream", "--quantizer", "--task", "--corpus", "--device", "--out", "--seed", "--limit"):
        assert option in result.output
    json.dumps(result.output)  # printable


def _manifest_with_a_corrupt_file(tmp_path, cache_dir):
    """A manifest over 32 demo clips (8 per emotion) plus one corrupt 'wav'."""
    from emobench.corpora.demo import DemoCorpus

    demo = DemoCorpus(root=cache_dir / "demo").load()
    per_label: dict[str, list] = {}
    for u in demo.utterances:
        per_label.setdefault(u.label, []).append(u)
    rows = [u for utts in per_label.values() for u in utts[:8]]
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF\x00\x00 definitely not audio")
    lines = ["path,label,speaker"] + [f"{u.path},{u.label},{u.speaker}" for u in rows] + [f"{broken},sad,spk01"]
    (tmp_path / "manifest.csv").write_text("\n".join(lines) + "\n")
    return tmp_path / "manifest.csv", broken


def test_corrupt_audio_is_skipped_and_reported_or_fails_on_request(tmp_path, cache_dir):
    manifest, broken = _manifest_with_a_corrupt_file(tmp_path, cache_dir)
    base = ["run", "-c", f"manifest={manifest}", "--cache-dir", str(cache_dir), "--no-site"]
    result = runner.invoke(app, [*base, "--out", str(tmp_path / "skip")])
    assert result.exit_code == 0, result.output
    (skipped,) = (tmp_path / "skip").glob("*.skipped.csv")
    report = pd.read_csv(skipped)
    assert len(report) == 1 and str(broken) in report.loc[0, "reason"]
    doc = read_result(next((tmp_path / "skip").glob("*.json")))
    assert doc["provenance"]["skipped_utterances"] == 1
    result = runner.invoke(app, [*base, "--out", str(tmp_path / "fail"), "--on-bad-audio", "fail"])
    assert result.exit_code == 1 and "broken.wav" in result.output and "Traceback" not in result.output


def test_seeds_run_each_training_seed_and_report_mean_sd_and_values(tmp_path, cache_dir):
    args = ["run", "--limit", "24", "--seeds", "0,1,2", "-T", "n_boot=20", "--out", str(tmp_path), "--cache-dir",
            str(cache_dir), "--no-site"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    doc = read_result(next(tmp_path.glob("*.json")))
    assert doc["provenance"]["seeds"] == [0, 1, 2] and len({q["seed"] for q in doc["quantizers"]}) == 3
    rec = next(m for m in doc["metrics"] if m["name"] == "uar" and m["breakdown"].get("depth") == 1)
    assert len(rec["per_seed"]) == 3 and rec["value"] == pytest.approx(np.mean(rec["per_seed"]))
    assert rec["std"] == pytest.approx(np.std(rec["per_seed"], ddof=1))
    assert any("means over training seeds [0, 1, 2]" in n for n in doc["notes"])
    preds = pd.read_csv(tmp_path / doc["predictions_file"])
    assert set(preds["seed"]) == {0, 1, 2}

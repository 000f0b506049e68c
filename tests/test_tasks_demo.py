"""End to end on the embedded demo corpus with a tiny limit: RQ2, RQ3, RQ4 and ood-ser through
`emobench reproduce`, which skips on a second call what it already did."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

import emobench.cli.reproduce as rep
from emobench.cli.main import app
from emobench.config import RunConfig
from emobench.results import read_result

pytestmark = pytest.mark.slow

FAST = {
    "rq2": {"n_boot": 20}, "rq3": {"n_boot": 20, "schemes": {"balanced": 0, "100+0": 1.0, "99+1": 0.99}},
    "rq4": {"n_boot": 20, "layouts": ["4x16", "8x2"]}, "ood-ser": {"n_boot": 20},
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    cache, out = tmp_path_factory.mktemp("cache"), tmp_path_factory.mktemp("results")
    planned = rep.plan(["fbank"], list(FAST), RunConfig(limit=24))
    for p in planned:
        p.config.task_params = FAST[p.config.task]
        p.config.quantizer_params = {"n_stages": 4, "codebook_size": 16} if p.config.task != "rq4" else {}
    rep.reproduce_runs(planned, out_dir=out, device="cpu", cache_root=cache, log=lambda m: None)
    torch.set_num_threads(before)
    return planned, out, cache


def test_every_task_writes_a_valid_result(runs):
    planned, out, _ = runs
    assert [p.status for p in planned] == ["ran"] * 4, [(p.config.task, p.error) for p in planned]
    docs = {p.config.task: read_result(p.result) for p in planned}
    assert docs["rq4"]["quantizer"]["name"] == "emoq-demo" and docs["rq2"]["quantizer"]["name"] == "rvq-demo"
    for doc in docs.values():
        assert doc["synthetic"] and doc["metrics"] and doc["protocol"]["seed"] == 0
    names = {t: {m["name"] for m in d["metrics"]} for t, d in docs.items()}
    assert {"matched_recall", "unmatched_recall", "attraction", "normalized_entropy"} <= names["rq2"]
    assert {"js_divergence", "top2_accuracy"} <= names["rq3"]
    assert {"macro_f1_delta", "bitrate", "selected_depth"} <= names["rq4"]
    assert any(n.startswith("measured Emo-Q(100)") for n in docs["rq4"]["notes"])
    assert any("pseudo-OOD" in n for n in docs["ood-ser"]["notes"])


def test_reproduce_resumes_task_by_task(runs, tmp_path):
    planned, out, cache = runs
    again = rep.plan(["fbank"], list(FAST), RunConfig(limit=24))
    for p in again:
        p.config.task_params = FAST[p.config.task]
        p.config.quantizer_params = {"n_stages": 4, "codebook_size": 16} if p.config.task != "rq4" else {}
    logged = []
    rep.reproduce_runs(again, out_dir=out, device="cpu", cache_root=cache, log=logged.append)
    assert [p.status for p in again] == ["done"] * 4
    assert all(m.startswith("skip") for m in logged)


def test_reproduce_command_rejects_bad_input_before_work(tmp_path):
    result = CliRunner().invoke(app, ["reproduce", "-u", "fbank", "-q", "rq4", "-o", str(tmp_path)])
    assert result.exit_code == 1 and "TASK=NAME" in result.output
    result = CliRunner().invoke(app, ["reproduce", "-u", "no-such-upstream", "-o", str(tmp_path)])
    assert result.exit_code == 1 and "unknown upstream" in result.output
    assert not list(tmp_path.glob("*.json"))


def test_plan_picks_quantizers_per_upstream_and_expands_seeds():
    planned = rep.plan(["fbank", "wavlm"], ["rq1", "rq4"], RunConfig(), {"rq1": "rvq-8x32"}, seeds=[0, 1])
    got = [(p.config.upstream, p.config.task, p.config.quantizer, p.config.seed) for p in planned]
    assert got == [("fbank", "rq1", "rvq-8x32", 0), ("fbank", "rq1", "rvq-8x32", 1), ("fbank", "rq4", "emoq-demo", 0),
                   ("fbank", "rq4", "emoq-demo", 1), ("wavlm", "rq1", "rvq-8x32", 0), ("wavlm", "rq1", "rvq-8x32", 1),
                   ("wavlm", "rq4", "emoq", 0), ("wavlm", "rq4", "emoq", 1)]
    assert len({p.config.hash for p in planned}) == len(planned)

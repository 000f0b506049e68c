"""End to end on the embedded demo corpus with a small limit: RQ1-RQ4 and ood-ser through the library's
``reproduce``, which skips on a second call what it already did, and re-runs exactly what a spec edit
changes; typos in any -Q/-P/-T key fail before a single feature is extracted."""

from __future__ import annotations

import shutil

import pytest
from typer.testing import CliRunner

from emobench import reproduce as rep
from emobench.cli.main import app
from emobench.config import RunConfig
from emobench.results import read_result

pytestmark = pytest.mark.slow

FAST = {"rq1": {"n_boot": 50}, "rq2": {"n_boot": 20}, "rq3": {"n_boot": 20},
        "rq4": {"n_boot": 20, "layouts": ["4x16", "8x2"]}, "ood-ser": {"n_boot": 20}}
BASE = RunConfig(limit=24, quantizer_params={"*": {"n_iter": 5}})


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    cache, out = tmp_path_factory.mktemp("cache"), tmp_path_factory.mktemp("results")
    planned = rep.plan(["fbank"], list(FAST), BASE, task_params=FAST)
    rep.reproduce(planned, out_dir=out, device="cpu", cache_root=cache, log=lambda m: None)
    return planned, out, cache


def test_every_task_writes_a_valid_result(runs):
    planned, out, _ = runs
    assert [p.status for p in planned] == ["ran"] * 5, [(p.config.task, p.error) for p in planned]
    docs = {p.config.task: read_result(p.result) for p in planned}
    assert {q["preset"] for q in docs["rq4"]["quantizers"]} == {"rvq-demo", "emoq-demo", "emoq-99-demo"}
    assert {q["layout"] for q in docs["rq4"]["quantizers"]} == {"4x16", "8x2"}
    assert docs["rq2"]["quantizer"]["name"] == "rvq-demo"
    for task, doc in docs.items():
        assert doc["synthetic"] and doc["metrics"] and doc["protocol"]["seed"] == 0
        assert doc["task_info"]["title"] and doc["task_info"]["primary"] in {m["name"] for m in doc["metrics"]}, task
        assert doc["run_id"].endswith(doc["run_hash"][:10])
        assert sum(v for k, v in doc["provenance"]["timings_s"].items() if k != "total") <= \
            doc["provenance"]["timings_s"]["total"] + 1e-6  # timed parts never overlap
    names = {t: {m["name"] for m in d["metrics"]} for t, d in docs.items()}
    assert {"matched_recall", "unmatched_recall", "attraction", "matched_recall_diff"} <= names["rq2"]
    assert {"js_divergence", "top2_accuracy", "js_divergence_diff"} <= names["rq3"]
    assert {"macro_f1_delta", "macro_f1_diff", "bitrate", "selected_depth"} <= names["rq4"]
    assert any("pseudo-OOD" in n for n in docs["ood-ser"]["notes"])


def test_reproduce_resumes_run_by_run(runs):
    planned, out, cache = runs
    again = rep.plan(["fbank"], list(FAST), BASE, task_params=FAST)
    logged = []
    rep.reproduce(again, out_dir=out, device="cpu", cache_root=cache, log=logged.append)
    assert [p.status for p in again] == ["done"] * 5
    assert sum("skip: result exists" in m for m in logged) == 5


def test_editing_a_spec_parameter_changes_the_run_hash_and_reruns_it(runs, tmp_path, monkeypatch):
    from emobench import catalogue
    from emobench.registries import reload

    _, out, cache = runs
    copy = tmp_path / "catalogue"
    shutil.copytree(catalogue.catalogue_root(), copy)
    spec = copy / "tasks" / "rq1.yaml"
    monkeypatch.setenv("EMOBENCH_CATALOGUE", str(copy))

    try:
        reload()
        (same,) = rep.plan(["fbank"], ["rq1"], BASE, task_params={"rq1": FAST["rq1"]})
        rep.reproduce([same], out_dir=out, device="cpu", cache_root=cache, log=lambda m: None)
        assert same.status == "done"
        spec.write_text(spec.read_text().replace("impl: emobench.tasks.rq1:RQ1",
                                                 "impl: emobench.tasks.rq1:RQ1\nparams:\n  balanced_total: equal"))
        reload()
        (edited,) = rep.plan(["fbank"], ["rq1"], BASE, task_params={"rq1": FAST["rq1"]})
        rep.reproduce([edited], out_dir=out, device="cpu", cache_root=cache, log=lambda m: None)
        assert edited.status == "ran" and edited.run_hash != same.run_hash
        assert read_result(edited.result)["resolved"]["task"]["params"]["balanced_total"] == "equal"
    finally:
        monkeypatch.delenv("EMOBENCH_CATALOGUE")
        reload()


@pytest.mark.parametrize(("flag", "message"), [
    (["-Q", "n_stagse=3"], "quantizer 'rvq-demo' has no parameter 'n_stagse'; did you mean 'n_stages'?"),
    (["-Q", "n_stages=2.5"], "n_stages=2.5: Input should be a valid integer"),
    (["-Q", "codebook_size=1"], "codebook_size=1: Input should be greater than or equal to 2"),
    (["-P", "lrr=0.1"], "probe 'linear' has no parameter 'lrr'; did you mean 'lr'?"),
    (["-T", "n_bot=3"], "task 'rq1' has no parameter 'n_bot'; did you mean 'n_boot'?"),
    (["-T", "n_boot=-1"], "n_boot=-1: Input should be greater than or equal to 1"),
    (["-U", "n_mels=abc"], "n_mels='abc': Input should be a valid integer"),
    (["-q", "router=emoq"], "names role(s) ['router'] that task 'rq1' does not have; its roles: system"),
    (["-Q", "x=!!python/object:os.system"], "is not a plain YAML value"),
])
def test_a_bad_key_or_value_fails_before_any_feature_extraction(flag, message, tmp_path):
    result = CliRunner().invoke(app, ["run", *flag, "--out", str(tmp_path / "o"), "--cache-dir",
                                      str(tmp_path / "c")], terminal_width=300)
    assert result.exit_code == 1, result.output
    assert message in " ".join(result.output.split()), result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "c" / "features").exists()  # nothing was extracted (not even the corpus made)


def test_reproduce_command_rejects_bad_input_before_work(tmp_path):
    result = CliRunner().invoke(app, ["reproduce", "-u", "fbank", "-q", "rq4", "-o", str(tmp_path)])
    assert result.exit_code == 1 and "TASK:ROLE=PRESET" in result.output
    result = CliRunner().invoke(app, ["reproduce", "-u", "no-such-upstream", "-o", str(tmp_path)])
    assert result.exit_code == 1 and "unknown upstream" in result.output
    assert not list(tmp_path.glob("*.json"))


def test_plan_binds_each_role_to_the_upstreams_preset():
    planned = rep.plan(["fbank", "wavlm", "emotion2vec"], ["rq1", "rq4"], RunConfig(), quantizers={"rq1": {"system": "rvq-8x32"}})
    got = {(p.config.upstream, p.config.task): {r: c.name for r, c in p.resolved.roles.items()} for p in planned}
    assert got[("fbank", "rq1")] == {"system": "rvq-8x32"}
    assert got[("fbank", "rq4")] == {"bal": "rvq-demo", "emoq-100": "emoq-demo", "emoq-99": "emoq-99-demo"}
    assert got[("wavlm", "rq4")] == {"bal": "rvq", "emoq-100": "emoq", "emoq-99": "emoq-99"}
    probes = {(p.config.upstream, p.config.task): p.resolved.probe.name for p in planned}
    assert probes[("emotion2vec", "rq1")] == "e2v-head" and probes[("wavlm", "rq1")] == "linear"

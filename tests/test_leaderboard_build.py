"""Building the site from result folders: bad files named and skipped, merging, safety, the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from emobench.cli.leaderboard import app
from emobench.errors import EmobenchError, SchemaError
from emobench.leaderboard import build_site, collect, paths
from emobench.leaderboard.synthetic import make_result, write_results
from emobench.results.records import metric


def run_page(run) -> str:
    return paths.run_stem(run.run_id, run.run_hash) + ".html"

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def _write(path: Path, doc) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc) if not isinstance(doc, str) else doc)
    return path


@pytest.fixture
def results(tmp_path) -> Path:
    write_results(tmp_path / "results", 10)
    return tmp_path / "results"


def test_build_writes_every_page_assets_and_json_copies(results, tmp_path):
    report = build_site([results], tmp_path / "site")
    site = tmp_path / "site"
    assert report.ok and report.n_runs == 10
    assert report.pages[:3] == ["index.html", "claims.html", "about.html"]
    assert {f"task-rq{i}.html" for i in range(1, 5)} | {"task-ood-ser.html"} <= set(report.pages)
    for page in report.pages:
        assert (site / page).is_file(), page
    runs = [p for p in report.pages if p.startswith("runs/")]
    assert len(runs) == 10
    for page in runs:
        copy = site / page.replace(".html", ".json")
        assert json.loads(copy.read_text())["schema_version"] == 2
        assert (site / page.replace(".html", ".metrics.csv")).is_file()
    assert (site / "static" / "style.css").is_file() and (site / "static" / "leaderboard.js").is_file()
    html = (site / "index.html").read_text()
    assert "cdn" not in html.lower() and "https://" not in html  # everything offline
    assert 'data-n-points="' in html and "Pareto" in html
    assert not list(tmp_path.glob(".site.*"))  # no staging folder left behind


def test_invalid_and_future_files_are_named_and_the_rest_builds(results, tmp_path):
    good = json.loads(next(results.glob("*.json")).read_text())
    _write(tmp_path / "bad" / "future.json", {**good, "schema_version": 99})
    broken = {**good, "metrics": [{**good["metrics"][0], "direction": "sideways"}]}
    _write(tmp_path / "bad" / "invalid.json", broken)
    _write(tmp_path / "bad" / "truncated.json", '{"run_id": ')
    _write(tmp_path / "bad" / "codebook.json", {"schema_version": 1, "kind": "rvq"})  # not a result: ignored
    report = build_site([results, tmp_path / "bad"], tmp_path / "site")
    assert report.n_runs == 10
    by_file = {Path(p.path).name: p for p in report.problems}
    assert set(by_file) == {"future.json", "invalid.json", "truncated.json"}
    assert by_file["future.json"].kind == "future-version" and by_file["future.json"].field == "schema_version"
    assert "upgrade emobench" in by_file["future.json"].message
    assert by_file["invalid.json"].field == "metrics/0/direction"
    assert by_file["truncated.json"].field == "(file)"
    assert [Path(p).name for p in report.ignored] == ["codebook.json"]
    html = (tmp_path / "site" / "index.html").read_text()
    assert "future.json" in html and "metrics/0/direction" in html


def test_copies_merge_newest_wins_and_conflicts_are_reported(tmp_path):
    doc = make_result(0)
    _write(tmp_path / "m1" / "a.json", doc)
    _write(tmp_path / "m2" / "a.json", doc)  # the same run from another machine: merged silently
    col = collect([tmp_path / "m1", tmp_path / "m2"])
    assert len(col.runs) == 1 and col.duplicates == 1 and not col.problems

    newer = json.loads(json.dumps(doc))
    newer["created_at"] = "2027-01-01T00:00:00+00:00"
    newer["metrics"][0]["value"] += 0.1
    _write(tmp_path / "m3" / "a.json", newer)
    col = collect([tmp_path / "m1", tmp_path / "m3"])
    [run] = col.runs
    assert run.doc["created_at"].startswith("2027")
    [conflict] = col.problems
    assert conflict.kind == "conflict" and conflict.field == "run_hash"
    assert "m1" in conflict.path and "m3" in conflict.message

    other = make_result(1)
    other["run_id"] = doc["run_id"]  # a different config claiming the same run id
    _write(tmp_path / "m4" / "b.json", other)
    col = collect([tmp_path / "m1", tmp_path / "m4"])
    assert len(col.runs) == 1 and [p.field for p in col.problems] == ["run_id"]


def test_a_result_missing_a_metric_a_view_needs_still_builds(tmp_path):
    doc = make_result(0)  # rq1
    doc["metrics"] = [metric("cosine_frame", 0.9, depth=1, condition="quantized", role="system")]
    _write(tmp_path / "r" / "thin.json", doc)
    rq4 = make_result(3)
    rq4["metrics"] = []
    _write(tmp_path / "r" / "empty.json", rq4)
    report = build_site([tmp_path / "r"], tmp_path / "site")
    assert report.ok and report.n_runs == 2
    page = (tmp_path / "site" / "task-rq1.html").read_text()
    assert "No run reports the numbers for this view" in page and "Views without data" in page
    rq4_page = (tmp_path / "site" / "task-rq4.html").read_text()
    assert "Table 1" in rq4_page and "+1.57" in rq4_page  # the paper's numbers alone, ours blank


def test_a_task_a_system_did_not_run_is_a_blank_cell(tmp_path):
    _write(tmp_path / "r" / "rq1.json", make_result(0))
    _write(tmp_path / "r" / "rq2.json", make_result(1))  # its balanced codebook is RQ1's system; its specific is not
    build_site([tmp_path / "r"], tmp_path / "site")
    index = (tmp_path / "site" / "index.html").read_text()
    rows = index.split("<tbody>")[1].split("</tbody>")[0].split("<tr ")[1:]
    assert len(rows) == 2
    specific = next(r for r in rows if "emo-specific" in r)
    assert specific.count('title="not run"') == 1 and ">0<" not in specific


def test_names_with_html_are_escaped_everywhere(tmp_path):
    doc = make_result(0)
    doc["run_id"] = XSS
    doc["task"] = "../../" + XSS  # a task name becomes a file name: it must stay inside the site
    doc["upstream"]["name"] = XSS
    doc["quantizer"]["layout"] = XSS
    doc["config"]["note"] = XSS
    doc["notes"] = [XSS]
    doc["metrics"][0]["breakdown"]["emotion"] = XSS
    _write(tmp_path / "r" / "x.json", doc)
    report = build_site([tmp_path / "r"], tmp_path / "site")
    assert report.ok
    for page in report.pages:
        html = (tmp_path / "site" / page).read_text()
        assert "<script>alert" not in html and "<img src=x" not in html, page
    assert "&lt;script&gt;" in (tmp_path / "site" / "index.html").read_text()
    [task_page] = [p for p in report.pages if p.startswith("task-")]
    assert "&lt;script&gt;" in (tmp_path / "site" / task_page).read_text()
    site = (tmp_path / "site").resolve()
    written = [p for p in tmp_path.rglob("*") if p.is_file() and "r" not in p.relative_to(tmp_path).parts[:1]]
    assert all(site in p.resolve().parents for p in written)
    assert len([p for p in report.pages if p.startswith("task-")]) == 1


def test_a_failed_build_leaves_the_previous_site_untouched(results, tmp_path, monkeypatch):
    site = tmp_path / "site"
    build_site([results], site)
    before = (site / "index.html").read_text()
    import emobench.leaderboard.build as B

    monkeypatch.setattr(B, "system_rows", lambda *a: 1 / 0)
    with pytest.raises(EmobenchError, match="previous site there is unchanged"):
        build_site([results], site)
    assert (site / "index.html").read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results", "site"]


def test_a_run_whose_page_fails_is_reported_and_left_out(results, tmp_path, monkeypatch):
    import emobench.leaderboard.build as B

    victim_run = collect([sorted(results.glob("*.json"))[0]]).runs[0]
    victim = victim_run.run_id
    real = B.runpage.confusions

    def flaky(doc):  # a renderer bug that only this file triggers
        if doc["run_id"] == victim:
            raise ValueError("boom")
        return real(doc)

    monkeypatch.setattr(B.runpage, "confusions", flaky)
    report = build_site([results], tmp_path / "site")
    assert report.n_runs == 9
    assert [p.kind for p in report.problems] == ["render"]
    assert run_page(victim_run) not in (tmp_path / "site" / "index.html").read_text()
    assert not (tmp_path / "site" / run_page(victim_run)).exists()


def test_refuses_to_replace_a_folder_that_is_not_a_site(results, tmp_path):
    other = tmp_path / "precious"
    _write(other / "thesis.tex", "x")
    with pytest.raises(EmobenchError, match="not an emobench site"):
        build_site([results], other)
    assert (other / "thesis.tex").read_text() == "x"


def test_rebuild_replaces_the_site(results, tmp_path):
    build_site([results], tmp_path / "site")
    stale = tmp_path / "site" / "runs" / "stale.html"
    stale.write_text("old")
    build_site([results], tmp_path / "site")
    assert not stale.exists() and (tmp_path / "site" / "index.html").is_file()


def test_cli_validate_build_and_errors(results, tmp_path):
    runner = CliRunner()
    good = sorted(results.glob("*.json"))[0]
    res = runner.invoke(app, ["validate", str(good)])
    assert res.exit_code == 0 and "ok" in res.output and "synthetic: ranked apart" in res.output
    bad = _write(tmp_path / "bad.json", {**json.loads(good.read_text()), "schema_version": 7})
    res = runner.invoke(app, ["validate", str(good), str(bad)])
    assert res.exit_code == 1 and "bad.json" in res.output and "schema_version" in res.output
    res = runner.invoke(app, ["build", "--results", str(results), "--results", str(bad), "--out",
                              str(tmp_path / "site")])
    assert res.exit_code == 0, res.output
    assert "bad.json" in res.output and (tmp_path / "site" / "index.html").is_file()
    res = runner.invoke(app, ["build", "--results", str(results), "--results", str(bad), "--out",
                              str(tmp_path / "site"), "--strict"])
    assert res.exit_code == 1
    res = runner.invoke(app, ["build", "--results", str(tmp_path / "nope"), "--out", str(tmp_path / "s2")])
    assert res.exit_code == 1 and "nope" in res.output
    res = runner.invoke(app, ["serve", str(tmp_path / "nothing-here")])
    assert res.exit_code == 1 and "build it first" in res.output


def test_leaderboard_imports_no_torch():
    code = ("import sys, emobench.cli.leaderboard, emobench.leaderboard.build, emobench.leaderboard.serve, "
            "emobench.leaderboard.synthetic; assert 'torch' not in sys.modules, 'torch imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_run_page_links_to_its_json(results, tmp_path):
    report = build_site([results], tmp_path / "site")
    col = collect([results])
    page = run_page(col.runs[0])
    html = (tmp_path / "site" / page).read_text()
    assert f'href="{Path(page).stem}.json"' in html
    assert report.ok


def test_a_site_built_inside_the_results_folder_is_not_read_back(results):
    first = build_site([results], results / "site")
    again = build_site([results], results / "site")
    assert again.n_runs == first.n_runs == 10
    assert again.duplicates == 0 and again.ok and not again.ignored


def _verdict(fn, doc):
    try:
        fn(doc)
    except SchemaError as exc:
        return str(exc)
    return None


def test_fast_validation_gives_the_same_verdicts_and_messages():
    import copy
    import random

    from emobench.leaderboard.fastcheck import validate_fast
    from emobench.results import validate_result

    rng = random.Random(0)
    base = make_result(0)
    base["metrics"] = base["metrics"][:40]  # the mutations below hit these; fewer records, same coverage
    mutations = [
        lambda m: m.update(direction="sideways"), lambda m: m.update(value="1"), lambda m: m.update(value=True),
        lambda m: m.update(name=""), lambda m: m.pop("unit"), lambda m: m.update(extra=1),
        lambda m: m.update(n=1.5), lambda m: m.update(n=True), lambda m: m["breakdown"].update(bad=[1]),
        lambda m: m["breakdown"].update(ok=None), lambda m: m.update(ci_low=None, std=0.1),
        lambda m: m.update(breakdown=[]), lambda m: m.update(value=None), lambda m: m.update(value=3),
        lambda m: m.update(per_seed=[0.1, None]), lambda m: m.update(per_seed=[0.1, "x"]),
        lambda m: m.update(per_seed=0.1), lambda m: m.update(per_seed=[True]),
    ]
    for i in range(80):
        doc = copy.deepcopy(base)
        for _ in range(rng.randint(0, 2)):
            rng.choice(mutations)(rng.choice(doc["metrics"]))
        if i % 7 == 0:
            doc["metrics"].append("not an object")
        if i % 11 == 0:
            doc["upstream"]["dim"] = 0  # an error outside the metrics
        assert _verdict(validate_fast, doc) == _verdict(validate_result, doc)


def test_serve_binds_localhost_and_serves_the_site(results, tmp_path):
    import urllib.request

    from emobench.leaderboard.serve import start_background

    build_site([results], tmp_path / "site")
    server, url = start_background(tmp_path / "site")
    try:
        assert server.server_address[0] == "127.0.0.1" and url.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(url + "index.html") as resp:
            assert resp.status == 200 and b"Leaderboard" in resp.read()
    finally:
        server.shutdown()
        server.server_close()


def test_downloads_the_tidy_table_and_each_runs_files(results, tmp_path):
    import pandas as pd

    from emobench.results.table import COLUMNS

    good = sorted(results.glob("rq1-*.json"))[0]
    doc = json.loads(good.read_text())
    doc["predictions_file"] = "preds.csv"
    _write(good, doc)
    _write(results / "preds.csv", "utt_id,label,pred\na,angry,sad\n")
    evil = make_result(16)
    evil["predictions_file"] = "../../outside.csv"
    _write(results / "evil.json", evil)
    _write(tmp_path / "outside.csv", "secret\n")
    report = build_site([results], tmp_path / "site")
    site = tmp_path / "site"
    frame = pd.read_csv(site / "data" / "metrics.csv")
    assert list(frame.columns[: len(COLUMNS)]) == list(COLUMNS)
    assert set(frame["run_id"]) == {r.run_id for r in collect([results]).runs}
    assert frame["depth"].dropna().apply(float.is_integer).all()
    assert len(pd.read_parquet(site / "data" / "metrics.parquet")) == len(frame)
    runs = {r.run_id: r for r in collect([results]).runs}
    page = run_page(runs[doc["run_id"]])
    assert (site / page.replace(".html", ".predictions.csv")).read_text() == "utt_id,label,pred\na,angry,sad\n"
    assert "Per-utterance predictions CSV" in (site / page).read_text()
    evil_page = run_page(runs[evil["run_id"]])
    assert not (site / evil_page.replace(".html", ".predictions.csv")).exists()  # never outside the results folder
    assert "were not submitted" in (site / evil_page).read_text()
    about = (site / "about.html").read_text()
    assert 'href="data/metrics.csv"' in about and "emobench leaderboard validate" in about and "@misc{" in about
    assert report.ok


def test_bidi_controls_and_rich_markup_render_as_inert_text(tmp_path):
    doc = make_result(0)
    doc["upstream"]["name"] = "up\u202eevil"
    doc["notes"] = ["[/x] [bold]not markup[/bold]"]
    _write(tmp_path / "r" / "x.json", doc)
    report = build_site([tmp_path / "r"], tmp_path / "site")
    for page in report.pages:
        html = (tmp_path / "site" / page).read_text()
        assert "\u202e" not in html, page
    run_html = (tmp_path / "site" / next(p for p in report.pages if p.startswith("runs/"))).read_text()
    assert "up⟨U+202E⟩evil" in run_html and "[/x] [bold]not markup[/bold]" in run_html


def test_cli_prints_hostile_file_names_literally(tmp_path):
    bad = _write(tmp_path / "[/x][bold]" / "bad.json", {"run_id": "x", "metrics": []})
    res = CliRunner().invoke(app, ["validate", str(bad)])
    assert res.exit_code == 1 and "[/x][bold]" in res.output
    res = CliRunner().invoke(app, ["build", "--results", str(bad.parent), "--out", str(tmp_path / "site")])
    assert res.exit_code == 0, res.output
    assert "[/x][bold]" in res.output


def test_a_version_1_file_is_upgraded_and_says_so(tmp_path):
    doc = make_result(0)
    v1 = {k: v for k, v in doc.items() if k not in ("run_hash", "task_info", "resolved", "quantizers")}
    v1.update(schema_version=1, config_hash="abcdef0123456789")
    _write(tmp_path / "r" / "old.json", v1)
    report = build_site([tmp_path / "r"], tmp_path / "site")
    assert report.ok and report.n_runs == 1
    [run] = collect([tmp_path / "r"]).runs
    assert run.written_version == 1 and run.doc["schema_version"] == 2
    assert "upgraded to 2 on read" in (tmp_path / "site" / run_page(run)).read_text()
    assert "schema 1" in (tmp_path / "site" / "index.html").read_text()


def test_an_unknown_version_1_task_still_gets_a_page(tmp_path):
    doc = make_result(0)
    v1 = {k: v for k, v in doc.items() if k not in ("run_hash", "task_info", "resolved", "quantizers")}
    v1.update(schema_version=1, config_hash="0123456789abcdef", task="my-plugin-task")
    _write(tmp_path / "r" / "plugin.json", v1)
    report = build_site([tmp_path / "r"], tmp_path / "site")
    assert report.ok and "task-my-plugin-task.html" in report.pages
    html = (tmp_path / "site" / "task-my-plugin-task.html").read_text()
    assert "Runs (1)" in html and "Figures per system" not in html

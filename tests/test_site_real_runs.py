"""The site built from real runs of every task (the demo corpus, log-mel features, tiny limits): the
paper's figures with their known series counts, Table 1 beside the paper's, the claims, and the
synthetic generator's records checked against the real tasks' records."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from emobench.leaderboard import build_site, claims, collect, paths
from emobench.leaderboard.synthetic import make_result
from emobench.leaderboard.taskpage import task_view

pytestmark = pytest.mark.slow  # five real runs, ~30 s on two cores (shared with the browser tests)

TASK_ARGS = {"rq1": [], "rq2": [], "rq3": [], "ood-ser": [], "rq4": ["-T", "layouts=[8x32,32x2]"]}


def real_results(tmp_path_factory) -> Path:
    """Real tiny runs of every task, made once per test session (the browser tests reuse them)."""
    from typer.testing import CliRunner

    from emobench.cli.main import app

    base = tmp_path_factory.getbasetemp() / "real-results"
    if not (base / "DONE").exists():
        for task, extra in TASK_ARGS.items():
            res = CliRunner().invoke(app, ["run", "-t", task, "--limit", "40", "--out", str(base / "results"),
                                           "--cache-dir", str(base / "cache"), "--no-site", "-T", "n_boot=200", *extra])
            assert res.exit_code == 0, res.output
        (base / "DONE").write_text("ok")
    return base / "results"


@pytest.fixture(scope="module")
def real(tmp_path_factory):
    results = real_results(tmp_path_factory)
    site = tmp_path_factory.mktemp("real-site") / "site"
    report = build_site([results], site)
    assert report.ok, report.problems
    return {"results": results, "site": site, "runs": collect([results]).runs, "report": report}


def _shapes(doc):
    return {(m["name"], tuple(sorted(m["breakdown"]))) for m in doc["metrics"]}


@pytest.mark.parametrize("task", ["rq1", "rq2", "rq3", "rq4", "ood-ser"])
def test_synthetic_records_have_the_real_tasks_names_and_breakdowns(real, task):
    from emobench.leaderboard.synthetic import TASKS

    [doc] = [r.doc for r in real["runs"] if r.doc["task"] == task]
    synthetic = make_result(TASKS.index(task))
    assert _shapes(synthetic) == _shapes(doc)
    assert {q["role"] for q in synthetic["quantizers"]} == {q["role"] for q in doc["quantizers"]}
    assert set(synthetic["upstream"]) >= set(doc["upstream"]) - {"identity"}


# (figure id, charts, data series per chart, reference lines per chart); the demo's label set has 4 emotions
EXPECTED = {
    "rq1": [("cosine", 1, 1, 0), ("recall", 1, 1, 1), ("recall-emotion", 1, 4, 4)],
    "rq2": [("matched", 1, 2, 0), ("unmatched", 1, 2, 0), ("attraction", 1, 2, 0), ("matched-emotion", 2, 5, 0),
            ("entropy", 2, 2, 0)],
    "rq3": [("js", 3, 4, 1), ("top2", 3, 4, 1), ("js-emoq", 3, 4, 1)],
    "rq4": [("delta", 1, 3, 0), ("f1-bitrate", 1, 3, 0)],
    "ood-ser": [("f1-depth", 1, 1, 1)],
}


@pytest.mark.parametrize("task", list(EXPECTED))
def test_every_paper_figure_is_drawn_with_its_series_and_intervals(real, task):
    runs = [r for r in real["runs"] if r.doc["task"] == task]
    [panel] = task_view(task, runs).panels
    html = (real["site"] / paths.task_page(task)).read_text()
    for (fig_id, n_charts, n_series, n_refs), group in zip(EXPECTED[task], panel.groups, strict=True):
        assert group.spec["id"] == fig_id
        assert len(group.charts) == n_charts and group.n_series == [n_series] * n_charts, fig_id
        for chart in group.charts:
            assert len(chart.refs) == n_refs, fig_id
            block = html.split(f'id="{chart.fig_id}"', 1)[1].split("</figure>", 1)[0]
            assert f'data-n-series="{n_series}"' in block and block.count('<g class="series') == n_series
            assert block.count('<g class="ref') == n_refs
            n_points = sum(len(s.points) for s in chart.series)
            assert len(re.findall(r'class="pt[" ]', block)) == n_points > 0
    depth_runs = {"rq1", "rq2", "rq3", "ood-ser"}
    if task in depth_runs - {"ood-ser"}:  # speaker-level intervals exist for the in-domain tasks
        assert 'class="band"' in html or 'class="whisker"' in html


def test_table_1_sits_beside_the_papers_with_the_bitrate_used(real):
    html = (real["site"] / "task-rq4.html").read_text()
    view = task_view("rq4", [r for r in real["runs"] if r.doc["task"] == "rq4"])
    [table] = view.tables
    [block] = table["blocks"]
    cells = {(row["key"], c["column"]): c for row in block["rows"] for c in row["cells"]}
    for role in ("bal", "emoq-100", "emoq-99"):
        for layout in ("8x32", "32x2"):
            c = cells[(role, layout)]
            assert c["ours"] is not None and c["bitrate"] > 0 and c["depths"], (role, layout)
        assert cells[(role, "8x64")]["ours"] is None and cells[(role, "8x64")]["paper"] is not None
    assert "+1.57" in html and "kbit/s" in html  # the paper's Emo-Q(99) 8x32, our bitrate


def test_claims_are_tested_on_the_real_runs(real):
    results = {c.claim["id"]: c for c in claims.evaluate(real["runs"])}
    assert set(results) == {"RQ1-i", "RQ2-i", "RQ3-i", "RQ3-ii", "RQ4-i", "RQ4-ii"}
    for c in results.values():
        assert c.tests and c.verdict in ("supported", "not supported", "inconclusive"), c.claim["id"]
        assert c.basis == "synthetic"  # the demo corpus is synthetic, and says so
    [t] = results["RQ4-ii"].tests
    assert t.bitrate and t.reduction > 1  # the 500x claim's context: our bits against continuous features
    html = (real["site"] / "claims.html").read_text()
    assert html.count('class="claim card"') == 6


def test_the_overview_places_routed_systems_at_the_bitrate_they_used(real):
    from emobench.leaderboard import scores

    [rq4] = [r for r in real["runs"] if r.doc["task"] == "rq4"]
    bitrate = {(m["breakdown"]["role"], m["breakdown"]["layout"]): m["value"] for m in rq4.doc["metrics"]
               if m["name"] == "bitrate"}
    pts = scores.run_points(rq4)
    assert {(p.role, p.system.layout): p.bitrate for p in pts} == bitrate
    assert len(pts) == 6 and all(p.depth for p in pts)


def test_the_real_tidy_table_has_bits_on_every_quantized_rq1_row(real):
    from emobench.results import load

    frame = load(real["results"])
    rq1 = frame[(frame.task == "rq1") & (frame.condition == "quantized")]
    assert len(rq1) and rq1["bps"].notna().all() and str(rq1["depth"].dtype) == "Int64"
    assert set(frame["condition"].dropna()) <= {"continuous", "quantized", "selection", "matched", "unmatched"}

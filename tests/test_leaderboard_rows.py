"""The leaderboard's numbers: pure functions from result documents to rows, points and views (no HTML)."""

from __future__ import annotations

import copy
import itertools
import math
import random
from pathlib import Path

import pytest

from emobench.leaderboard import paper, plot, points, rows, select, views
from emobench.leaderboard.collect import Run
from emobench.leaderboard.synthetic import make_result, make_results
from emobench.results import validate_result
from emobench.results.records import metric


def _runs(docs):
    return [Run(d, Path(f"{d['run_id']}.json")) for d in docs]


def _doc(task="rq1", upstream="up", quantizer="q", metrics=(), **extra):
    doc = make_result(0, upstream=("up", 50.0, 16, ["CREMA-D"], 0.5), quantizer=("q", "rvq", 4, 16, "balanced"),
                      task=task)
    doc["upstream"]["name"], doc["quantizer"]["name"] = upstream, quantizer
    doc["metrics"] = list(metrics)
    doc.update(extra)
    validate_result(doc)
    return doc


def test_synthetic_results_are_valid_deterministic_and_distinct():
    docs = make_results(60, seed=3)
    for d in docs:
        validate_result(d, where=d["run_id"])
        assert d["synthetic"] is True
    assert docs == make_results(60, seed=3)
    assert len({d["run_hash"] for d in docs}) == 60
    assert {d["task"] for d in docs} == {"rq1", "rq2", "rq3", "rq4"}
    assert len({d["upstream"]["name"] for d in docs}) >= 3


def test_headline_prefers_least_broken_down_deepest_and_skips_baseline():
    doc = _doc(metrics=[
        metric("uar", 0.3, depth=1, condition="quantized"),
        metric("uar", 0.6, depth=4, condition="quantized"),
        metric("uar", 0.9, depth=4, emotion="angry"),
        metric("uar", 0.99, condition="continuous"),
        metric("recall", 0.1, depth=4, emotion="sad"),
    ])
    assert select.headline(doc, select.RECALL) == pytest.approx(0.6)
    assert select.baseline(doc, select.RECALL) == pytest.approx(0.99)
    # per-emotion only: the mean of the deepest per-emotion values; emotion=mean counts as overall
    doc2 = _doc(metrics=[metric("recall", 0.2, depth=2, emotion="a"), metric("recall", 0.4, depth=2, emotion="b"),
                         metric("recall", 0.0, depth=1, emotion="a")])
    assert select.headline(doc2, select.RECALL) == pytest.approx(0.3)
    doc3 = _doc(metrics=[metric("matched_recall", 0.7, depth=2, emotion="mean"),
                         metric("matched_recall", 0.1, depth=2, emotion="sad")])
    assert select.headline(doc3, ("matched_recall",)) == pytest.approx(0.7)
    assert select.headline(doc3, ("missing",)) is None


def test_bitrate_sources_and_bands():
    doc = _doc()
    doc["quantizer"]["bitrate"] = {"bps": 1234.0, "bps_per_depth": {"1": 100.0}}
    assert select.bitrate(doc) == 1234.0
    assert select.bitrate_at_depth(doc, 1) == 100.0
    assert select.bitrate_at_depth(doc, 2) == pytest.approx(2 * 4 * 50.0)  # depth * log2(16) * 50 Hz
    doc["quantizer"]["bitrate"] = {}
    assert select.bitrate(doc) == pytest.approx(4 * 4 * 50.0)
    doc["metrics"] = [metric("bitrate", 2.5, unit="kbps")]
    assert select.bitrate(doc) == pytest.approx(2500.0)
    assert [select.band(x) for x in (None, 100, 1499.9, 1500, 9999, 10_000)] == [
        "unknown", "low", "low", "medium", "medium", "high"]


def test_seen_in_training_flag_matches_loosely_and_ignores_training_roles():
    doc = _doc()
    doc["upstream"]["trained_on"] = ["CREMA-D", "LibriLight"]
    doc["corpora"] = [
        {"name": "crema-d", "fingerprint": "x", "n_utterances": 1, "role": "train+eval"},
        {"name": "librilight", "fingerprint": "x", "n_utterances": 1, "role": "codebook-train"},
        {"name": "ravdess", "fingerprint": "x", "n_utterances": 1, "role": "test"},
    ]
    assert select.evaluated_corpora(doc) == ["crema-d", "ravdess"]
    assert select.seen_corpora(doc) == ["crema-d"]
    [row] = rows.overview_rows(_runs([doc]))
    assert row.seen == ["crema-d"] and row.corpora == ["crema-d", "ravdess"]


def _brute_front(points):
    def dominated(p):
        return any(q.bitrate <= p.bitrate and q.value >= p.value and (q.bitrate < p.bitrate or q.value > p.value)
                   for q in points)
    return {i for i, p in enumerate(points) if not dominated(p)}


@pytest.mark.parametrize("seed", range(5))
def test_pareto_front_matches_brute_force(seed):
    rng = random.Random(seed)
    pts = [points.Point(f"s{i}", "u", None, rng.choice([100, 200, 400, 800, 1600]), round(rng.random(), 1))
           for i in range(40)]
    marked = points.pareto(pts)
    front = {i for i, p in enumerate(marked) if p.front}
    brute = _brute_front(pts)
    # exact duplicates of a front point are dominated by neither; only the first copy is marked
    assert front <= brute
    assert {(pts[i].bitrate, pts[i].value) for i in front} == {(pts[i].bitrate, pts[i].value) for i in brute}
    assert [(p.bitrate, p.value) for p in marked] == [(p.bitrate, p.value) for p in pts]


def test_ranks_share_ties():
    assert rows.ranks({"a": 0.9, "b": 0.5, "c": 0.9}, "higher") == {"a": 1.5, "c": 1.5, "b": 3.0}
    assert rows.ranks({"a": 0.1, "b": 0.5}, "lower") == {"a": 1.0, "b": 2.0}


def test_overview_rows_are_pure_and_rank_across_tasks():
    docs = make_results(112)  # every upstream x quantizer x task once
    before = copy.deepcopy(docs)
    first = rows.overview_rows(_runs(docs))
    assert docs == before  # nothing mutated
    assert [r.__dict__ for r in first] == [r.__dict__ for r in rows.overview_rows(_runs(docs))]
    assert len(first) == len({rows.system_key(d) for d in docs})
    ranked = [r.mean_rank for r in first if r.mean_rank is not None]
    assert ranked == sorted(ranked)
    best = first[0]
    assert best.n_ranked == 4 and best.upstream == "emotion2vec-plus-base"  # the strongest synthetic upstream
    assert set(best.values) == {c.key for c in rows.COLUMNS}
    assert best.sources["recall"].startswith("from rq1")
    assert best.sources["delta"].startswith("from rq4")  # the column prefers the task that reports it


def test_overview_values_and_delta_in_points():
    doc = _doc(task="rq4", metrics=[metric("macro_f1_delta", 0.0123, layout="8x32", method="emoq")])
    [row] = rows.overview_rows(_runs([doc]))
    assert row.values["delta"] == pytest.approx(1.23)
    assert row.values["recall"] is None
    doc2 = _doc(metrics=[metric("uar", 0.5, depth=4, condition="quantized"), metric("uar", 0.6, condition="continuous")])
    assert rows.run_delta(doc2) == pytest.approx(-10.0)


def test_operating_points_one_per_depth_with_its_bitrate():
    doc = _doc(metrics=[metric("uar", 0.1 * d, depth=d, condition="quantized", corpus="x") for d in (1, 2, 3)]
               + [metric("recall", 0.9, depth=1, emotion="sad")])
    pts = points.operating_points(_runs([doc]))
    assert [(p.depth, p.bitrate) for p in pts] == [(d, d * 4 * 50.0) for d in (1, 2, 3)]
    assert all(p.front for p in pts)
    # no per-depth numbers: one headline point at the run's bitrate
    doc2 = _doc(metrics=[metric("uar", 0.5)])
    [p] = points.operating_points(_runs([doc2]))
    assert p.depth is None and p.bitrate == pytest.approx(800.0)


def test_run_page_names_are_safe():
    doc = _doc(run_id='<script>alert(1)</script>/../../x')
    page = rows.run_page(Run(doc, Path("x.json")))
    assert page.startswith("runs/") and "<" not in page and ".." not in page.split("/", 1)[1].split("-")[0]
    assert "/" not in page[len("runs/"):]


def test_rq1_view_has_a_series_per_emotion_plus_overall():
    runs = _runs([d for d in make_results(28) if d["task"] == "rq1"][:1])
    view = views.task_view("rq1", runs)
    [panel] = view.panels
    cos, rec = panel.figures
    assert [s.label for s in rec.series] == ["all", "angry", "happy", "neutral", "sad"]
    n_stages = runs[0].doc["quantizer"]["n_stages"]
    assert cos.n_points == rec.n_points == 5 * n_stages
    assert not view.missing


def test_rq3_view_categories_and_strata():
    runs = _runs([d for d in make_results(28) if d["task"] == "rq3"][:1])
    view = views.task_view("rq3", runs)
    js = view.panels[0].figures[0]
    assert js.x_categories == ["balanced", "100+0", "99+1", "95+5", "continuous"]
    assert sorted(s.label for s in js.series) == ["all", "high ambiguity", "low ambiguity"]
    assert js.n_points == 15


def test_table1_sits_beside_the_papers_numbers():
    docs = [_doc(task="rq4", quantizer=q, metrics=[metric("macro_f1_delta", v, layout=lay, method=q)])
            for q, lay, v in (("emoq-99", "8x32", 0.02), ("emoq-99", "8x32", 0.01), ("rvq", "8X64", -0.001))]
    [table] = views.table1(_runs(docs))
    assert table["layouts"][:7] == list(paper.TABLE1_LAYOUTS)
    by = {r["method"]: r["cells"] for r in table["rows"]}
    assert by["Emo-Q(99)"][0]["ours"] == pytest.approx(1.5) and by["Emo-Q(99)"][0]["n"] == 2
    assert by["Emo-Q(99)"][0]["paper"] == 1.57
    assert by["Bal"][1]["ours"] == pytest.approx(-0.1) and by["Bal"][1]["paper"] == 0.02
    assert by["Emo-Q(100)"][0]["ours"] is None and by["Emo-Q(100)"][0]["paper"] == 0.95
    # no RQ4 runs at all: the paper's table alone
    [empty] = views.table1([])
    assert all(c["ours"] is None for r in empty["rows"] for c in r["cells"])


def test_paper_table_is_the_published_one():
    assert paper.TABLE1["Bal"]["32x2"] == -0.98 and paper.TABLE1["Emo-Q(100)"]["32x4"] == 1.18
    assert paper.TABLE1["Emo-Q(99)"]["128x2"] == -0.18
    assert paper.table1_method("emoq") == "Emo-Q(100)" and paper.table1_method("EmoQ-99") == "Emo-Q(99)"
    assert paper.table1_method("rvq-8x32") == "Bal" and paper.table1_method("kmeans") is None


def test_a_missing_metric_leaves_an_empty_view_not_an_error():
    doc = _doc(metrics=[metric("cosine_frame", 0.9, depth=1)])
    view = views.task_view("rq1", _runs([doc]))
    cos, rec = view.panels[0].figures
    assert cos.n_points == 1 and rec.n_points == 0
    assert any("recall" in m for m in view.missing)
    assert plot.layout(rec)["empty"]


def test_plot_layout_counts_points_and_ticks_cover_the_data():
    fig = plot.Figure("f", "t", "bitrate", "y", [plot.Series("a", [(50.0, 0.1), (2e5, 0.9)]),
                                                 plot.Series("front", [(50.0, 0.1)], markers=False)],
                      x_log=True, x_fmt="bitrate")
    lay = plot.layout(fig)
    assert lay["n_points"] == 2 == sum(len(s["points"]) for s in lay["series"])
    xs = [float(p["cx"]) for p in lay["series"][0]["points"]]
    assert plot.LEFT <= min(xs) < max(xs) <= plot.LEFT + lay["pw"]
    lo, hi, ticks = plot.log_ticks(50.0, 2e5)
    assert lo < 50 and hi > 2e5 and all(lo <= t <= hi for t in ticks) and len(ticks) >= 2
    lo, hi, ticks = plot.linear_ticks(0.31, 0.83)
    assert lo <= 0.31 and hi >= 0.83 and ticks == sorted(ticks)
    assert plot.fmt_bitrate(1500) == "1.5 kbit/s" and plot.fmt_bitrate(1.2e6) == "1.2 Mbit/s"
    assert not any(math.isnan(v) for v in itertools.chain(xs))

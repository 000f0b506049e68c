"""The leaderboard's numbers: pure functions from result documents to figures, points, ranks, claims and
tables (no HTML). Hand-made records with known answers; the synthetic generator's records."""

from __future__ import annotations

import copy
import random
from pathlib import Path

import pytest

from emobench.leaderboard import claims, figures, paper_table, plot, runpage, scores
from emobench.leaderboard import select as S
from emobench.leaderboard import systems as Y
from emobench.leaderboard.collect import Run
from emobench.leaderboard.overview import labels
from emobench.leaderboard.render import inert
from emobench.leaderboard.synthetic import TASKS, make_result, make_results
from emobench.results import validate_result
from emobench.tasks.records import rec


def _runs(docs):
    return [Run(d, Path(f"{d['run_id']}.json"), d["schema_version"]) for d in docs]


def _doc(task: str, records, **extra):
    """A valid result of ``task`` holding exactly ``records`` (units from the task's spec)."""
    from emobench.registries import tasks
    from emobench.results.document import with_units

    doc = make_result(TASKS.index(task))
    doc["metrics"] = with_units(records, tasks.get(task).spec)
    doc.update(extra)
    validate_result(doc)
    return doc


def test_synthetic_results_are_valid_deterministic_and_distinct():
    from emobench.leaderboard.fastcheck import validate_fast

    docs = make_results(35, seed=3)
    for i, d in enumerate(docs):
        (validate_result if i < len(TASKS) else validate_fast)(d, where=d["run_id"])
        assert d["synthetic"] is True
    assert docs[:5] == make_results(5, seed=3)
    assert len({d["run_hash"] for d in docs}) == 35
    assert {d["task"] for d in docs} == set(TASKS)
    assert len({d["upstream"]["name"] for d in docs}) == 6
    # n // 5 distinct systems on every task page
    for t in TASKS:
        assert len({Y.run_system_key(d) for d in docs if d["task"] == t}) == 7


def test_where_applies_a_key_only_to_roles_that_carry_it():
    recs = [rec("js", 0.3, role="balanced", depth=1), rec("js", 0.2, role="specific", routing="oracle", depth=1),
            rec("js", 0.25, role="specific", routing="emoq", depth=1), rec("js", 0.9, role="specific", depth=1)]
    kept = S.where(recs, {"routing": "oracle"})
    assert [r["value"] for r in kept] == [0.3, 0.2]  # the un-routed specific record is dropped, balanced kept
    assert S.where(recs, {}) == recs


def test_where_mean_over_corpora_when_no_record_is_the_mean():
    recs = [rec("f1", 0.4, corpus="a", role="bal", depth=2), rec("f1", 0.6, corpus="b", role="bal", depth=2),
            rec("f1", 0.9, role="bal", depth=1, condition="selection")]
    kept = S.where(recs, {"corpus": "mean"})
    assert [r["value"] for r in kept] == [0.4, 0.6]  # the selection sweep (no corpus) is not the mean
    assert S.cell(kept).value == pytest.approx(0.5) and S.cell(kept).averaged == {"corpus": ["a", "b"]}
    with_mean = recs + [rec("f1", 0.55, corpus="mean", role="bal", depth=2)]
    assert [r["value"] for r in S.where(with_mean, {"corpus": "mean"})] == [0.55]


def test_depth_min_and_max_are_the_runs_own_extremes():
    recs = [rec("d", 0.1, depth=d, role="x") for d in (2, 5, 9)] + [rec("d", 0.1, depth=1, role="y")]
    assert S.resolve_depths(recs, {"depth": "max", "role": "x"}) == {"depth": 9, "role": "x"}
    assert S.resolve_depths(recs, {"depth": "min", "role": "x"}) == {"depth": 2, "role": "x"}
    assert S.resolve_depths(recs, {"depth": 3}) == {"depth": 3}


def test_reduce_prefers_overall_records_and_split_keys_ignore_dependent_ones():
    recs = [rec("m", 0.5, depth=1, role="a"), rec("m", 0.1, depth=1, role="a", emotion="sad"),
            rec("m", 0.7, depth=1, role="a", stratum="all"), rec("m", 0.2, depth=1, role="a", stratum="low")]
    kept = S.reduce_overall(recs, keep=())
    assert [r["value"] for r in kept] == [0.5, 0.7]
    assert [r["value"] for r in S.reduce_overall(recs, keep={"emotion"})] == [0.5, 0.1, 0.7]  # emotion is a series
    # RQ4: one selected depth per (role, layout) only annotates; two roles per x keep series apart
    rq4 = [rec("d", 0.1, layout="8x32", role="bal", depth=5), rec("d", 0.2, layout="32x2", role="bal", depth=15),
           rec("d", 0.3, layout="8x32", role="emoq", depth=7)]
    assert S.split_keys(rq4, ["layout"]) == ["depth", "role"]
    assert S.split_keys(rq4, ["layout", "role"]) == []


def _rq1_records(depths=(1, 2, 3), emotions=("angry", "sad")):
    out = [rec("uar", 0.6, ci=(0.5, 0.7), n=40, condition="continuous", corpus="c", role="system")]
    out += [rec("recall", 0.8 if e == "angry" else 0.4, ci=(0.6, 0.9), n=20, emotion=e, condition="continuous",
                corpus="c", role="system") for e in emotions]
    for d in depths:
        at = {"condition": "quantized", "corpus": "c", "role": "system", "depth": d}
        out.append(rec("uar", 0.3 + 0.1 * d, ci=(0.2 + 0.1 * d, 0.4 + 0.1 * d), n=40, **at))
        out += [rec("recall", 0.2 * d, ci=(0.1 * d, 0.3 * d), n=20, emotion=e, **at) for e in emotions]
        out.append(rec("bitrate", 100.0 * d, corpus="c", role="system", depth=d))
    return out


def test_a_depth_figure_has_a_series_per_emotion_with_intervals_and_baselines():
    doc = _doc("rq1", _rq1_records())
    info = doc["task_info"]
    spec = next(f for f in info["figures"] if f["id"] == "recall-emotion")
    g = figures.build_group([doc], spec, info, fig_prefix="t", palette=figures.Palette())
    [chart] = g.charts
    assert g.n_series == [2] and [s.label for s in chart.series] == ["angry", "sad"]
    angry = chart.series[0]
    assert [(p.x, p.y, p.lo, p.hi) for p in angry.points] == [
        (1.0, pytest.approx(0.2), pytest.approx(0.1), pytest.approx(0.3)),
        (2.0, pytest.approx(0.4), pytest.approx(0.2), pytest.approx(0.6)),
        (3.0, pytest.approx(0.6), pytest.approx(0.3), pytest.approx(0.9))]
    assert sorted((r.label, r.y) for r in chart.refs) == [("continuous · angry", 0.8), ("continuous · sad", 0.4)]
    ref_colour = {r.label: r.colour for r in chart.refs}
    assert chart.series[0].colour == plot.EMOTION_COLOURS["angry"] == ref_colour["continuous · angry"]
    lay = plot.layout(chart)
    assert lay["n_points"] == 6 and len(lay["refs"]) == 2
    uar = next(f for f in info["figures"] if f["id"] == "recall")
    [u] = figures.build_group([doc], uar, info, fig_prefix="t", palette=figures.Palette()).charts
    assert [s.label for s in u.series] == ["all"] and [r.y for r in u.refs] == [0.6]
    assert plot.layout(u)["series"][0]["band"]  # one series with intervals: drawn as a band


def test_facets_and_routing_filter_follow_the_spec():
    recs = [rec("js_divergence", 0.4, ci=(0.35, 0.45), n=9, condition="continuous", corpus="i", stratum=s)
            for s in ("all", "low", "high")]
    for d in (1, 2):
        for s in ("all", "low", "high"):
            recs.append(rec("js_divergence", 0.5, ci=(0.4, 0.6), n=9, corpus="i", depth=d, role="balanced", stratum=s))
            for role in ("specific", "biased-99"):
                for routing, v in (("oracle", 0.3), ("emoq", 0.45)):
                    recs.append(rec("js_divergence", v, ci=(v - 0.05, v + 0.05), n=9, corpus="i", depth=d, role=role,
                                    routing=routing, stratum=s))
    doc = _doc("rq3", recs)
    info = doc["task_info"]
    spec = next(f for f in info["figures"] if f["id"] == "js")
    g = figures.build_group([doc], spec, info, fig_prefix="t", palette=figures.Palette())
    assert [c.title.split(" · ")[-1] for c in g.charts] == ["stratum all", "stratum low", "stratum high"]
    assert g.n_series == [3, 3, 3]
    chart = g.charts[1]
    assert {s.label: [p.y for p in s.points] for s in chart.series} == {
        "balanced": [0.5, 0.5], "specific": [0.3, 0.3], "biased-99": [0.3, 0.3]}  # oracle routing only
    assert [(r.label, r.y) for r in chart.refs] == [("continuous", 0.4)]
    emoq = next(f for f in info["figures"] if f["id"] == "js-emoq")
    chart = figures.build_group([doc], emoq, info, fig_prefix="t", palette=figures.Palette()).charts[0]
    assert {s.label: s.points[0].y for s in chart.series} == {"balanced": 0.5, "specific": 0.45, "biased-99": 0.45}


def _rq4_records():
    out = [rec("macro_f1", 0.5, ci=(0.4, 0.6), n=50, corpus=c, condition="continuous") for c in ("a", "b")]
    for layout, depth in (("8x32", 5), ("32x2", 15)):
        for role, delta in (("bal", -0.01), ("emoq-100", 0.02)):
            at = {"layout": layout, "role": role, "depth": depth}
            out.append(rec("macro_f1_delta", delta, ci=(delta - 0.01, delta + 0.01), n=2, corpus="mean", **at))
            out.append(rec("bitrate", depth * 5 * 100.0 + (1.0 if role != "bal" else 0.0), corpus="mean", **at))
            for c in ("a", "b"):
                out.append(rec("macro_f1", 0.5 + delta, ci=(0.4, 0.6), n=50, corpus=c, condition="quantized", **at))
        out.append(rec("macro_f1_diff", 0.03, ci=(0.01, 0.05), n=2, corpus="mean", layout=layout, role="emoq-100",
                       depth=depth))
    return out


def test_operating_points_sit_at_the_bitrate_actually_sent():
    doc = _doc("rq4", _rq4_records())
    pts = scores.run_points(_runs([doc])[0])
    got = {(p.role, p.system.layout): (p.depth, p.bitrate, p.value) for p in pts}
    assert got[("bal", "8x32")] == (5, 2500.0, pytest.approx(-0.01))
    assert got[("emoq-100", "32x2")] == (15, 7501.0, pytest.approx(0.02))  # frame codes + route bits
    assert len(pts) == 4
    fam = {p.role: p.family for p in pts}
    assert fam["bal"] == "ResidualVQ" and fam["emoq-100"] == "EmoQ 100+0"


def test_bitrate_falls_back_to_frame_codes_and_says_so_for_routers():
    doc = _doc("rq2", [rec("matched_recall", 0.5, depth=2, role="specific", corpus="c")])
    bps, note = Y.bitrate(doc, "specific", None, 2)
    fps = doc["upstream"]["frame_rate_hz"]
    q = Y.fitted(doc, "specific")
    assert bps == pytest.approx(q["bits_per_frame"]["2"] * fps) and "route bits not included" in note
    assert Y.bitrate(doc, "balanced", None, 2)[1] == ""


def test_ranks_share_ties_and_follow_the_direction():
    assert scores.ranks({"a": 0.9, "b": 0.5, "c": 0.9}, "higher") == {"a": 1.5, "c": 1.5, "b": 3.0}
    assert scores.ranks({"a": 0.1, "b": 0.5}, "lower") == {"a": 1.0, "b": 2.0}
    assert scores.ranks({"a": 0.1}, "none") == {}


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("direction", ["higher", "lower"])
def test_pareto_front_matches_brute_force(seed, direction):
    rng = random.Random(seed)
    pts = [(rng.choice([100, 200, 400, 800]), round(rng.random(), 1)) for _ in range(40)]
    sign = 1 if direction == "higher" else -1

    def dominated(p):
        return any(q[0] <= p[0] and sign * q[1] >= sign * p[1] and q != p for q in pts)

    front = scores.pareto(pts, direction)
    assert {pts[i] for i in front} == {p for p in pts if not dominated(p)}
    assert len(front) == len({pts[i] for i in front})  # duplicates marked once


def test_ranks_only_within_a_cohort_of_task_corpora_and_realness():
    base = _rq1_records(depths=(1, 2))
    docs = []
    for i, (corpus_name, synthetic, shift) in enumerate((("c", True, 0.0), ("c", True, 0.1), ("d", True, 0.2),
                                                         ("c", False, 0.3))):
        recs = [dict(r, value=r["value"] + shift, breakdown={**r["breakdown"], "corpus": corpus_name}) for r in base]
        d = _doc("rq1", recs, synthetic=synthetic, run_id=f"r{i}", run_hash=f"{i:016x}")
        d["upstream"]["name"] = f"up{i}"
        d["corpora"] = [{"name": corpus_name, "fingerprint": "f", "n_utterances": 1, "role": "train+eval"}]
        docs.append(d)
    pts = [p for r in _runs(docs) for p in scores.run_points(r)]
    heads = scores.headlines(pts)
    sizes = scores.rank_cohorts(heads, {"rq1": "higher"})
    assert sorted(sizes.values()) == [1, 1, 2]
    by_up = {k[0].split(" · ")[0]: h for k, h in heads.items()}
    assert (by_up["up1"].rank, by_up["up0"].rank, by_up["up1"].cohort_size) == (1.0, 2.0, 2)
    assert by_up["up2"].rank == 1.0 and by_up["up2"].cohort_size == 1  # other corpus: not ranked with them
    assert by_up["up3"].cohort == ("rq1", ("c",), False) and by_up["up3"].cohort_size == 1  # real: apart
    assert by_up["up0"].depth == 2 and by_up["up0"].bitrate == 200.0  # at the deepest depth, its bitrate


def test_labels_add_probe_only_where_systems_collide():
    a, b = _doc("rq1", _rq1_records()), _doc("rq1", _rq1_records())
    b["probe"] = {"name": "mlp", "trained": True}
    b["run_hash"] = "f" * 16
    names = labels([p for r in _runs([a, b]) for p in scores.run_points(r)])
    assert sorted(names.values()) == sorted([f"{n} · linear" for n in {Y.run_label(a)}] + [f"{Y.run_label(a)} · mlp"])


def test_paper_table_sits_beside_the_papers_numbers_in_its_unit():
    doc = _doc("rq4", _rq4_records())
    [table] = paper_table.paper_tables(_runs([doc]))
    [block] = table["blocks"]
    assert block["columns"][:7] == ["8x32", "8x64", "8x128", "32x2", "32x4", "64x2", "128x2"]
    rows = {r["key"]: {c["column"]: c for c in r["cells"]} for r in block["rows"]}
    cell = rows["emoq-100"]["8x32"]
    assert cell["ours"] == pytest.approx(2.0) and cell["lo"] == pytest.approx(1.0) and cell["hi"] == pytest.approx(3.0)
    assert cell["paper"] == 0.95 and cell["bitrate"] == 2501.0 and cell["depths"] == [5]
    assert rows["bal"]["8x64"]["ours"] is None and rows["bal"]["8x64"]["paper"] == 0.02
    assert [r["label"] for r in block["rows"]] == ["Bal", "Emo-Q(100)", "Emo-Q(99)"]
    assert table["unit"] == "percentage points" and table["scale"] == 100
    assert paper_table.paper_tables(_runs([_doc("rq1", _rq1_records())])) == []  # no table in RQ1's spec


@pytest.mark.parametrize(("lo", "hi", "expect", "verdict"), [
    (0.01, 0.05, "positive", "supported"), (-0.05, -0.01, "positive", "not supported"),
    (-0.01, 0.05, "positive", "inconclusive"), (-0.05, -0.01, "negative", "supported"),
    (0.01, 0.05, "negative", "not supported"), (None, None, "positive", "inconclusive")])
def test_verdict_reads_the_interval_against_the_expected_sign(lo, hi, expect, verdict):
    assert claims.verdict(lo, hi, expect)[0] == verdict


def test_claims_are_computed_from_the_records():
    recs = [rec("uar_gain", g, ci=(g - 0.02, g + 0.02), n=40, condition="quantized", corpus="c", role="system",
                depth=d) for d, g in ((2, -0.1), (3, 0.05))]
    synthetic = _doc("rq1", recs)
    real = _doc("rq1", [dict(r, value=-0.2, ci_low=-0.3, ci_high=-0.1) for r in recs], synthetic=False,
                run_id="real", run_hash="a" * 16)
    [res] = claims.evaluate(_runs([synthetic]))
    assert res.claim["id"] == "RQ1-i" and res.basis == "synthetic"
    [t] = res.tests
    assert "depth" not in t.breakdown  # fixed by the claim's where (max = 3 here), so not repeated
    assert (t.value, t.verdict) == (pytest.approx(0.05), "supported")  # depth max: the run's deepest
    assert res.verdict == "supported"
    [res] = claims.evaluate(_runs([synthetic, real]))
    assert res.basis == "real" and res.verdict == "not supported"  # real runs decide; synthetic ones listed
    assert len(res.tests) == 2 and res.counts == {"supported": 0, "not supported": 1, "inconclusive": 0}


def test_claim_headline_tests_are_overall_and_finer_ones_are_details():
    recs = [rec("matched_recall_diff", 0.1, ci=(0.05, 0.15), n=40, corpus="c", depth=1, role="specific")]
    recs += [rec("matched_recall_diff", v, ci=(v - 0.2, v + 0.2), n=10, corpus="c", depth=1, role="specific",
                 emotion=e) for e, v in (("angry", 0.1), ("sad", -0.3))]
    recs += [rec("matched_recall_diff", -0.5, ci=(-0.6, -0.4), n=40, corpus="c", depth=2, role="specific")]
    [res] = claims.evaluate(_runs([_doc("rq2", recs)]))
    assert [t.value for t in res.tests] == [0.1] and len(res.details) == 2  # depth min = 1; depth 2 not a test
    assert res.verdict == "supported"
    assert [t.verdict for t in res.details] == ["inconclusive", "not supported"]


def test_confusion_matrices_per_condition_with_recall():
    recs = []
    counts = {("angry", "angry"): 8, ("angry", "sad"): 2, ("sad", "angry"): 5, ("sad", "sad"): 5}
    for cond, depth in (("continuous", None), ("quantized", 1)):
        for (t, p), c in counts.items():
            recs.append(rec("confusion", c if cond == "continuous" else 10 - c if t != p else c - 1, condition=cond,
                            corpus="x", emotion=t, predicted=p, role="system", depth=depth))
        recs.append(rec("recall", 0.8, ci=(0.7, 0.9), emotion="angry", condition=cond, corpus="x", role="system",
                        depth=depth))
    groups = runpage.confusions(_doc("rq1", recs))
    assert [g["name"] for g in groups] == ["continuous (corpus x, role system)", "depth 1 (corpus x, role system)"]
    cont = groups[0]
    assert cont["labels"] == ["angry", "sad"]
    assert [r["counts"] for r in cont["rows"]] == [[8, 2], [5, 5]]
    assert [r["recall"] for r in cont["rows"]] == [0.8, 0.5]
    assert cont["rows"][0]["ci"] == (0.7, 0.9) and cont["rows"][1]["ci"] == (None, None)


def test_family_reads_the_quantizers_composition():
    assert Y.family({"kind": "EmoQ", "params": {"composition": "biased", "target_share": 0.99}}) == "EmoQ 99+1"
    assert Y.family({"kind": "EmoQ", "params": {"composition": "specific", "target_share": 1.0}}) == "EmoQ 100+0"
    assert Y.family({"kind": "ResidualVQ", "params": {"n_stages": 8}}) == "ResidualVQ"
    assert Y.quantizer_label("rvq-8x32", "8x32") == "rvq-8x32" and Y.quantizer_label("rvq", "8x32") == "rvq 8x32"


def test_bidi_controls_are_made_visible():
    assert inert("run\u202egnp.exe") == "run⟨U+202E⟩gnp.exe"
    assert inert("[/x] <b>") == "[/x] <b>"  # markup is escaped by the templates, not here


def test_pure_functions_do_not_mutate_the_documents():
    docs = [make_result(i) for i in range(5)]
    before = copy.deepcopy(docs)
    runs = _runs(docs)
    for r in runs:
        scores.run_points(r)
    claims.evaluate(runs)
    paper_table.paper_tables([r for r in runs if r.doc["task"] == "rq4"])
    assert docs == before


def test_ticks_cover_the_data_and_depth_ticks_are_whole_numbers():
    lo, hi, ticks = plot.linear_ticks(1, 12, integer=True)
    assert lo <= 1 and hi >= 12 and all(float(t).is_integer() for t in ticks)
    lo, hi, ticks = plot.linear_ticks(0.983, 0.998)
    labels_ = plot.tick_labels(ticks)
    assert lo <= 0.983 and hi >= 0.998 and len(set(labels_)) == len(labels_)  # close ticks stay distinct
    lo, hi, ticks = plot.log_ticks(50.0, 2e5)
    assert lo < 50 and hi > 2e5 and all(lo <= t <= hi for t in ticks) and len(ticks) >= 2
    assert plot.fmt_bitrate(1500) == "1.5 kbit/s" and plot.fmt_bitrate(1.2e6) == "1.2 Mbit/s"
    assert plot.fmt(None) == "" and plot.fmt_bitrate(None) == ""  # missing is blank, never a zero
    fig = plot.Figure("f", "t", "x", "y", [plot.Series("a", [plot.Point(1, 0.2, 0.1, 0.3), plot.Point(2, 0.4)])])
    lay = plot.layout(fig)
    assert lay["n_points"] == 2 and not lay["series"][0]["band"] and lay["series"][0]["whiskers"].count("M") == 1

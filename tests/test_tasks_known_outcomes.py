"""The known-outcome science suite: synthetic features where the right answer follows from the
construction (emotion in a small subspace, a large per-utterance nuisance; see emobench.testing), one
test per effect the paper claims, asserting its direction and size. A regression such as routing pooled
vectors through frame-trained codebooks (Emo-Q below chance) fails here."""

from __future__ import annotations

import numpy as np
import pytest

from emobench.errors import EmobenchError
from emobench.registries import quantizers
from emobench.testing import make_inputs, records, synthetic_corpus, value

LABELS = ("angry", "happy", "neutral", "sad")


@pytest.fixture(autouse=True)
def tiny_presets():
    """Small codebooks: few entries, so a balanced codebook cannot cover the nuisance and emotion at once."""
    made = {
        "t-rvq": ("emobench.quantizers.rvq:ResidualVQ", {"n_stages": 3, "codebook_size": 2, "n_iter": 10,
                                                        "min_train_frames": 0}),
        "t-spec": ("emobench.quantizers.emoq:EmoQ", {"n_stages": 3, "codebook_size": 2, "n_iter": 10,
                                                    "min_train_frames": 0}),
        "t-deep": ("emobench.quantizers.rvq:ResidualVQ", {"n_stages": 8, "codebook_size": 4, "n_iter": 10,
                                                         "min_train_frames": 0}),
        "t-bias": ("emobench.quantizers.emoq:EmoQ", {"n_stages": 3, "codebook_size": 2, "n_iter": 10,
                                                    "composition": "biased", "target_share": 0.75,
                                                    "min_train_frames": 0}),
    }
    for name, (impl, params) in made.items():
        quantizers.register(name, impl, "test preset", params=params)
    yield
    for name in made:
        quantizers.unregister(name)


def test_rq1_recall_recovers_with_depth_and_intervals_are_speaker_level(tmp_path):
    from emobench.tasks.rq1 import RQ1

    corpora = {"a": synthetic_corpus("a", seed=0, n_speakers=6, dim=8, nuisance=3.0)}
    inputs, _ = make_inputs(tmp_path, corpora, task="rq1", quantizers={"system": "t-deep"})
    out = RQ1(n_boot=200).run(inputs)
    depths = range(1, 9)
    uar = [value(out.metrics, "uar", depth=d, corpus="a", condition="quantized") for d in depths]
    cos = [value(out.metrics, "cosine_frame", depth=d, corpus="a") for d in depths]
    cont = value(out.metrics, "uar", corpus="a", condition="continuous")
    assert all(b >= a - 1e-9 for a, b in zip(cos, cos[1:], strict=False)), cos  # deeper never reconstructs worse
    # the first stages spend their codewords on the nuisance and lose emotion; deeper ones recover it
    assert uar[0] < cont - 0.4 and uar[-1] > uar[0] + 0.4, (uar, cont)
    gain = records(out.metrics, "uar_gain", depth=8, corpus="a")[0]
    assert gain["value"] > 0.4 and gain["ci_low"] > 0, gain  # paired over the same utterances
    rec = records(out.metrics, "uar", depth=1, corpus="a")[0]
    assert rec["ci_low"] < rec["value"] < rec["ci_high"]
    # the system trains on all the balanced data: every emotion min-count times
    assert inputs.quantizers.fitted[0]["train_utterances"] == {"all": 4 * 12}


def test_rq2_specific_codebooks_keep_their_emotion_and_pay_with_attraction(tmp_path):
    from emobench.tasks.rq2 import RQ2

    corpora = {"a": synthetic_corpus("a", seed=0), "b": synthetic_corpus("b", seed=1)}
    inputs, _ = make_inputs(tmp_path, corpora, task="rq2", quantizers={"balanced": "t-rvq", "specific": "t-spec"})
    out = RQ2(n_boot=100).run(inputs)
    for corpus in ("a", "b"):
        spec = value(out.metrics, "matched_recall", depth=1, emotion=None, role="specific", corpus=corpus)
        bal = value(out.metrics, "matched_recall", depth=1, emotion=None, role="balanced", corpus=corpus)
        assert spec > bal + 0.2 and spec > 0.8, (corpus, spec, bal)
        diff = records(out.metrics, "matched_recall_diff", depth=1, emotion=None, corpus=corpus)[0]
        assert diff["value"] == pytest.approx(spec - bal) and diff["ci_low"] > 0
        att = {r: value(out.metrics, "attraction", depth=1, emotion=None, role=r, corpus=corpus)
               for r in ("specific", "balanced")}
        assert att["specific"] > att["balanced"], att
    ent = records(out.metrics, "normalized_entropy", role="specific", condition="matched")
    assert {m["breakdown"]["stage"] for m in ent} == {1, 2, 3} and all(0 <= m["value"] <= 1 for m in ent)
    assert out.protocol["per_corpus"]["a"]["utterances_per_codebook"] == 12
    fits = {f["role"]: f["train_utterances"] for f in inputs.quantizers.fitted[:2]}
    assert fits == {"balanced": {"all": 12}, "specific": {lab: 12 for lab in LABELS}}  # equal totals


def test_rq3_emotion_codebooks_keep_soft_labels_and_strata_follow_all_votes(tmp_path):
    from emobench.tasks.rq3 import RQ3

    kw = {"nuisance": 1.5}
    corpora = {"a": synthetic_corpus("a", seed=0, **kw),
               "held": synthetic_corpus("held", seed=5, soft=True, no_agreement=3, **kw)}
    inputs, _ = make_inputs(tmp_path, corpora, task="rq3",
                            quantizers={"balanced": "t-rvq", "specific": "t-spec", "biased-95": "t-bias",
                                        "biased-99": "t-bias"})
    out = RQ3(held_out="held", n_boot=100).run(inputs)
    for role in ("specific", "biased-95"):
        d = records(out.metrics, "js_divergence_diff", depth=1, role=role, stratum="all", routing="oracle")[0]
        assert d["value"] < -0.05 and d["ci_high"] < 0, (role, d)
    assert records(out.metrics, "js_divergence", depth=1, role="specific", stratum="high", routing="emoq")
    route = value(out.metrics, "route_accuracy", depth=1, role="specific")
    assert route > 0.8
    # no-agreement utterances are evaluated (in the high stratum), and strata use every vote
    n_high = value(out.metrics, "js_divergence", condition="continuous", stratum="high")
    held = corpora["held"][0]
    expected_high = sum(u.primary_share <= 0.5 for u in held.utterances if u.id in {x for x in out.predictions.utt_id}) \
        + len(held.unlabelled)
    assert out.protocol["strata"]["high"] == expected_high and n_high is not None
    assert {"oracle", "emoq"} <= set(out.predictions["routing"].dropna())


def test_rq4_emoq_beats_bal_and_counts_the_bits_it_sends(tmp_path):
    from emobench.tasks.rq4 import RQ4

    # emotion a clean cluster beside a moderate nuisance: routing by reconstruction recognises it, while
    # two codewords per stage of one balanced codebook cannot place four emotions at once
    kw = {"nuisance": 1.5}
    corpora = {"a": synthetic_corpus("a", seed=0, **kw), "b": synthetic_corpus("b", seed=1, **kw),
               "ood1": synthetic_corpus("ood1", seed=7, n_per_label=12, **kw)}
    inputs, _ = make_inputs(tmp_path, corpora, task="rq4",
                            quantizers={"bal": "t-rvq", "emoq-100": "t-spec", "emoq-99": "t-bias"})
    out = RQ4(layouts=["3x2", "2x4"], ood=["ood1"], n_boot=100).run(inputs)
    for layout in ("3x2", "2x4"):
        for role in ("emoq-100", "emoq-99"):
            f1 = value(out.metrics, "macro_f1", corpus="ood1", condition="quantized", layout=layout, role=role)
            diff = records(out.metrics, "macro_f1_diff", corpus="mean", layout=layout, role=role)[0]
            assert f1 > 0.7 and diff["value"] > 0.15 and diff["ci_low"] > 0, (layout, role, f1, diff)
        depth = value(out.metrics, "selected_depth", layout=layout, role="emoq-100")
        bps = value(out.metrics, "bitrate", layout=layout, role="emoq-100")
        k = int(layout.split("x")[1])
        duration = 12 / 50.0  # 12 frames at 50 Hz per utterance
        assert bps == pytest.approx(depth * np.log2(k) * 50.0 + np.log2(4) / duration)  # frames + the route
        bal_bps = value(out.metrics, "bitrate", layout=layout, role="bal")
        assert bal_bps == pytest.approx(value(out.metrics, "selected_depth", layout=layout, role="bal") * np.log2(k) * 50)
    assert out.corpora_roles == {"a": "train", "b": "train", "ood1": "ood"}
    layouts = {f["layout"] for f in inputs.quantizers.fitted}
    assert layouts == {"3x2", "2x4"}  # every role refitted per layout, the presets' other settings kept


def test_ood_ser_scores_a_router_both_ways_and_stands_in_for_missing_ood(tmp_path):
    from emobench.tasks.ood import OODSER

    corpora = {"a": synthetic_corpus("a", seed=0, nuisance=1.5),
               "ood1": synthetic_corpus("ood1", seed=7, n_per_label=12, nuisance=1.5)}
    inputs, _ = make_inputs(tmp_path, corpora, task="ood-ser", quantizers={"system": "t-spec"})
    out = OODSER(ood=["ood1"], n_boot=50).run(inputs)
    sel = records(out.metrics, "macro_f1_delta", corpus="ood1", selected="cv")
    assert {m["breakdown"]["scoring"] for m in sel} == {"probe", "route"}
    assert value(out.metrics, "macro_f1", corpus="ood1", condition="quantized", scoring="route", depth=1) > 0.8
    only = {"a": synthetic_corpus("a", seed=0)}
    inputs2, _ = make_inputs(tmp_path / "2", only, task="ood-ser", quantizers={"system": "t-rvq"})
    out2 = OODSER(ood=["msp-podcast"], n_boot=10).run(inputs2)
    assert any("pseudo-OOD" in n for n in out2.notes)


def test_a_role_that_must_route_refuses_a_plain_codebook_before_work(tmp_path):
    with pytest.raises(EmobenchError, match="role 'emoq-100' routes .* cannot route"):
        make_inputs(tmp_path, {"a": synthetic_corpus("a")}, task="rq4", quantizers={"emoq-100": "t-rvq"})
    with pytest.raises(EmobenchError, match="roles: bal, emoq-100, emoq-99"):
        make_inputs(tmp_path, {"a": synthetic_corpus("a")}, task="rq4", quantizers={"router": "t-spec"})


def test_plans_that_cannot_be_honoured_fail_before_any_fit(tmp_path):
    from emobench.tasks.rq2 import RQ2

    inputs, _ = make_inputs(tmp_path, {"a": synthetic_corpus("a", n_per_label=6)}, task="rq2",
                            quantizers={"balanced": "t-rvq", "specific": "t-spec"})
    with pytest.raises(EmobenchError, match="n_train"):
        RQ2(n_train=50, n_boot=10).run(inputs)
    assert not inputs.quantizers.fitted and not (tmp_path / "codebooks").exists()

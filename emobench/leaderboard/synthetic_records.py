"""Made-up metric records with exactly the names and breakdown keys the real tasks write
(``emobench/tasks/rq1.py`` ... ``ood.py``; a test compares them with real tiny runs). Shapes are
plausible (fidelity rises with depth, per-emotion gaps, emotion-aware codebooks help at low depth);
the numbers mean nothing."""

from __future__ import annotations

import math
import random
from typing import Any

from emobench.tasks.records import rec as metric  # units and directions come from the task spec

EMOTIONS = ("angry", "happy", "neutral", "sad")
GAP = {"angry": 0.03, "happy": -0.04, "neutral": -0.09, "sad": 0.04}
STRATA = ("all", "low", "high")


class Gen:
    """Noise and intervals for one synthetic run."""

    def __init__(self, rng: random.Random, strength: float, n_test: int = 200):
        self.rng, self.strength, self.n = rng, strength, n_test

    def val(self, x: float, sd: float = 0.01, lo: float = 0.0, hi: float = 1.0) -> float:
        return min(max(x + self.rng.gauss(0, sd), lo), hi)

    def rec(self, name: str, value: float, *, half: float | None = 0.05, n: int | None = None, **bd: Any):
        ci = None if half is None else (value - half * (0.8 + 0.4 * self.rng.random()),
                                        value + half * (0.8 + 0.4 * self.rng.random()))
        return metric(name, value, ci=ci, n=n if n is not None else self.n, **bd)


def curve(depth: float, top: float, floor: float, tau: float) -> float:
    return top - (top - floor) * math.exp(-(depth - 1) / tau)


def _classification(g: Gen, uar: float, at: dict[str, Any], counts: bool = True) -> list[dict]:
    out = [g.rec(s, g.val(uar + d)) for s, d in (("uar", 0.0), ("macro_f1", -0.02), ("accuracy", 0.01))]
    out = [dict(r, breakdown={**r["breakdown"], **at}) for r in out]
    per = g.n // len(EMOTIONS)
    for e in EMOTIONS:
        r = g.val(uar + GAP[e] * (1.4 - g.strength), 0.02)
        out.append(g.rec("recall", r, n=per, emotion=e, **at))
        if counts:
            hits = round(r * per)
            rest = [per - hits - 2 * (per - hits) // 3, (per - hits) // 3, (per - hits) // 3]
            others = [x for x in EMOTIONS if x != e]
            for p in EMOTIONS:
                value = hits if p == e else rest[others.index(p)]
                out.append(metric("confusion", float(value), emotion=e, predicted=p, **at))
    return out


def rq1(g: Gen, n_stages: int, k: int, corpus: str, bps: list[float]) -> list[dict]:
    cont = 0.45 + 0.45 * g.strength
    tau = 1.5 + 5.0 / max(math.log2(k), 1.0)
    base = {"corpus": corpus, "role": "system"}
    out = _classification(g, cont, {"condition": "continuous", **base})
    first = None
    for d in range(1, n_stages + 1):
        uar = curve(d, cont - 0.01, 0.28 + 0.2 * g.strength, tau)
        first = uar if first is None else first
        at = {"condition": "quantized", "depth": d, **base}
        out += _classification(g, uar, at)
        cos = curve(d, 0.99, 0.5 + 0.3 * g.strength, tau)
        out += [g.rec("cosine_frame", g.val(cos, 0.002), half=0.01, **at),
                g.rec("cosine_utterance", g.val(cos + 0.01, 0.002), half=0.008, **at),
                g.rec("agreement", g.val(0.5 + 0.5 * (uar / cont)), **at)]
        if d > 1:
            out.append(g.rec("uar_gain", uar - first + g.rng.gauss(0, 0.01), half=0.04, **at))
        out.append(metric("bitrate", bps[d - 1], depth=d, **base))
    for s in range(1, n_stages + 1):
        out.append(metric("normalized_entropy", g.val(0.92 - 0.1 * s / n_stages, 0.01), n=g.n, stage=s, **base))
    return out


def rq2(g: Gen, n_stages: int, corpus: str, bps: list[float]) -> list[dict]:
    cont = 0.45 + 0.45 * g.strength
    per = g.n // len(EMOTIONS)
    out = [metric("recall", g.val(cont + GAP[e]), n=per, emotion=e, condition="continuous", corpus=corpus)
           for e in EMOTIONS]
    for d in range(1, n_stages + 1):
        bal = curve(d, cont, 0.28 + 0.2 * g.strength, 3.0)
        matched_bal = {}
        for role, lift, drop, pull in (("balanced", 0.0, 0.0, 0.08), ("specific", 0.14, 0.25, 0.3)):
            fade = math.exp(-(d - 1) / 5)
            means = {"matched_recall": [], "unmatched_recall": [], "attraction": []}
            diffs = []
            at = {"corpus": corpus, "depth": d, "role": role}
            for e in EMOTIONS:
                vals = {"matched_recall": g.val(bal + GAP[e] + lift * fade + 0.02, 0.02),
                        "unmatched_recall": g.val(bal - drop * fade, 0.02),
                        "attraction": g.val(0.1 + pull * fade, 0.01)}
                if role == "balanced":
                    matched_bal[e] = vals["matched_recall"]
                for name, v in vals.items():
                    out.append(g.rec(name, v, n=per if name == "matched_recall" else g.n - per, emotion=e, **at))
                    means[name].append(v)
                if role == "specific":
                    diffs.append(vals["matched_recall"] - matched_bal[e])
                    out.append(g.rec("matched_recall_diff", diffs[-1], half=0.07, n=per, emotion=e, **at))
            for name, vs in means.items():
                out.append(g.rec(name, sum(vs) / len(vs), half=0.03, **at))
            if diffs:
                out.append(g.rec("matched_recall_diff", sum(diffs) / len(diffs), half=0.04, **at))
            out.append(metric("bitrate", bps[d - 1], **at))  # oracle books: frame codes only
    for role, shift in (("balanced", 0.0), ("specific", -0.03)):
        for e in EMOTIONS:
            for cond in ("matched", "unmatched"):
                for s in range(1, n_stages + 1):
                    v = g.val(0.93 + shift - 0.05 * s / n_stages - (0.04 if cond == "unmatched" else 0), 0.005)
                    out.append(metric("normalized_entropy", v, n=g.n * 50, condition=cond, corpus=corpus, emotion=e,
                                      role=role, stage=s))
    return out


RQ3_GAIN = {"balanced": 0.0, "specific": 0.03, "biased-95": 0.035, "biased-99": 0.04}


def rq3(g: Gen, n_stages: int, corpus: str, bps: list[float], duration_s: float = 3.0) -> list[dict]:
    out = []
    depths = list(range(1, n_stages + 1))

    def soft(role_gain: float, d: int | None, stratum: str) -> tuple[float, float]:
        fade = 1.0 if d is None else 1 - math.exp(-d / 4)
        hard = {"all": 0.05, "low": 0.0, "high": 0.12}[stratum]
        js = 0.45 - 0.15 * g.strength * fade + hard - role_gain * (1 - 0.5 * fade)
        top2 = 0.3 + 0.3 * g.strength * fade - hard + 1.5 * role_gain * (1 - 0.5 * fade)
        return g.val(js, 0.004), g.val(top2, 0.01)

    counts = {"all": g.n, "low": g.n * 2 // 3, "high": g.n // 3}
    for s in STRATA:
        js, top2 = soft(0.05, None, s)
        out += [g.rec("js_divergence", js, half=0.02, n=counts[s], condition="continuous", corpus=corpus, stratum=s),
                g.rec("top2_accuracy", top2, n=counts[s], condition="continuous", corpus=corpus, stratum=s)]
    base = {}
    for d in depths:
        for s in STRATA:
            base[(d, s)] = soft(0.0, d, s)
            js, top2 = base[(d, s)]
            at = {"corpus": corpus, "depth": d, "role": "balanced", "stratum": s}
            out += [g.rec("js_divergence", js, half=0.02, n=counts[s], **at), g.rec("top2_accuracy", top2, n=counts[s], **at)]
        out.append(metric("bitrate", bps[d - 1], corpus=corpus, depth=d, role="balanced"))
    for role in ("specific", "biased-95", "biased-99"):
        for d in depths:
            for routing in ("oracle", "emoq"):
                gain = RQ3_GAIN[role] * (1.0 if routing == "oracle" else 0.4)
                for s in STRATA:
                    js, top2 = soft(gain, d, s)
                    at = {"corpus": corpus, "depth": d, "role": role, "routing": routing, "stratum": s}
                    out += [g.rec("js_divergence", js, half=0.02, n=counts[s], **at),
                            g.rec("js_divergence_diff", js - base[(d, s)][0], half=0.012, n=counts[s], **at),
                            g.rec("top2_accuracy", top2, n=counts[s], **at),
                            g.rec("top2_accuracy_diff", top2 - base[(d, s)][1], half=0.04, n=counts[s], **at)]
                route = math.log2(len(EMOTIONS)) / duration_s if routing == "emoq" else 0.0
                out.append(metric("bitrate", bps[d - 1] + route, corpus=corpus, depth=d, role=role, routing=routing))
                if routing == "emoq":
                    out.append(g.rec("route_accuracy", g.val(0.4 + 0.3 * g.strength), corpus=corpus, depth=d, role=role))
    return out


def rq4(g: Gen, layouts: list[str], ood: list[str], fps: float, duration_s: float = 3.0) -> list[dict]:
    f1 = 0.35 + 0.45 * g.strength
    out = [g.rec("macro_f1", g.val(f1), n=g.n, corpus=c, condition="continuous") for c in ood]
    cont = {c: out[i]["value"] for i, c in enumerate(ood)}
    out.append(g.rec("macro_f1", sum(cont.values()) / len(ood), half=0.02, n=len(ood), corpus="mean",
                     condition="continuous"))
    for i, layout in enumerate(layouts):
        n_stages, k = (int(x) for x in layout.split("x"))
        chosen: dict[str, dict[str, float]] = {}
        depth_of = {}
        for role, boost in (("bal", -0.002), ("emoq-100", 0.01), ("emoq-99", 0.014)):
            at = {"layout": layout, "role": role}
            curve_ = {d: curve(d, f1 + boost, f1 - 0.2, n_stages / 4) + g.rng.gauss(0, 0.004)
                      for d in range(1, n_stages + 1)}
            best = max(curve_, key=lambda d: (round(curve_[d], 3), -d))
            out += [metric("macro_f1", v, n=g.n, condition="selection", depth=d, **at) for d, v in curve_.items()]
            chosen[role] = {}
            for c in ood:
                v = g.val(cont[c] + boost - 0.001 * i, 0.006)
                chosen[role][c] = v
                here = {"corpus": c, "depth": best, **at}
                out += [g.rec("macro_f1", v, n=g.n, condition="quantized", **here),
                        g.rec("macro_f1_delta", v - cont[c], half=0.02, n=g.n, **here)]
                if role != "bal":
                    out.append(g.rec("route_accuracy", g.val(v + 0.02), n=g.n, **here))
            out.append(g.rec("macro_f1", sum(chosen[role].values()) / len(ood), half=0.02, n=len(ood), corpus="mean",
                             condition="quantized", depth=best, **at))
            deltas = [chosen[role][c] - cont[c] for c in ood]
            out.append(metric("macro_f1_delta", sum(deltas) / len(deltas), ci=(min(deltas) - 0.01, max(deltas) + 0.01),
                              std=float(max(deltas) - min(deltas)) / 2, n=len(ood), corpus="mean", depth=best, **at))
            route = 0.0 if role == "bal" else math.log2(len(EMOTIONS)) / duration_s
            out.append(metric("bitrate", best * math.log2(k) * fps + route, depth=best, corpus="mean", **at))
            out.append(metric("selected_depth", float(best), **at))
            depth_of[role] = best
        for role in ("emoq-100", "emoq-99"):
            at = {"layout": layout, "role": role, "depth": depth_of[role]}
            diffs = [chosen[role][c] - chosen["bal"][c] for c in ood]
            out += [g.rec("macro_f1_diff", d, half=0.02, n=g.n, corpus=c, **at) for c, d in zip(ood, diffs, strict=True)]
            out.append(g.rec("macro_f1_diff", sum(diffs) / len(diffs), half=0.012, n=len(ood), corpus="mean", **at))
    return out


def ood_ser(g: Gen, n_stages: int, ood: list[str], bps: list[float]) -> list[dict]:
    f1 = 0.35 + 0.45 * g.strength
    sel = {d: curve(d, f1, f1 - 0.25, 2.0) + g.rng.gauss(0, 0.005) for d in range(1, n_stages + 1)}
    best = max(sel, key=lambda d: (round(sel[d], 3), -d))
    out = [metric("macro_f1", v, n=g.n, condition="selection", depth=d, scoring="probe") for d, v in sel.items()]
    for c in ood:
        cont = g.val(f1)
        out.append(g.rec("macro_f1", cont, n=g.n, corpus=c, condition="continuous"))
        for d in range(1, n_stages + 1):
            v = g.val(curve(d, cont, cont - 0.25, 2.0), 0.01)
            at = {"condition": "quantized", "corpus": c, "depth": d, "scoring": "probe", "role": "system"}
            out.append(g.rec("macro_f1", v, n=g.n, **at))
            if d == best:
                out.append(g.rec("macro_f1_delta", v - cont, half=0.03, n=g.n, selected="cv", corpus=c, depth=d,
                                 scoring="probe", role="system"))
        out += [metric("bitrate", bps[d - 1], depth=d, corpus=c, role="system") for d in range(1, n_stages + 1)]
    out.append(metric("selected_depth", float(best), scoring="probe", role="system"))
    return out

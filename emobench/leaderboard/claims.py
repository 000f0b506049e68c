"""The paper's numbered findings, tested on the result files (never typed by hand).

Each task spec lists its claims: a paired-difference metric (``*_diff``, ``macro_f1_delta``,
``uar_gain``: the same utterances scored two ways, with a speaker-level bootstrap interval), a
``where`` (``depth: min|max`` = the shallowest/deepest depth a run reports) and the expected sign.
Every matching record of every run is a test:

- supported: the interval excludes 0 on the expected side;
- not supported: the interval excludes 0 on the other side;
- inconclusive: the interval includes 0 (or the record has none).

A claim's verdict reads its headline tests (the least broken-down records: overall rather than per
emotion) of real runs, or of synthetic runs when there are no real ones (and says so): supported or
not supported when every test agrees, inconclusive otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from emobench.leaderboard import paths
from emobench.leaderboard import select as S
from emobench.leaderboard import systems as Y
from emobench.leaderboard.collect import Run
from emobench.leaderboard.plot import fmt

VERDICTS = ("supported", "not supported", "inconclusive")


def verdict(lo: float | None, hi: float | None, expect: str) -> tuple[str, str]:
    """(verdict, why) of one paired effect's interval against the expected sign."""
    if lo is None or hi is None:
        return "inconclusive", "no interval (too few speakers to resample)"
    above, below = lo > 0, hi < 0
    side = "above 0" if above else "below 0" if below else "includes 0"
    want_above = expect == "positive"
    if above or below:
        return ("supported" if above == want_above else "not supported"), f"interval {side}"
    return "inconclusive", "interval includes 0"


@dataclass
class Test:
    run: Run
    label: str
    breakdown: dict[str, Any]
    value: float
    lo: float | None
    hi: float | None
    n: int | None
    verdict: str
    why: str
    bitrate: float | None
    reduction: float | None  # continuous bit/s over the bit/s sent
    synthetic: bool

    @property
    def href(self) -> str:
        return paths.run_stem(self.run.run_id, self.run.run_hash) + ".html"


@dataclass
class ClaimResult:
    task: str
    claim: dict[str, Any]
    metric: dict[str, Any]
    tests: list[Test] = field(default_factory=list)  # headline tests
    details: list[Test] = field(default_factory=list)  # per emotion / stratum / corpus
    verdict: str = "untested"
    basis: str = ""  # "real" | "synthetic" | ""
    counts: dict[str, int] = field(default_factory=dict)


def _tests(run: Run, claim: dict[str, Any]) -> tuple[list[Test], list[Test]]:
    doc = run.doc
    recs = S.records(doc, claim["metric"])
    where = S.resolve_depths(recs, claim.get("where") or {})
    matching = S.where(recs, where)
    head = {id(r) for r in S.reduce_overall(matching, set(where))}
    cont = Y.continuous_bps(doc)
    out: tuple[list[Test], list[Test]] = ([], [])
    for r in matching:
        b = S.bd(r)
        lo, hi = S._num(r.get("ci_low")), S._num(r.get("ci_high"))
        v, why = verdict(lo, hi, claim.get("expect", "positive"))
        bps = Y.bitrate(doc, b.get("role"), b.get("layout"), b.get("depth"))[0]
        shown = {k: val for k, val in b.items() if k not in where or str(where[k]) != str(val)}
        test = Test(run, Y.run_label(doc), shown, float(r["value"]), lo, hi, r.get("n"), v, why, bps,
                    cont / bps if cont and bps else None, bool(doc.get("synthetic")))
        out[0 if id(r) in head else 1].append(test)
    return out


def evaluate(runs: Sequence[Run]) -> list[ClaimResult]:
    """Every claim of every task these runs belong to, with its tests and verdict."""
    by_task: dict[str, list[Run]] = {}
    for r in runs:
        by_task.setdefault(r.doc["task"], []).append(r)
    out = []
    for task in sorted(by_task, key=paths.task_sort_key):
        task_runs = sorted(by_task[task], key=lambda r: str(r.doc.get("created_at")), reverse=True)
        info = task_runs[0].doc.get("task_info") or {}
        for claim in info.get("claims") or []:
            res = ClaimResult(task, claim, (info.get("metrics") or {}).get(claim["metric"]) or {})
            for run in sorted(task_runs, key=lambda r: r.run_id):
                head, detail = _tests(run, claim)
                res.tests += head
                res.details += detail
            real = [t for t in res.tests if not t.synthetic]
            basis = real or res.tests
            res.basis = ("real" if real else "synthetic") if basis else ""
            res.counts = {v: sum(t.verdict == v for t in basis) for v in VERDICTS}
            if basis:
                agreed = {t.verdict for t in basis}
                res.verdict = agreed.pop() if len(agreed) == 1 and "inconclusive" not in agreed else "inconclusive"
            out.append(res)
    return out


def effect_text(t: Test, unit: str) -> str:
    ci = f" [{fmt(t.lo, 3)}, {fmt(t.hi, 3)}]" if t.lo is not None and t.hi is not None else ""
    return f"{'+' if t.value > 0 else ''}{fmt(t.value, 3)}{ci} {unit}".strip()

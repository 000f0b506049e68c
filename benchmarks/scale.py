"""Scaling benchmark: one reproduction plan with the local executor and with Ray on 1 and 2 workers.

The plan is ``emobench reproduce --upstream fbank`` (RQ1-RQ4 on the demo corpus; ``--quick``: a smaller
one). Each configuration runs in a fresh subprocess on a fresh cache (features extracted, codebooks and
probes fitted), the demo corpus generated once beforehand and shared. Measured: wall time of the plan,
Ray start-up, per stage (extraction shards, runs) the units' own seconds against the stage's wall time,
and the round trip of an empty Ray task (the per-task floor). Ratios: local / Ray-1 (the overhead of
going through Ray) and Ray-1 / Ray-2 (the speed-up of a second worker, bounded by the longest run).

    python benchmarks/scale.py --out benchmarks/results/scale.json
    python benchmarks/scale.py --quick

Writes JSON with machine and versions. Not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from quantizers import machine, write_json  # noqa: E402

QUICK = {"limit": 24, "task_params": {"rq1": {"n_boot": 50}, "rq2": {"n_boot": 50}, "rq3": {"n_boot": 50},
                                      "rq4": {"n_boot": 50, "layouts": ["8x32", "32x2", "128x2"]}}}


def echo(x):
    return x


class Recording:
    """Wraps an executor and keeps every stage's outcomes (benchmark instrumentation only)."""

    def __init__(self, inner):
        self.inner, self.stages = inner, []
        self.name, self.cpus_per_task = inner.name, inner.cpus_per_task

    @property
    def workers(self):
        return self.inner.workers

    @property
    def gpus(self):
        return self.inner.gpus

    def map(self, works, *, on_done=None):
        start = time.perf_counter()
        out = self.inner.map(works, on_done=on_done)
        wall = time.perf_counter() - start
        units = [o.value["wall_s"] for o in out if o.ok]
        self.stages.append({"units": len(works), "wall_s": wall, "unit_s_sum": sum(units),
                            "unit_s": units, "failed": sum(not o.ok for o in out)})
        return out


def configuration(kind: str, workers: int, demo: str, quick: bool) -> dict:
    """One plan end to end in this (fresh) process; ``kind`` local or ray."""
    from emobench import reproduce as rep
    from emobench.config import RunConfig
    from emobench.executors import Work, make_executor

    q = QUICK if quick else {"limit": None, "task_params": {}}
    base = RunConfig(corpora={"demo": demo}, limit=q["limit"])
    planned = rep.plan(["fbank"], list(rep.PAPER_TASKS), base, task_params=q["task_params"])
    cache, out = tempfile.mkdtemp(prefix="scale-cache-"), tempfile.mkdtemp(prefix="scale-out-")
    result: dict = {"executor": kind, "workers": workers}
    start = time.perf_counter()
    executor = None
    if kind == "ray":
        executor = Recording(make_executor("ray", num_cpus=workers))
        result["ray_init_s"] = time.perf_counter() - start
        t = time.perf_counter()
        executor.inner.map([Work(echo, (i,), f"warm {i}") for i in range(workers)])
        result["worker_warmup_s"] = time.perf_counter() - t
        t = time.perf_counter()
        n = 40
        executor.inner.map([Work(echo, (i,), f"noop {i}") for i in range(n)])
        result["noop_task_s"] = (time.perf_counter() - t) / n
    t = time.perf_counter()
    done = rep.reproduce(planned, out_dir=out, cache_root=cache, device="cpu", executor=executor, log=lambda m: None)
    result["plan_s"] = time.perf_counter() - t
    result["total_s"] = time.perf_counter() - start
    result["status"] = [p.status for p in done]
    result["run_s"] = {p.config.task: p.wall_s for p in done}
    if executor is not None:
        result["stages"] = [{k: v for k, v in s.items() if k != "unit_s"} | {"unit_s": [round(u, 3) for u in s["unit_s"]]}
                            for s in executor.stages]
        executor.inner.close()
    return result


def spawn(kind: str, workers: int, demo: str, quick: bool) -> dict:
    env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE"}
    args = [sys.executable, __file__, "--_one", kind, str(workers), demo] + (["--quick"] if quick else [])
    proc = subprocess.run(args, capture_output=True, text=True, env=env, timeout=3600)
    if proc.returncode != 0:
        return {"executor": kind, "workers": workers, "error": proc.stderr.strip().splitlines()[-3:]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def summarize(rounds: list[list[dict]]) -> dict:
    by = {}
    for r in [r for rnd in rounds for r in rnd if "error" not in r]:
        by.setdefault(f"{r['executor']}-{r['workers']}", []).append(r)
    med = {k: statistics.median(r["plan_s"] for r in v) for k, v in by.items()}
    out = {"median_plan_s": med}
    if {"local-1", "ray-1"} <= set(med):
        out["local_over_ray1"] = med["local-1"] / med["ray-1"]
    if {"ray-1", "ray-2"} <= set(med):
        out["ray1_over_ray2"] = med["ray-1"] / med["ray-2"]
    if {"local-1", "ray-2"} <= set(med):
        out["local_over_ray2"] = med["local-1"] / med["ray-2"]
    ray1 = by.get("ray-1", [])
    if ray1:  # one worker runs units back to back: stage wall - units' own seconds = what Ray adds
        extraction = [r["stages"][0] for r in ray1 if len(r["stages"]) == 2]
        runs = [r["stages"][-1] for r in ray1]
        out["first_unit_overhead_s_ray1"] = statistics.median(s["wall_s"] - s["unit_s_sum"] for s in extraction)
        out["overhead_per_run_unit_s_ray1"] = statistics.median((s["wall_s"] - s["unit_s_sum"]) / s["units"]
                                                                for s in runs)
        out["noop_task_s"] = statistics.median(r["noop_task_s"] for r in ray1 + by.get("ray-2", []))
        out["ray_init_s"] = statistics.median(r["ray_init_s"] for r in ray1 + by.get("ray-2", []))
    longest = [max(r["run_s"].values()) for v in by.values() for r in v]
    out["longest_run_s_median"] = statistics.median(longest) if longest else None
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="--limit 24 and 3 RQ4 layouts instead of the full plan")
    p.add_argument("--rounds", type=int, default=2, help="times each configuration runs (medians reported)")
    p.add_argument("--out", default=None)
    p.add_argument("--summarize", default=None, help="recompute the summary of an existing result JSON")
    p.add_argument("--_one", nargs=3, default=None, help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.summarize:
        report = json.loads(Path(a.summarize).read_text())
        report["summary"] = summarize(report["rounds"])
        write_json(a.out or a.summarize, report)
        print(json.dumps(report["summary"], indent=2))
        return
    if a._one:
        kind, workers, demo = a._one
        print(json.dumps(configuration(kind, int(workers), demo, a.quick)))
        return
    from emobench.corpora.demo import DemoCorpus

    demo = tempfile.mkdtemp(prefix="scale-demo-")
    DemoCorpus(root=demo).load()  # generated once, shared by every configuration
    report = {"benchmark": "emobench executors scale", "schema_version": 1, "machine": machine("cpu"),
              "config": {"quick": a.quick, "rounds": a.rounds, "plan": "reproduce --upstream fbank (demo)"},
              "rounds": []}
    for k in range(a.rounds):
        order = [("local", 1), ("ray", 1), ("ray", 2)]
        rnd = [spawn(kind, w, demo, a.quick) for kind, w in (order if k % 2 == 0 else order[::-1])]
        for r in rnd:
            print(f"round {k + 1}: {r['executor']}-{r['workers']}: " + (str(r.get("error")) if "error" in r else
                  f"plan {r['plan_s']:.1f}s, total {r['total_s']:.1f}s"), flush=True)
        report["rounds"].append(rnd)
    report["summary"] = summarize(report["rounds"])
    if a.out:
        write_json(a.out, report)
    print(json.dumps(report["summary"], indent=2))


if __name__ == "__main__":
    main()

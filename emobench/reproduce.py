"""Reproduce the paper (RQ1-RQ4) for several upstreams, resumably: a library function the CLI calls.

``plan`` resolves one RunConfig per (upstream, task): every name, role and parameter is validated
before hours of work begin. ``reproduce`` runs the plan; a run whose identity hash (resolved config +
corpus content) already has a result in ``out_dir`` is skipped, so an interrupted reproduction resumes
run by run, and editing a spec's parameter (which changes the hash) re-runs exactly the runs it affects.

    from emobench import RunConfig, reproduce
    done = reproduce.reproduce(reproduce.plan(["fbank"], ["rq1", "rq2"], RunConfig(limit=40)), out_dir="res")
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from emobench.config import RunConfig
from emobench.errors import EmobenchError
from emobench.resolve import ResolvedRun, resolve

PAPER_TASKS = ("rq1", "rq2", "rq3", "rq4")


@dataclass
class Planned:
    config: RunConfig
    resolved: ResolvedRun
    status: str = "pending"  # pending | done (found) | ran | failed
    result: Path | None = None
    error: str = ""
    run_hash: str = ""
    wall_s: float = 0.0

    @property
    def label(self) -> str:
        c = self.config
        roles = ", ".join(f"{r}={q.name}" for r, q in self.resolved.roles.items())
        return f"{c.task} x {c.upstream}" + (f" ({roles})" if roles else "")


def plan(upstreams: list[str], task_names: list[str], base: RunConfig, *,
         quantizers: Mapping[str, Mapping[str, str]] | None = None,
         task_params: Mapping[str, Mapping[str, Any]] | None = None) -> list[Planned]:
    """One resolved run per (upstream, task); ``quantizers`` maps task -> role -> preset overrides and
    ``task_params`` task -> overrides. Raises on the first invalid name, role or parameter."""
    out = []
    for up in upstreams:
        for task in task_names:
            cfg = replace(base, upstream=up, task=task, quantizer=None,
                          quantizers=dict((quantizers or {}).get(task, {})),
                          task_params={**base.task_params, **dict((task_params or {}).get(task, {}))})
            out.append(Planned(cfg, resolve(cfg)))
    return out


def reproduce(planned: list[Planned], *, out_dir: str | Path, device: str = "auto", cache_root: Path | None = None,
              progress=None, keep_going: bool = True, on_bad_audio: str = "skip",
              log: Callable[[str], None] = print, executor=None) -> list[Planned]:
    """Run every planned run not already done; a failing run is recorded and (``keep_going``) the rest go on.
    ``executor`` (``emobench.executors.make_executor``): None or local runs them here, one after another;
    another executor runs them as units of work (``emobench.executors.plan``)."""
    if executor is not None and executor.name != "local":
        from emobench.executors.plan import run_plan

        return run_plan(planned, executor=executor, out_dir=out_dir, device=device, cache_root=cache_root,
                        on_bad_audio=on_bad_audio, keep_going=keep_going, log=log)
    from emobench import runner
    from emobench.cache_dirs import cache_root as default_cache_root
    from emobench.fsutil import ensure_writable_dir
    from emobench.results import write_result
    from emobench.results.io import existing_results

    out_dir = ensure_writable_dir(out_dir)
    root = Path(cache_root).expanduser() if cache_root else default_cache_root()
    done = existing_results(out_dir)
    overall = progress.add_task(f"reproduce: {len(planned)} runs", total=len(planned)) if progress else None
    started, ran = time.perf_counter(), []
    for k, item in enumerate(planned, start=1):
        eta = ""
        if ran:
            left = sum(1 for p in planned[k - 1:] if p.status == "pending")
            eta = f", ETA {(sum(p.wall_s for p in ran) / len(ran)) * left:.0f}s"
        log(f"run {k} of {len(planned)}: {item.label}{eta}")
        t0 = time.perf_counter()
        from emobench.cache_dirs import using_cache_root

        try:
            with using_cache_root(root):
                prepared = runner.prepare(item.resolved, cache_root=root, progress=progress,
                                          on_bad_audio=on_bad_audio)
            item.run_hash = prepared.run_hash
            if prepared.run_hash in done:
                item.status, item.result = "done", done[prepared.run_hash]
                log(f"  skip: result exists ({item.result.name})")
            else:
                with using_cache_root(root):
                    doc, preds, skipped = runner.execute(prepared, device=device, progress=progress,
                                                         on_bad_audio=on_bad_audio, cache_root=root, start=t0)
                item.result = write_result(doc, out_dir, predictions=preds, skipped=skipped)
                item.status = "ran"
                ran.append(item)
        except EmobenchError as exc:
            item.status, item.error = "failed", str(exc)
            log(f"  FAILED: {exc}")
            if not keep_going:
                raise
        item.wall_s = time.perf_counter() - t0
        if overall is not None:
            progress.advance(overall)
    log(f"reproduce: {sum(p.status == 'ran' for p in planned)} ran, {sum(p.status == 'done' for p in planned)} "
        f"found, {sum(p.status == 'failed' for p in planned)} failed in {time.perf_counter() - started:.0f}s")
    return planned


def run_on(resolved: ResolvedRun, *, executor, out_dir: str | Path, device: str = "auto",
           cache_root: str | Path | None = None, on_bad_audio: str = "skip", log: Callable[[str], None] = print):
    """``emobench run`` on an executor: the run's features extracted in shards, then the run (re-run even when
    its result exists, as ``runner.run``). Returns a ``runner.RunOutcome``."""
    from emobench.executors.plan import run_plan
    from emobench.runner import RunOutcome

    start = time.perf_counter()
    item = Planned(resolved.config, resolved)
    run_plan([item], executor=executor, out_dir=out_dir, device=device, cache_root=cache_root,
             on_bad_audio=on_bad_audio, keep_going=False, skip_done=False, log=log)
    doc = json.loads(Path(item.result).read_text())
    return RunOutcome(result_path=Path(item.result), result=doc, wall_s=time.perf_counter() - start, resolved=resolved)

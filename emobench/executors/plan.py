"""A reproduction as units of work on an executor: the driver prepares every run (corpora, identity hash,
skipping runs whose result exists), the executor extracts the features of all pending runs shard by shard
into the shared cache, fits codebooks and probes part by part where it runs several units at once (each
training seed x each value of the task's ``fan_out`` param, e.g. RQ4's layouts: a part run whose result is
dropped), then executes the runs (which find those fits cached), and the driver writes each result file as
it comes back.

    ex = make_executor("ray", address="auto")
    run_plan(reproduce.plan(["wavlm"], ["rq1", "rq4"], RunConfig()), executor=ex, out_dir="res")
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from emobench.errors import EmobenchError
from emobench.executors import Executor, Outcome, Work


def run_plan(planned: list, *, executor: Executor, out_dir: str | Path, device: str = "auto",
             cache_root: str | Path | None = None, on_bad_audio: str = "skip", keep_going: bool = True,
             skip_done: bool = True, shards_per_worker: int = 4, log: Callable[[str], None] = print) -> list:
    """Run the pending ``planned`` runs (``emobench.reproduce.Planned``) on ``executor``; returns them with
    status, result path and error filled in, like ``emobench.reproduce.reproduce``."""
    from emobench import runner
    from emobench.cache_dirs import cache_root as default_cache_root
    from emobench.cache_dirs import using_cache_root
    from emobench.device import placement
    from emobench.executors.shards import extraction_works
    from emobench.executors.work import execute_run, fan_out_parts, warm_run
    from emobench.fsutil import ensure_writable_dir
    from emobench.results import write_result
    from emobench.results.io import existing_results

    out_dir = ensure_writable_dir(out_dir)
    root = Path(cache_root).expanduser() if cache_root else default_cache_root()
    done = existing_results(out_dir) if skip_done else {}
    started = time.perf_counter()

    def fail(item, exc: EmobenchError) -> None:
        item.status, item.error = "failed", str(exc)
        log(f"  FAILED {item.label}: {exc}")
        if not keep_going:
            raise exc

    prepared = {}
    for item in planned:
        try:
            with using_cache_root(root):
                p = runner.prepare(item.resolved, cache_root=root, on_bad_audio=on_bad_audio)
        except EmobenchError as exc:
            fail(item, exc)
            continue
        item.run_hash = p.run_hash
        if p.run_hash in done:
            item.status, item.result = "done", done[p.run_hash]
            log(f"skip {item.label}: result exists ({item.result.name})")
        else:
            prepared[id(item)] = p
    pending = [i for i in planned if id(i) in prepared]
    unit_device, gpus = (device, 0.0) if executor.name == "local" else placement(device, executor.gpus)
    cpus = float(executor.cpus_per_task)
    slots = int(executor.gpus // gpus) if gpus else executor.workers  # units that run at once
    n_shards = 1 if slots <= 1 else slots * int(shards_per_worker)
    shards = extraction_works(pending, prepared, cache_root=str(root), device=unit_device, gpus=gpus, cpus=cpus,
                              on_bad_audio=on_bad_audio, n_shards=n_shards)
    if shards:
        log(f"features: {len(shards)} shard(s) on {executor.name} ({slots} at a time)")
        outcomes = executor.map(shards)
        for o in outcomes:
            if not o.ok:  # the run extracts what is missing itself, and reports it
                log(f"  shard {o.work.label} failed: {o.error}")
        got = [o.value for o in outcomes if o.ok]
        log(f"  {sum(v['extracted'] for v in got)} of {sum(v['utterances'] for v in got)} utterances extracted "
            f"in {max((o.finished_s for o in outcomes), default=0):.0f}s")
    threads = int(cpus) or None
    if slots > 1:  # parts in parallel; on one worker they would only repeat the runs' own work
        parts = [Work(warm_run, (cfg, str(root), unit_device, on_bad_audio, threads), label=f"{item.label} [{label}]",
                      cpus=cpus, gpus=gpus)
                 for item in pending for label, cfg in fan_out_parts(item.config, item.resolved)]
        if parts:
            log(f"fits: {len(parts)} part(s) on {executor.name} ({slots} at a time)")
            for o in executor.map(parts):
                if not o.ok:  # the run itself fits what is missing, and reports it
                    log(f"  part {o.work.label} failed: {o.error}")
    item_of, works = {}, []
    for item in pending:
        args = (item.config, str(root), unit_device, on_bad_audio, item.run_hash, threads)
        works.append(Work(execute_run, args, label=item.label, cpus=cpus, gpus=gpus))
        item_of[id(works[-1])] = item
    log(f"runs: {len(works)} on {executor.name}")

    def landed(o: Outcome) -> None:
        item = item_of[id(o.work)]
        item.wall_s = o.value["wall_s"] if o.ok else o.finished_s
        if not o.ok:
            fail(item, o.error)
            return
        v = o.value
        item.result = write_result(v["doc"], out_dir, predictions=v["predictions"], skipped=v["skipped"])
        item.status = "ran"
        log(f"  done {item.label} in {v['wall_s']:.0f}s on {v['host']}: {item.result.name}")

    executor.map(works, on_done=landed)
    log(f"reproduce: {sum(p.status == 'ran' for p in planned)} ran, {sum(p.status == 'done' for p in planned)} "
        f"found, {sum(p.status == 'failed' for p in planned)} failed in {time.perf_counter() - started:.0f}s "
        f"on {executor.name}")
    return planned

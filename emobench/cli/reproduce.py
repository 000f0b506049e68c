"""`emobench reproduce`: the paper's RQ1-RQ4 for a list of upstreams, resumable (see emobench/reproduce.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from emobench.cli.run_cmd import parse_corpora, parse_seeds, set_threads
from emobench.cli.ui import console, err_console, escape, make_progress
from emobench.config import RunConfig, parse_assignments
from emobench.errors import EmobenchError


def _by_task(items: list[str] | None, what: str, tasks: list[str], *, assignment: bool) -> dict[str, dict]:
    """``TASK.KEY=VALUE`` items (or ``TASK:ROLE=PRESET`` for quantizers) -> task -> {key: value}."""
    out: dict[str, dict] = {t: {} for t in tasks}
    pairs = parse_assignments(items, what).items() if assignment else [i.partition("=")[::2] for i in items or []]
    for key, value in pairs:
        task, sep, name = key.partition("." if assignment else ":")
        if not sep or task not in out or not name or value in (None, ""):
            form = "TASK.KEY=VALUE" if assignment else "TASK:ROLE=PRESET"
            raise EmobenchError(f"{what} {key!r} must look like {form} with TASK one of {tasks}")
        out[task][name] = value
    return out


def reproduce(
    upstream: Annotated[list[str] | None, typer.Option("--upstream", "-u", help="Upstream(s) to run; repeat (the paper: emotion2vec, hubert, wavlm).")] = None,
    corpus: Annotated[list[str] | None, typer.Option("--corpus", "-c", help="Corpus as NAME=PATH or NAME; repeat. Default: the synthetic demo corpus.")] = None,
    task: Annotated[list[str] | None, typer.Option("--task", "-t", help="Tasks to run (default rq1 rq2 rq3 rq4); repeat.")] = None,
    quantizer: Annotated[list[str] | None, typer.Option("--quantizer", "-q", help="A role's preset, TASK:ROLE=PRESET, e.g. rq4:emoq-99=emoq-99.")] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for result files and the site.")] = Path("emobench-results"),
    device: Annotated[str, typer.Option(help="auto (CUDA when present), cpu, cuda or cuda:N.")] = "auto",
    seed: Annotated[int, typer.Option(help="Seed for splits and bootstrap resamples.", min=0)] = 0,
    seeds: Annotated[str | None, typer.Option(help="Training seeds for codebooks and probes, e.g. 0,1,2 (mean, sd and per-seed values).")] = None,
    limit: Annotated[int | None, typer.Option(help="Keep the first N utterances per split (quick smoke runs).", min=1)] = None,
    probe: Annotated[str | None, typer.Option(help="Probe for every task; default: the upstream's own (emotion2vec: e2v-head), else linear.")] = None,
    set_task: Annotated[list[str] | None, typer.Option("--set-task", "-T", help="TASK.KEY=VALUE, e.g. rq4.layouts=[8x32].")] = None,
    site: Annotated[bool, typer.Option(help="Build the leaderboard from --out at the end.")] = True,
    cache_dir: Annotated[Path | None, typer.Option("--cache-dir", help="Cache root (default: EMOBENCH_CACHE or the user cache dir).")] = None,
    keep_going: Annotated[bool, typer.Option(help="Go on with the other runs when one fails.")] = True,
    threads: Annotated[int | None, typer.Option(help="CPU threads for torch (default: torch's choice).")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Resolve and validate every run, list them, run nothing.")] = False,
    executor: Annotated[str, typer.Option("--executor", help="Where the work runs: local (this process, one run after another) or ray (Ray tasks on a cluster sharing the cache folder; the 'ray' extra).")] = "local",
    address: Annotated[str | None, typer.Option("--address", help="With --executor ray: the cluster to join, auto or HOST:PORT (default: start a local Ray instance).")] = None,
) -> None:
    """Reproduce the paper (RQ1-RQ4) for each upstream, resumably: runs whose result exists are skipped.

    Examples:

      emobench reproduce --upstream fbank

      emobench reproduce -u emotion2vec -u hubert -u wavlm -c esd=/data/ESD -c iemocap=/data/IEMOCAP -c ravdess=/data/RAVDESS -c crema-d=/data/CREMA-D
    """
    from emobench import reproduce as rep

    set_threads(threads)
    tasks = list(task or rep.PAPER_TASKS)
    base = RunConfig(corpora=parse_corpora(corpus), probe=probe, limit=limit, seed=seed, seeds=parse_seeds(seeds))
    planned = rep.plan(list(upstream or ["fbank"]), tasks, base,
                       quantizers=_by_task(quantizer, "--quantizer", tasks, assignment=False),
                       task_params=_by_task(set_task, "--set-task", tasks, assignment=True))
    if dry_run:
        for item in planned:
            console.print(f"{item.label}; probe {item.resolved.probe.name}; corpora {', '.join(item.resolved.corpora)}",
                          highlight=False, markup=False)
        console.print(f"{len(planned)} runs, all resolved and valid")
        return
    from emobench.executors import make_executor

    runs_on = make_executor(executor, address=address)
    try:
        with make_progress() as progress:
            rep.reproduce(planned, out_dir=out, device=device, cache_root=cache_dir, progress=progress,
                          keep_going=keep_going, log=lambda m: err_console.print(escape(m), highlight=False),
                          executor=runs_on)
    finally:
        runs_on.close()
    table = Table(title=f"reproduce: {len(planned)} runs into {out}", title_justify="left")
    for col in ("status", "task", "upstream", "quantizers", "time", "result / error"):
        table.add_column(col, overflow="fold")
    for item in planned:
        roles = ", ".join(f"{r}={q.name}" for r, q in item.resolved.roles.items())
        where = item.result.name if item.result else item.error
        table.add_row(item.status, item.config.task, item.config.upstream, roles, f"{item.wall_s:.0f}s", escape(where))
    console.print(table)
    if site and any(i.result for i in planned):
        from emobench.leaderboard.build import build_site

        build_site([out], out / "site")
        console.print(f"leaderboard: {escape(str(out / 'site' / 'index.html'))}", highlight=False)
    if any(i.status == "failed" for i in planned):
        raise typer.Exit(1)

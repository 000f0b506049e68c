"""`emobench reproduce`: the paper's RQ1-RQ4 for a list of upstreams, in one resumable command.

Each (upstream, task) pair is one ordinary run (``emobench.runner.run``) with the quantizer the task's
catalogue spec names for that upstream (``quantizer_for``), so features and codebooks come from the
shared cache. A pair whose result file with the same config hash already exists in ``--out`` is
skipped, so an interrupted reproduction resumes task by task. The leaderboard built at the end turns
the results into the paper's figures and Table 1.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Annotated

import typer

from emobench.cli.main import app
from emobench.cli.ui import console, err_console, make_progress
from emobench.config import RunConfig, parse_assignments
from emobench.errors import EmobenchError

PAPER_TASKS = ("rq1", "rq2", "rq3", "rq4")
# Used when a task spec has no ``quantizer_for``: the paper's RVQ per encoder (section 3.1).
DEFAULT_QUANTIZER_FOR = {"emotion2vec": "rvq-e2v", "fbank": "rvq-demo", "*": "rvq"}


@dataclass
class Planned:
    config: RunConfig
    status: str = "pending"  # pending | done (found) | ran | failed
    result: Path | None = None
    error: str = ""


def quantizer_for(task: str, upstream: str) -> str:
    from emobench.registries import tasks

    table = tasks.get(task).meta.get("quantizer_for") or DEFAULT_QUANTIZER_FOR
    return table.get(upstream, table.get("*", DEFAULT_QUANTIZER_FOR["*"]))


def plan(upstreams: list[str], task_names: list[str], base: RunConfig, quantizers: dict[str, str] | None = None,
         seeds: list[int] | None = None) -> list[Planned]:
    """One RunConfig per (upstream, task, seed); ``quantizers`` (task -> name) overrides the spec's
    choice. Every name is resolved now, so a typo fails before hours of work. Several seeds redo
    splits, k-means and probe training; the leaderboard averages runs that differ only by seed."""
    from emobench.registries import quantizers as qreg
    from emobench.registries import tasks
    from emobench.registries import upstreams as ureg

    out = []
    for up in upstreams:
        ureg.get(up)
        for task in task_names:
            tasks.get(task)
            q = (quantizers or {}).get(task) or quantizer_for(task, up)
            qreg.get(q)
            for seed in seeds or [base.seed]:
                out.append(Planned(replace(base, upstream=up, task=task, quantizer=q, seed=int(seed))))
    return out


def existing_results(out_dir: Path) -> dict[str, Path]:
    """config_hash -> result file, for every readable result JSON in ``out_dir``."""
    found = {}
    for path in sorted(out_dir.glob("*.json")):
        try:
            doc = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if isinstance(doc, dict) and "config_hash" in doc and "metrics" in doc:
            found[doc["config_hash"]] = path
    return found


def reproduce_runs(planned: list[Planned], *, out_dir: Path, device: str = "auto", cache_root: Path | None = None,
                   progress=None, keep_going: bool = True, log=print) -> list[Planned]:
    """Run every planned config not already done; a failing task is recorded and the rest go on."""
    from emobench import runner

    done = existing_results(out_dir) if out_dir.is_dir() else {}
    for item in planned:
        cfg = item.config
        label = f"{cfg.task} x {cfg.upstream} x {cfg.quantizer} (seed {cfg.seed})"
        if cfg.hash in done:
            item.status, item.result = "done", done[cfg.hash]
            log(f"skip {label}: result exists ({item.result.name})")
            continue
        log(f"run  {label}")
        try:
            outcome = runner.run(cfg, out_dir=out_dir, device=device, progress=progress, build_site=False,
                                 cache_root=cache_root)
        except EmobenchError as exc:
            item.status, item.error = "failed", str(exc)
            log(f"FAIL {label}: {exc}")
            if not keep_going:
                raise
            continue
        item.status, item.result = "ran", outcome.result_path
    return planned


@app.command("reproduce")
def reproduce(
    upstream: Annotated[list[str] | None, typer.Option("--upstream", "-u", help="Upstream(s) to run; repeat for several (the paper: emotion2vec, hubert, wavlm).")] = None,
    corpus: Annotated[list[str] | None, typer.Option("--corpus", "-c", help="Corpus as NAME=PATH or NAME; repeat. Default: the synthetic demo corpus.")] = None,
    task: Annotated[list[str] | None, typer.Option("--task", "-t", help="Tasks to run (default rq1 rq2 rq3 rq4); repeat.")] = None,
    quantizer: Annotated[list[str] | None, typer.Option("--quantizer", "-q", help="Override a task's quantizer, TASK=NAME, e.g. rq4=emoq-99.")] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for result files and the site.")] = Path("emobench-results"),
    device: Annotated[str, typer.Option(help="auto (CUDA when present), cpu, cuda or cuda:N.")] = "auto",
    seed: Annotated[list[int] | None, typer.Option(help="Seed for splits, k-means, probes and bootstrap; repeat for several runs per task (default 0).")] = None,
    limit: Annotated[int | None, typer.Option(help="Keep the first N utterances per split (quick smoke runs).")] = None,
    probe: Annotated[str, typer.Option(help="Probe for every task (`emobench list probes`).")] = "linear",
    set_task: Annotated[list[str] | None, typer.Option("--set-task", "-T", help="TASK.KEY=VALUE, e.g. rq4.layouts=[8x32].")] = None,
    site: Annotated[bool, typer.Option(help="Build the leaderboard from --out at the end.")] = True,
    cache_dir: Annotated[Path | None, typer.Option("--cache-dir", help="Cache root (default: EMOBENCH_CACHE or the user cache dir).")] = None,
    keep_going: Annotated[bool, typer.Option(help="Go on with the other tasks when one fails.")] = True,
    threads: Annotated[int, typer.Option(help="CPU threads for torch (0: torch's default). 1 is much faster for "
                                         "small data on a busy machine.")] = 0,
) -> None:
    """Reproduce the paper (RQ1-RQ4) for each upstream, resumably: finished tasks are skipped.

    Examples:

      emobench reproduce --upstream fbank --limit 40

      emobench reproduce -u emotion2vec -u hubert -u wavlm -c esd=/data/ESD -c iemocap=/data/IEMOCAP -c ravdess=/data/RAVDESS -c crema-d=/data/CREMA-D
    """
    from emobench.cli.run_cmd import parse_corpora

    if threads > 0:
        import torch

        torch.set_num_threads(threads)

    overrides: dict[str, str] = {}
    for item in quantizer or []:
        key, sep, value = item.partition("=")
        if not sep or not value:
            raise EmobenchError(f"--quantizer {item!r} must look like TASK=NAME, e.g. rq4=emoq-99")
        overrides[key] = value
    task_names = list(task or PAPER_TASKS)
    task_params: dict[str, dict] = {t: {} for t in task_names}
    for key, value in parse_assignments(set_task, "--set-task").items():
        t, dot, k = key.partition(".")
        if not dot or t not in task_params:
            raise EmobenchError(f"--set-task {key!r} must look like TASK.KEY=VALUE with TASK one of {task_names}")
        task_params[t][k] = value
    base = RunConfig(corpora=parse_corpora(corpus), probe=probe, limit=limit)
    planned = plan(list(upstream or ["fbank"]), task_names, base, overrides, seeds=list(seed or [0]))
    for item in planned:
        item.config.task_params = task_params[item.config.task]
    with make_progress() as progress:
        reproduce_runs(planned, out_dir=out, device=device, cache_root=cache_dir, progress=progress,
                       keep_going=keep_going, log=lambda m: err_console.print(m, highlight=False))
    for item in planned:
        c = item.config
        where = item.result.name if item.result else item.error
        console.print(f"{item.status:>6}  {c.task:<7} {c.upstream:<12} {c.quantizer:<10} seed {c.seed}  {where}",
                      highlight=False)
    if site and any(i.result for i in planned):
        from emobench.leaderboard.build import build_site

        build_site([out], out / "site")
        console.print(f"leaderboard: {out / 'site' / 'index.html'}")
    if any(i.status == "failed" for i in planned):
        raise typer.Exit(1)

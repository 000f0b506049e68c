"""`emobench run`: one upstream x task (with its quantizer roles), a summary table and a leaderboard page."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from emobench.cli.ui import console, escape, make_progress
from emobench.config import (
    DEFAULT_TASK,
    DEFAULT_UPSTREAM,
    RunConfig,
    parse_assignments,
    parse_role_assignments,
)
from emobench.errors import EmobenchError


class BadAudio(str, Enum):
    skip = "skip"
    fail = "fail"


def parse_corpora(items: list[str] | None) -> dict[str, str | None]:
    """``NAME=PATH`` or ``NAME`` (root found from EMOBENCH_<NAME>_ROOT or the user config)."""
    out: dict[str, str | None] = {}
    for item in items or ["demo"]:
        name, sep, path = item.partition("=")
        if not name or (sep and not path):
            raise EmobenchError(f"--corpus {item!r} must look like NAME=PATH or NAME")
        if name in out:
            raise EmobenchError(f"--corpus {name!r} given twice")
        out[name] = str(Path(path).expanduser().resolve()) if path else None
    return out


def parse_quantizers(items: list[str] | None) -> tuple[str | None, dict[str, str]]:
    """``-q NAME`` (the task's first role) and ``-q ROLE=NAME`` (a named role)."""
    first, named = None, {}
    for item in items or []:
        role, sep, name = item.partition("=")
        if sep:
            if not role or not name:
                raise EmobenchError(f"--quantizer {item!r} must look like NAME or ROLE=NAME")
            named[role] = name
        elif first is not None:
            raise EmobenchError("--quantizer NAME given twice; name roles with ROLE=NAME (`emobench list tasks --long`)")
        else:
            first = item
    return first, named


def parse_seeds(text: str | None) -> list[int] | None:
    if text is None:
        return None
    try:
        seeds = [int(s) for s in text.replace(" ", "").split(",") if s]
    except ValueError:
        raise EmobenchError(f"--seeds {text!r} must be comma-separated integers, e.g. 0,1,2") from None
    if not seeds:
        raise EmobenchError("--seeds needs at least one seed, e.g. 0,1,2")
    return seeds


def set_threads(threads: int | None) -> None:
    if threads is None:
        return
    if threads < 1:
        raise EmobenchError(f"--threads must be a positive number of CPU threads, got {threads}")
    import torch

    torch.set_num_threads(threads)


def run(
    upstream: Annotated[str, typer.Option("--upstream", "-u", help="Speech encoder (`emobench list upstreams`).")] = DEFAULT_UPSTREAM,
    quantizer: Annotated[list[str] | None, typer.Option("--quantizer", "-q", help="Quantizer preset for the task's first role, or ROLE=PRESET for another role (`emobench list tasks --long` lists roles). Default: the task spec's preset for the upstream.")] = None,
    task: Annotated[str, typer.Option("--task", "-t", help="Task: rq1..rq4, ood-ser, ... (`emobench list tasks`).")] = DEFAULT_TASK,
    corpus: Annotated[list[str] | None, typer.Option("--corpus", "-c", help="Corpus as NAME=PATH (native release layout) or NAME; repeat for several. Default: the synthetic demo corpus.")] = None,
    device: Annotated[str, typer.Option(help="auto (CUDA when present), cpu, cuda or cuda:N.")] = "auto",
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for result files and the site.")] = Path("emobench-results"),
    seed: Annotated[int, typer.Option(help="Seed for splits and bootstrap resamples (and training, unless --seeds).", min=0)] = 0,
    seeds: Annotated[str | None, typer.Option(help="Training seeds for codebooks and probes, e.g. 0,1,2: one task run each; results report mean, sd and per-seed values.")] = None,
    limit: Annotated[int | None, typer.Option(help="Keep the first N utterances per split (quick smoke runs).", min=1)] = None,
    layer: Annotated[int | None, typer.Option(help="Upstream layer to quantize; default: the paper's layer.", min=0)] = None,
    probe: Annotated[str | None, typer.Option(help="Classifier that scores reconstructions (`emobench list probes`); default: the upstream's own (emotion2vec: e2v-head), else linear.")] = None,
    set_upstream: Annotated[list[str] | None, typer.Option("--set-upstream", "-U", help="Upstream parameter KEY=VALUE, e.g. model=/path/to/local/wavlm.")] = None,
    set_quantizer: Annotated[list[str] | None, typer.Option("--set-quantizer", "-Q", help="Quantizer parameter KEY=VALUE (first role), ROLE.KEY=VALUE or '*.KEY=VALUE' (every role), e.g. n_stages=8.")] = None,
    set_task: Annotated[list[str] | None, typer.Option("--set-task", "-T", help="Task parameter KEY=VALUE, e.g. n_boot=200.")] = None,
    set_probe: Annotated[list[str] | None, typer.Option("--set-probe", "-P", help="Probe parameter KEY=VALUE, e.g. epochs=50.")] = None,
    on_bad_audio: Annotated[BadAudio, typer.Option(help="skip (listed in <run>.skipped.csv) or fail on unusable audio.")] = BadAudio.skip,
    site: Annotated[bool, typer.Option(help="Build a leaderboard page from --out after the run.")] = True,
    cache_dir: Annotated[Path | None, typer.Option("--cache-dir", help="Cache root (default: EMOBENCH_CACHE or the user cache dir).")] = None,
    threads: Annotated[int | None, typer.Option(help="CPU threads for torch (default: torch's choice).")] = None,
    rows: Annotated[int, typer.Option(help="Rows of the summary table to print.", min=1)] = 40,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Resolve and validate everything, print the plan, run nothing.")] = False,
    executor: Annotated[str, typer.Option("--executor", help="Where the work runs: local (this process, one run after another) or ray (Ray tasks on a cluster sharing the cache folder; the 'ray' extra).")] = "local",
    address: Annotated[str | None, typer.Option("--address", help="With --executor ray: the cluster to join, auto or HOST:PORT (default: start a local Ray instance).")] = None,
) -> None:
    """Run one benchmark: extract features (cached), fit codebooks (cached), evaluate, write results.

    With no options it runs the embedded default: log-mel features of emobench's synthetic demo corpus,
    a residual VQ, and RQ1 (cosine similarity and emotion recall at every RVQ depth).

    Examples:

      emobench run

      emobench run -u wavlm -U model=/models/wavlm-large -t rq1 -c iemocap=/data/IEMOCAP_full_release

      emobench run -t rq2 --limit 40

      emobench run -t rq4 -q emoq-100=emoq-demo -Q '*.n_iter=5' --seeds 0,1,2
    """
    from emobench import runner
    from emobench.resolve import resolve

    set_threads(threads)
    first, named = parse_quantizers(quantizer)
    config = RunConfig(
        upstream=upstream, quantizer=first, quantizers=named, task=task, corpora=parse_corpora(corpus), probe=probe,
        layer=layer, seed=seed, seeds=parse_seeds(seeds), limit=limit,
        upstream_params=parse_assignments(set_upstream, "--set-upstream"),
        quantizer_params=parse_role_assignments(set_quantizer, "--set-quantizer"),
        task_params=parse_assignments(set_task, "--set-task"),
        probe_params=parse_assignments(set_probe, "--set-probe"),
    )
    resolved = resolve(config)
    if dry_run:
        print_plan(resolved)
        return
    if executor == "local" and not address:
        with make_progress() as progress:
            outcome = runner.run(resolved, out_dir=out, device=device, progress=progress,
                                 on_bad_audio=on_bad_audio.value, cache_root=cache_dir)
    else:  # features extracted in shards, then the run, as units on the executor
        from emobench.cli.ui import err_console
        from emobench.executors import make_executor
        from emobench.reproduce import run_on

        runs_on = make_executor(executor, address=address)
        try:
            outcome = run_on(resolved, executor=runs_on, out_dir=out, device=device, cache_root=cache_dir,
                              on_bad_audio=on_bad_audio.value, log=lambda m: err_console.print(escape(m), highlight=False))
        finally:
            runs_on.close()
    from emobench.cli.summary import summary_table

    doc = outcome.result
    console.print(summary_table(doc, max_rows=rows, csv_name=f"{doc['run_id']}.metrics.csv"))
    for note in doc.get("notes", []):
        console.print(f"[yellow]note:[/] {escape(note)}", highlight=False)
    console.print(f"results: {escape(str(outcome.result_path))}  (+ .metrics.csv, .predictions.csv, .skipped.csv)",
                  highlight=False)
    skipped = doc["provenance"].get("skipped_utterances", 0)
    if skipped:
        console.print(f"[yellow]{skipped} utterances skipped[/] (unusable audio): see {doc['skipped_file']}")
    if site:
        from emobench.leaderboard.build import build_site

        report = build_site([out], out / "site")
        console.print(f"leaderboard: {escape(str(report.out_dir / 'index.html'))}", highlight=False)
    console.print(f"wall time: {outcome.wall_s:.1f} s")


def print_plan(resolved) -> None:
    import json

    desc = resolved.description()
    console.print(f"[bold]{resolved.task.name}[/] on {', '.join(resolved.corpora)} with {resolved.upstream.name}; "
                  f"probe {resolved.probe.name}; seeds {list(resolved.seeds)}", highlight=False)
    for role, comp in resolved.roles.items():
        console.print(f"  role {role}: {comp.name} {escape(json.dumps(comp.record()['params']))}", highlight=False)
    console.print(escape(json.dumps(desc, indent=2)), highlight=False)

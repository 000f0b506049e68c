"""`emobench run`: one upstream x quantizer x task, with a summary table and a leaderboard page."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from emobench.cli.main import app
from emobench.cli.ui import console, make_progress
from emobench.config import DEFAULT_QUANTIZER, DEFAULT_TASK, DEFAULT_UPSTREAM, RunConfig, parse_assignments
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


@app.command("run")
def run(
    upstream: Annotated[str, typer.Option("--upstream", "-u", help="Speech encoder (`emobench list upstreams`).")] = DEFAULT_UPSTREAM,
    quantizer: Annotated[str, typer.Option("--quantizer", "-q", help="Quantizer preset (`emobench list quantizers`).")] = DEFAULT_QUANTIZER,
    task: Annotated[str, typer.Option("--task", "-t", help="Task: rq1..rq4, ood-ser (`emobench list tasks`).")] = DEFAULT_TASK,
    corpus: Annotated[
        list[str] | None,
        typer.Option("--corpus", "-c", help="Corpus as NAME=PATH (native release layout) or NAME; repeat for "
                     "several. Default: the synthetic demo corpus."),
    ] = None,
    device: Annotated[str, typer.Option(help="auto (CUDA when present), cpu, cuda or cuda:N.")] = "auto",
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for result files and the site.")] = Path("emobench-results"),
    seed: Annotated[int, typer.Option(help="Seed for splits, k-means, probes and bootstrap.")] = 0,
    limit: Annotated[int | None, typer.Option(help="Keep the first N utterances per split (quick smoke runs).")] = None,
    layer: Annotated[int | None, typer.Option(help="Upstream layer to quantize; default: the paper's layer.")] = None,
    probe: Annotated[str, typer.Option(help="Probe that scores reconstructions (`emobench list probes`).")] = "linear",
    set_upstream: Annotated[list[str] | None, typer.Option("--set-upstream", "-U", help="Override an upstream parameter, KEY=VALUE, e.g. model=/path/to/local/wavlm.")] = None,
    set_quantizer: Annotated[list[str] | None, typer.Option("--set-quantizer", "-Q", help="Override a quantizer parameter, KEY=VALUE, e.g. n_stages=8.")] = None,
    set_task: Annotated[list[str] | None, typer.Option("--set-task", "-T", help="Override a task parameter, KEY=VALUE.")] = None,
    set_probe: Annotated[list[str] | None, typer.Option("--set-probe", "-P", help="Override a probe parameter, KEY=VALUE, e.g. epochs=50.")] = None,
    on_bad_audio: Annotated[BadAudio, typer.Option(help="skip (listed in <run>.skipped.csv) or fail on unusable audio.")] = BadAudio.skip,
    site: Annotated[bool, typer.Option(help="Build a leaderboard page from --out after the run.")] = True,
    cache_dir: Annotated[Path | None, typer.Option("--cache-dir", help="Cache root (default: EMOBENCH_CACHE or the user cache dir).")] = None,
    threads: Annotated[int | None, typer.Option(help="CPU threads for torch (default: torch's choice). 1 is often fastest for the small matmuls of demo-sized runs on a busy machine.")] = None,
) -> None:
    """Run one benchmark: extract features (cached), fit codebooks (cached), evaluate, write results.

    With no options it runs the embedded default: log-mel features of emobench's synthetic demo corpus,
    a residual VQ, and RQ1 (cosine similarity and emotion recall at every RVQ depth).

    Examples:

      emobench run

      emobench run -u wavlm -U model=/models/wavlm-large -q rvq -t rq1 -c iemocap=/data/IEMOCAP_full_release

      emobench run -u fbank -q emoq-demo -t rq2 --limit 40
    """
    from emobench import runner

    if threads:
        import torch

        torch.set_num_threads(threads)
    config = RunConfig(
        upstream=upstream, quantizer=quantizer, task=task, corpora=parse_corpora(corpus), probe=probe,
        layer=layer, seed=seed, limit=limit,
        upstream_params=parse_assignments(set_upstream, "--set-upstream"),
        quantizer_params=parse_assignments(set_quantizer, "--set-quantizer"),
        task_params=parse_assignments(set_task, "--set-task"),
        probe_params=parse_assignments(set_probe, "--set-probe"),
    )
    with make_progress() as progress:
        outcome = runner.run(
            config, out_dir=out, device=device, progress=progress, on_bad_audio=on_bad_audio.value,
            build_site=site, cache_root=cache_dir,
        )
    console.print(summary_table(outcome.result))
    for note in outcome.result.get("notes", []):
        console.print(f"[yellow]note:[/] {note}", highlight=False)
    console.print(f"results: {outcome.result_path}  (+ .metrics.csv, .predictions.csv)")
    if outcome.site_dir:
        console.print(f"leaderboard: {outcome.site_dir / 'index.html'}")
    console.print(f"wall time: {outcome.wall_s:.1f} s")


SUMMARY_METRICS = {  # headline metric -> short column header
    "cosine_frame": "cos frame", "cosine_utterance": "cos utt", "uar": "UAR", "macro_f1": "macro-F1",
    "agreement": "agree", "matched_recall": "matched", "unmatched_recall": "unmatched",
    "attraction": "attract", "js_divergence": "JS div", "top2_accuracy": "top-2", "macro_f1_delta": "dF1",
}


def summary_table(doc: dict, max_rows: int = 60) -> Table:
    """Headline metrics (no per-emotion / per-stage rows), one row per remaining breakdown.

    Breakdown keys with one value across all rows (e.g. the corpus of a one-corpus run) go into the
    title instead of a column, so the table fits an 80-column terminal."""
    rows: dict[tuple, dict[str, str]] = {}
    names: list[str] = []
    for m in doc["metrics"]:
        bd = dict(m["breakdown"])
        if m["name"] not in SUMMARY_METRICS or "emotion" in bd or "stage" in bd:
            continue
        if bd.pop("condition", None) == "continuous":
            bd["depth"] = "continuous"
        names += [m["name"]] if m["name"] not in names else []
        value = "-" if m["value"] is None else f"{m['value']:.3f}"
        rows.setdefault(tuple(bd.items()), {})[m["name"]] = value
    keys: list[str] = []
    for row_key in rows:
        keys += [k for k, _ in row_key if k not in keys]
    constant = {k: v for k in keys if len(v := {dict(r).get(k) for r in rows}) == 1}
    keys = [k for k in keys if k not in constant or k == "depth"]
    # The quantizer block's bitrate describes one layout; a run over several layouts reports its own.
    bitrate = {} if "layout" in keys else doc["quantizer"].get("bitrate", {}).get("bps_per_depth", {})
    title = f"{doc['task']}: {doc['upstream']['name']} x {doc['quantizer']['name']}"
    title += "".join(f", {k} {next(iter(v))}" for k, v in constant.items() if k != "depth")
    table = Table(title=title + ("  [SYNTHETIC demo data]" if doc.get("synthetic") else ""), title_justify="left")
    for k in keys:
        table.add_column(k, no_wrap=True)  # labels stay whole; headers of numbers may wrap
    if bitrate:
        table.add_column("bit/s", justify="right")
    for n in names:
        table.add_column(SUMMARY_METRICS[n], justify="right")
    for row_key, values in list(rows.items())[:max_rows]:
        bd = dict(row_key)
        cells = [str(bd.get(k, "")) for k in keys]
        if bitrate:
            cells.append(f"{bitrate[str(bd.get('depth'))]:.0f}" if str(bd.get("depth")) in bitrate else "")
        table.add_row(*cells, *[values.get(n, "") for n in names])
    return table

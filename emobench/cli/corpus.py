"""`emobench corpus info NAME`: what a corpus holds as found on disk, before any run uses it."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Annotated

import typer

app = typer.Typer(no_args_is_help=True, help="Inspect corpora: counts, hours, label-map drops, soft-label coverage.")


@app.callback()
def _group() -> None:
    """Inspect corpora: counts, hours, label-map drops, soft-label coverage."""


def _durations(corpus, progress) -> tuple[dict[str, float], list[str]]:
    """Per-utterance seconds from file headers (no decoding); problems for unreadable or empty files."""
    from emobench.audio import utterance_duration_s
    from emobench.errors import AudioError

    out, problems = {}, []
    task = progress.add_task("reading audio headers", total=len(corpus.utterances))
    for u in corpus.utterances:
        try:
            d = utterance_duration_s(u)
            if d <= 0:
                problems.append(f"zero-length audio: {u.path}")
            out[u.id] = d
        except AudioError as exc:
            problems.append(str(exc))
        progress.advance(task)
    return out, problems


def _check_audio(corpus, progress) -> list[str]:
    from emobench.audio import load_audio
    from emobench.errors import AudioError

    problems = []
    task = progress.add_task("decoding audio", total=len(corpus.utterances))
    for u in corpus.utterances:
        try:
            load_audio(u, 16000)
        except AudioError as exc:
            problems.append(str(exc))
        progress.advance(task)
    return problems


@app.command("info")
def info(
    name: Annotated[str, typer.Argument(help="Corpus name (see `emobench list corpora`), or NAME=PATH.")],
    root: Annotated[str | None, typer.Option("--root", help="Corpus root (else EMOBENCH_NAME_ROOT, e.g. EMOBENCH_CREMA_D_ROOT, or the "
                                             "user config corpora.yaml).")] = None,
    label_set: Annotated[str, typer.Option("--label-set", help="emo4, crema6, emodb7, ravdess8, esd5, ... or "
                                           "comma-separated emotions.")] = "emo4",
    check_audio: Annotated[bool, typer.Option("--check-audio", help="Decode every file to find silent or "
                                              "corrupt audio (slow).")] = False,
    max_speakers: Annotated[int, typer.Option("--max-speakers", help="Speaker rows to show.")] = 40,
    max_problems: Annotated[int, typer.Option("--max-problems", help="Problem lines to show.")] = 20,
) -> None:
    """Per-speaker and per-emotion counts, hours, label-map drops, soft-label coverage and problems."""
    from rich.table import Table

    from emobench.audio import duration_stats
    from emobench.cli.ui import console, make_progress
    from emobench.registries import corpora
    from emobench.splits import ambiguity_stratum

    if "=" in name and root is None:
        name, root = name.split("=", 1)
    corpus = corpora.create(name, root=root, label_set=label_set).load()
    utts = corpus.utterances
    with make_progress() as progress:
        durations, problems = _durations(corpus, progress)
        if check_audio:
            problems += _check_audio(corpus, progress)
    labels = list(corpus.label_set)

    summary = Table(title=f"corpus {corpus.name}", show_header=False)
    soft = [u for u in utts if u.soft_label is not None]
    strata = Counter(ambiguity_stratum(u.soft_label) for u in soft)
    rows = [
        ("root", str(corpus.root)), ("label set", ", ".join(labels)), ("utterances", str(len(utts))),
        ("speakers", str(len({u.speaker for u in utts}))),
        ("hours", f"{sum(durations.values()) / 3600:.2f} (from file headers, {len(durations)} files)"),
        ("durations", "mean {mean_s:.2f} s, min {min_s:.2f} s, median {median_s:.2f} s, max {max_s:.2f} s".format(
            **duration_stats(durations.values()))),
        ("soft labels", f"{len(soft)}/{len(utts)} utterances" + (f" from {corpus.soft_label_source}"
                                                                   if corpus.soft_label_source else "")),
        ("ambiguity", f"low {strata.get('low', 0)}, high {strata.get('high', 0)} (primary vote share > 0.5 is low)"),
        ("fingerprint", corpus.fingerprint), ("synthetic", str(corpus.synthetic)),
    ]
    for k, v in rows:
        summary.add_row(k, v)
    console.print(summary)

    emo = Table(title="per emotion")
    for col in ("emotion", "utterances", "hours", "speakers"):
        emo.add_column(col, justify="left" if col == "emotion" else "right")
    for lab in labels:
        sel = [u for u in utts if u.label == lab]
        emo.add_row(lab, str(len(sel)), f"{sum(durations.get(u.id, 0.0) for u in sel) / 3600:.3f}",
                    str(len({u.speaker for u in sel})))
    console.print(emo)

    by_spk: dict[str, Counter] = defaultdict(Counter)
    for u in utts:
        by_spk[u.speaker][u.label] += 1
    spk = Table(title=f"per speaker ({len(by_spk)})")
    spk.add_column("speaker")
    for lab in labels:
        spk.add_column(lab, justify="right")
    spk.add_column("total", justify="right")
    ordered = sorted(by_spk.items(), key=lambda kv: (-sum(kv[1].values()), kv[0]))
    for s, c in ordered[:max_speakers]:
        spk.add_row(s, *(str(c[lab]) for lab in labels), str(sum(c.values())))
    if len(ordered) > max_speakers:
        spk.add_row(f"... {len(ordered) - max_speakers} more", *([""] * (len(labels) + 1)))
    console.print(spk)

    splits = Counter(u.split for u in utts if u.split is not None)
    if splits:
        t = Table(title="predefined splits")
        t.add_column("split")
        t.add_column("utterances", justify="right")
        for k, v in sorted(splits.items()):
            t.add_row(k, str(v))
        console.print(t)

    if corpus.label_map or corpus.dropped:
        t = Table(title="label map (native -> label set) and drops")
        t.add_column("native")
        t.add_column("becomes")
        for k, v in corpus.label_map.items():
            t.add_row(k, v)
        for k, v in corpus.dropped.items():
            t.add_row(f"[dim]dropped {k}[/]", f"{v} utterances")
        console.print(t)

    all_problems = [*corpus.problems, *(f"skipped {v} files: {k}" for k, v in corpus.skipped.items()), *problems]
    if all_problems:
        console.print(f"[bold yellow]{len(all_problems)} problems[/]")
        for p in all_problems[:max_problems]:
            console.print(f"  - {p}", highlight=False, soft_wrap=True)
        if len(all_problems) > max_problems:
            console.print(f"  ... {len(all_problems) - max_problems} more (--max-problems)")
    else:
        console.print("[green]no problems found[/]")

"""`emobench corpus info NAME`: what a corpus holds as found on disk, before any run uses it."""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path
from typing import Annotated

import typer

from emobench.errors import EmobenchError

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
    corpus_root: Annotated[str | None, typer.Option("--corpus", "-c", "--root", help="The corpus root as NAME=PATH "
                                                    "(as `emobench run` takes it) or PATH; else EMOBENCH_<NAME>_ROOT "
                                                    "(e.g. EMOBENCH_CREMA_D_ROOT) or the user config corpora.yaml.")] = None,
    label_set: Annotated[str, typer.Option("--label-set", help="emo4 (the paper's), crema6, emodb7, ravdess8, esd5, "
                                           "shemo6, cafe7, ... or comma-separated emotions.")] = "emo4",
    protocol: Annotated[str | None, typer.Option("--protocol", help="Show the split card of a protocol: stratified, "
                                                 "speaker_independent, kfold, predefined.")] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the split protocol.", min=0)] = 0,
    export: Annotated[Path | None, typer.Option("--export", help="Write the split as CSV (utt_id,part); a later run "
                                                "takes it with -T split=from_file -T split_params={path: FILE}.")] = None,
    check_audio: Annotated[bool, typer.Option("--check-audio", help="Decode every file to find silent or "
                                              "corrupt audio (slow).")] = False,
    max_speakers: Annotated[int, typer.Option("--max-speakers", help="Speaker rows to show.", min=1)] = 40,
    max_problems: Annotated[int, typer.Option("--max-problems", help="Problem lines to show.", min=1)] = 20,
) -> None:
    """Per-speaker and per-emotion counts, hours, label-map drops, soft labels, ambiguity strata, problems;
    with --protocol the split card (and --export the split itself, to reproduce a number elsewhere)."""
    from rich.table import Table

    from emobench.audio import duration_stats
    from emobench.cache.keys import AudioHasher
    from emobench.cache_dirs import cache_root
    from emobench.cli.ui import console, escape, make_progress
    from emobench.params import build
    from emobench.registries import corpora
    from emobench.splits import stratum_of

    root = corpus_root
    if "=" in name:
        name, root = name.split("=", 1)
    elif root and "=" in root:
        given, _, root = root.partition("=")
        if given != name:
            raise EmobenchError(f"--corpus {given}=... names another corpus than {name!r}")
    entry = corpora.get(name)
    extra = {"root": root} if name != "demo" or root else {"root": str(cache_root() / "demo")}
    corpus = build(corpora.load_entry(entry), {**entry.params, **extra, "label_set": label_set},
                   where=f"corpus {name!r}").load()
    utts = corpus.utterances
    with make_progress() as progress:
        durations, problems = _durations(corpus, progress)
        if check_audio:
            problems += _check_audio(corpus, progress)
    labels = list(corpus.label_set)

    summary = Table(title=f"corpus {corpus.name}", show_header=False)
    soft = [u for u in utts + corpus.unlabelled if u.soft_label is not None]
    strata = Counter(stratum_of(u) for u in soft)
    hasher = AudioHasher(cache_root() / "features")
    fingerprint = corpus.content_fingerprint(hasher.file_hash)
    hasher.save()
    rows = [
        ("root", str(corpus.root)), ("label set", ", ".join(labels)), ("utterances", str(len(utts))),
        ("speakers", str(len({u.speaker for u in utts}))),
        ("hours", f"{sum(durations.values()) / 3600:.2f} (from file headers, {len(durations)} files)"),
        ("durations", "mean {mean_s:.2f} s, min {min_s:.2f} s, median {median_s:.2f} s, max {max_s:.2f} s".format(
            **duration_stats(durations.values()))),
        ("soft labels", f"{len(soft)} utterances" + (f" from {corpus.soft_label_source}"
                                                      if corpus.soft_label_source else "")
         + (f" ({len(corpus.unlabelled)} without an agreed label, kept for RQ3)" if corpus.unlabelled else "")),
        ("ambiguity", f"low {strata.get('low', 0)}, high {strata.get('high', 0)} (primary share of all votes > 50% "
                      "is low)"),
        ("fingerprint", fingerprint + " (content: ids, labels, votes and audio sha256)"),
        ("synthetic", str(corpus.synthetic)),
    ]
    for k, v in rows:
        summary.add_row(k, escape(v))
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

    if protocol:
        _protocol_card(corpus, protocol, seed, export, console)
    all_problems = [*corpus.problems, *(f"skipped {v} files: {k}" for k, v in corpus.skipped.items()),
                    *(f"unusable: {f}: {r}" for f, r in corpus.unusable), *problems]
    if all_problems:
        console.print(f"[bold yellow]{len(all_problems)} problems[/]")
        for p in all_problems[:max_problems]:
            console.print(f"  - {escape(p)}", highlight=False, soft_wrap=True)
        if len(all_problems) > max_problems:
            console.print(f"  ... {len(all_problems) - max_problems} more (--max-problems)")
    else:
        console.print("[green]no problems found[/]")


def _protocol_card(corpus, protocol: str, seed: int, export, console) -> None:
    """The split a protocol makes of this corpus: parts, speakers and counts per emotion; optionally saved."""
    from rich.table import Table

    from emobench import splits as sp
    from emobench.cli.ui import escape

    folds = sp.split(corpus.utterances, protocol, seed=seed)
    labels = list(corpus.label_set)
    for k, s in enumerate(folds):
        t = Table(title=f"protocol {escape(protocol)} (seed {seed})" + (f", fold {k}" if len(folds) > 1 else ""))
        for col in ("part", "utterances", "speakers", *labels):
            t.add_column(col, justify="left" if col == "part" else "right")
        for part in ("codebook_train", "train", "val", "test"):
            us = getattr(s, part)
            if us or part != "codebook_train":
                t.add_row(part, str(len(us)), str(len({u.speaker for u in us})),
                          *(str(sum(u.label == lab for u in us)) for lab in labels))
        console.print(t)
    if export is not None:
        import csv

        from emobench.fsutil import atomic_path

        if len(folds) > 1:
            raise EmobenchError(f"--export writes one split; {protocol} has {len(folds)} folds")
        s = folds[0]
        with atomic_path(export) as tmp, open(tmp, "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(["utt_id", "part"])
            for part in ("codebook_train", "train", "val", "test"):
                w.writerows((u.id, part) for u in getattr(s, part))
        console.print(f"split written to {escape(str(export))}: reuse it with -T split=from_file "
                      f"-T 'split_params={{path: {escape(str(export))}}}'", highlight=False)

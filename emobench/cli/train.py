"""`emobench train vqvae|vqmaes|vqmaes-ser`: train VQ-MAE-S on any corpus the registry loads.

Thin: each command parses options, loads corpora and calls the library (emobench/vqmaes/train.py).
Outputs are folders of safetensors + JSON checkpoints; ``--resume`` continues a killed run exactly.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(no_args_is_help=True, help="Train VQ-MAE-S: spectrogram VQ-VAE, masked autoencoder, SER.")


class ConfigName(str, Enum):
    vqmaes_12 = "vqmaes-12"
    vqmaes_12_frame = "vqmaes-12-frame"
    tiny = "tiny"


class Head(str, Enum):
    cls = "cls"
    query2emo = "query2emo"


class Masking(str, Enum):
    frame = "frame"
    patch_f = "patch-f"
    patch_t = "patch-t"
    patch_tf = "patch-tf"


class Loss(str, Enum):
    asl = "asl"
    ce = "ce"


CorpusOpt = Annotated[
    list[str],
    typer.Option(
        "--corpus", "-c", help="Corpus as NAME=PATH (or NAME with its root configured); repeat for several."
    ),
]
OutOpt = Annotated[Path, typer.Option("--out", "-o", help="Output folder (checkpoints step-N/ and LATEST).")]
StepsOpt = Annotated[
    int, typer.Option("--steps", help="Optimiser steps in total (a resumed run continues to it).")
]
BatchOpt = Annotated[int | None, typer.Option("--batch-size", help="Default: the config's.")]
SeedOpt = Annotated[int, typer.Option("--seed", help="Seeds initialisation, batches and masks.")]
DeviceOpt = Annotated[str, typer.Option("--device", help="auto, cpu, cuda or cuda:N.")]
AmpOpt = Annotated[
    str,
    typer.Option(
        "--amp", help="auto (bf16 on a GPU that has it, else fp16; fp32 on CPU), fp32, fp16 or bf16."
    ),
]
ResumeOpt = Annotated[
    bool, typer.Option("--resume", help="Continue the run in --out from its latest checkpoint.")
]
EveryOpt = Annotated[int, typer.Option("--checkpoint-every", help="Steps between checkpoints.")]
ThreadsOpt = Annotated[
    int | None,
    typer.Option(
        "--threads",
        help="CPU threads for torch while training (1 is fastest for small models on a busy machine).",
    ),
]
LabelOpt = Annotated[
    str | None,
    typer.Option("--label-set", help="Label set the corpora are read with (emo4, ravdess8, ... or a,b,c)."),
]


def load_utterances(corpus: list[str], label_set: str | None):
    """Utterances of every ``NAME=PATH`` corpus, with the given label set (None: keep every emotion)."""
    from emobench.corpora.labels import CANONICAL
    from emobench.errors import EmobenchError
    from emobench.registries import corpora

    if not corpus:
        raise EmobenchError("name at least one corpus: --corpus NAME=PATH")
    utterances = []
    for item in corpus:
        name, _, root = item.partition("=")
        if not name:
            raise EmobenchError(f"--corpus {item!r} must look like NAME=PATH or NAME")
        loaded = corpora.create(name, root=root or None, label_set=label_set or ",".join(CANONICAL)).load()
        utterances.extend(loaded.utterances)
    return utterances


def _run(what: str, fn, **kwargs):
    from emobench.cli.ui import console, make_progress

    with make_progress() as progress:
        bar = progress.add_task(what, total=kwargs["steps"])

        def report(description: str, completed: int, total: int) -> None:
            progress.update(bar, description=description, completed=completed, total=total)

        result = fn(progress=report, **kwargs)
    last = result.history[-1] if result.history else {}
    resumed = f" (resumed at step {result.resumed_from})" if result.resumed_from else ""
    console.print(
        f"{what}: {result.step} steps{resumed}, last loss {last.get('loss', float('nan')):.4f}; "
        f"checkpoint {result.checkpoint}",
        highlight=False,
    )
    return result


@app.command("vqvae")
def vqvae(
    corpus: CorpusOpt,
    out: OutOpt,
    steps: StepsOpt = 20000,
    config: Annotated[
        ConfigName, typer.Option("--config", help="Architecture and training settings.")
    ] = ConfigName.vqmaes_12,
    batch_size: BatchOpt = None,
    seed: SeedOpt = 0,
    device: DeviceOpt = "auto",
    amp: AmpOpt = "auto",
    resume: ResumeOpt = False,
    checkpoint_every: EveryOpt = 1000,
    threads: ThreadsOpt = None,
) -> None:
    """Train the spectrogram VQ-VAE on random STFT frames of the corpora (batch size counts frames)."""
    from emobench.vqmaes.train import train_vqvae

    _run(
        "vqvae",
        train_vqvae,
        utterances=load_utterances(corpus, None),
        out_dir=out,
        config=config.value,
        steps=steps,
        batch_size=batch_size,
        seed=seed,
        device=device,
        amp=amp,
        resume=resume,
        checkpoint_every=checkpoint_every,
        cpu_threads=threads,
    )


@app.command("vqmaes")
def vqmaes(
    corpus: CorpusOpt,
    out: OutOpt,
    vqvae: Annotated[Path, typer.Option("--vqvae", help="A `emobench train vqvae` output folder.")],
    steps: StepsOpt = 100000,
    config: Annotated[
        ConfigName | None,
        typer.Option("--config", help="Autoencoder settings (default: the VQ-VAE's config)."),
    ] = None,
    masking: Annotated[Masking | None, typer.Option("--masking", help="Default: the config's.")] = None,
    mask_ratio: Annotated[
        float | None, typer.Option("--mask-ratio", help="Default: the config's (0.8).")
    ] = None,
    batch_size: BatchOpt = None,
    seed: SeedOpt = 0,
    device: DeviceOpt = "auto",
    amp: AmpOpt = "auto",
    resume: ResumeOpt = False,
    checkpoint_every: EveryOpt = 1000,
    threads: ThreadsOpt = None,
) -> None:
    """Pre-train the masked autoencoder on the frozen VQ-VAE's codes of the corpora."""
    from emobench.vqmaes.train import train_vqmaes

    _run(
        "vqmaes",
        train_vqmaes,
        utterances=load_utterances(corpus, None),
        vqvae=vqvae,
        out_dir=out,
        config=config.value if config else None,
        masking=masking.value if masking else None,
        mask_ratio=mask_ratio,
        steps=steps,
        batch_size=batch_size,
        seed=seed,
        device=device,
        amp=amp,
        resume=resume,
        checkpoint_every=checkpoint_every,
        cpu_threads=threads,
    )


@app.command("vqmaes-ser")
def vqmaes_ser(
    corpus: CorpusOpt,
    out: OutOpt,
    checkpoint: Annotated[
        Path,
        typer.Option(
            "--checkpoint", help="A `train vqmaes` output (or a `train vqvae` one: no pre-training)."
        ),
    ],
    steps: StepsOpt = 2000,
    label_set: LabelOpt = "emo4",
    head: Annotated[Head, typer.Option("--head", help="[CLS] + linear, or Query2Emo.")] = Head.cls,
    freeze: Annotated[
        bool, typer.Option("--freeze/--no-freeze", help="Freeze the encoder (Table 1).")
    ] = False,
    loss: Annotated[
        Loss, typer.Option("--loss", help="Asymmetric loss (the paper's) or cross-entropy.")
    ] = Loss.asl,
    batch_size: BatchOpt = None,
    seed: SeedOpt = 0,
    device: DeviceOpt = "auto",
    amp: AmpOpt = "auto",
    resume: ResumeOpt = False,
    checkpoint_every: EveryOpt = 1000,
    threads: ThreadsOpt = None,
) -> None:
    """Fine-tune the encoder for speech emotion recognition on every labelled utterance of the corpora."""
    from emobench.corpora.labels import resolve_label_set
    from emobench.vqmaes.train import train_ser

    labels = resolve_label_set(label_set)
    utterances = load_utterances(corpus, ",".join(labels))
    _run(
        "vqmaes-ser",
        train_ser,
        utterances=utterances,
        checkpoint=checkpoint,
        out_dir=out,
        labels=labels,
        head=head.value,
        freeze_encoder=freeze,
        loss=loss.value,
        steps=steps,
        batch_size=batch_size,
        seed=seed,
        device=device,
        amp=amp,
        resume=resume,
        checkpoint_every=checkpoint_every,
        cpu_threads=threads,
    )

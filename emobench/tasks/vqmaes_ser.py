"""VQ-MAE-S fine-tuned for SER (Sadok et al. 2024, sections 3.1.2-3.1.3, Tables 1 and 5).

Run with the pre-trained model as the upstream: ``emobench run -u vqmaes -U checkpoint=DIR -t vqmaes-ser``
(DIR from `emobench train vqmaes`). Protocol of the paper: 5-fold cross-validation "separating the
speakers' identity between the fine-tuning phase and the evaluation phase" (``speaker_independent``,
default on; off draws folds stratified by label only), on RAVDESS-Speech (8 emotions, ``ravdess8``),
RAVDESS-Song (6, the ``ravdess-song`` corpus, ``ravdess-song6``), IEMOCAP (4, ``emo4``) and EmoDB (7,
``emodb7``): one corpus per run, with its label set (``-T label_set=...``). For every fold the encoder is
fine-tuned on the other folds with the [CLS] + linear head or Query2Emo (``head``), frozen or not
(``freeze_encoder``: Table 1), asymmetric loss, AdamW with warm-up and cosine decay (``train_ser``),
for ``epochs`` passes over the training folds; there is no validation set (the paper names none) and
the last step is kept. Whole test utterances are scored (windowed); accuracy, macro-F1 and UAR per fold
and as mean and sd over folds (``fold="mean"``). Fine-tuned models are cached by content in the probe
store, and a killed fine-tuning resumes from its last checkpoint.
"""

from __future__ import annotations

import math
import shutil
import time
from typing import Annotated, Any, Literal

import numpy as np
from annotated_types import Ge, Gt

from emobench import splits as sp
from emobench.corpora.labels import resolve_label_set
from emobench.errors import AudioError, EmobenchError
from emobench.tasks.base import Task, TaskOutput
from emobench.tasks.cv import Fold, fold_records
from emobench.tasks.inputs import TaskInputs
from emobench.tasks.predictions import frame
from emobench.tasks.records import bootstrap_for, label_indices

PAPER_LABEL_SETS = {"ravdess": "ravdess8", "ravdess-song": "ravdess-song6", "iemocap": "emo4", "emodb": "emodb7"}
PAPER_PRETRAINING = "~1000 h of VoxCeleb2 (2170 speakers), distributed over 4 A100 GPUs"


class VqmaesSER(Task):
    probe_inputs = ()  # it fine-tunes VQ-MAE-S with its own head (head=cls|query2emo), not the run's --probe
    name = "vqmaes-ser"

    def __init__(self, *, k: Annotated[int, Ge(2)] = 5, speaker_independent: bool = True,
                 head: Literal["cls", "query2emo"] = "cls", freeze_encoder: bool = False,
                 loss: Literal["asl", "ce"] = "asl", epochs: Annotated[float, Gt(0)] = 100.0,
                 batch_size: Annotated[int, Ge(1)] | None = None,
                 amp: Literal["auto", "fp32", "fp16", "bf16"] = "auto", cpu_threads: Annotated[int, Ge(1)] | None = None,
                 n_boot: Annotated[int, Ge(1)] = 1000, bootstrap: Literal["speaker", "utterance"] = "speaker",
                 label_set: str | list[str] = "ravdess8"):
        self.k, self.speaker_independent = k, speaker_independent
        self.head, self.freeze_encoder, self.loss = head, freeze_encoder, loss
        self.epochs, self.batch_size, self.amp, self.cpu_threads = float(epochs), batch_size, amp, cpu_threads
        self.n_boot, self.bootstrap, self.label_set = n_boot, bootstrap, label_set
        self.min_utterances_per_label = k

    def check(self, corpora) -> None:
        for c in corpora.values():
            absent = [e for e in c.label_set if not any(u.label == e for u in c.utterances)]
            if absent:
                hint = PAPER_LABEL_SETS.get(c.name, "a set of the emotions it has")
                raise EmobenchError(f"vqmaes-ser: {c.name} has no {absent} utterances under label set "
                                    f"{list(c.label_set)}; rerun with -T label_set={hint} (one corpus per run)")
            speakers = {u.speaker for u in c.utterances}
            if self.speaker_independent and len(speakers) < self.k:
                raise EmobenchError(f"vqmaes-ser: {c.name} has {len(speakers)} speakers, too few for {self.k} "
                                    "speaker-independent folds; lower -T k or set -T speaker_independent=false")
        super().check(corpora)

    def run(self, inputs: TaskInputs) -> TaskOutput:
        import pandas as pd

        loaded = getattr(inputs.upstream, "loaded", None)
        if loaded is None or getattr(loaded, "mae", None) is None:
            raise EmobenchError("vqmaes-ser fine-tunes a pre-trained VQ-MAE-S: run it with -u vqmaes -U checkpoint=DIR "
                                "(DIR from `emobench train vqmaes`)")
        if loaded.kind != "vqmaes":
            raise EmobenchError(f"vqmaes-ser: {loaded.path} is a {loaded.kind} checkpoint, already fine-tuned; give the "
                                "pre-trained `emobench train vqmaes` output")
        masking = loaded.preset.mae.masking
        method = masking + ("+query2emo" if self.head == "query2emo" else "")
        encoder = "frozen" if self.freeze_encoder else "fine-tuned"
        metrics, preds, notes, per_corpus = [], [], pretraining_notes(loaded, inputs.corpora), {}
        for cname, corpus in inputs.corpora.items():
            labels = list(corpus.label_set)
            utts = inputs.limited(corpus.utterances)
            folds = sp.kfold(utts, k=self.k, seed=inputs.seed, speaker_independent=self.speaker_independent)
            scored, steps, seconds, skipped = [], [], [], []
            for k, split in enumerate(folds):
                start = time.perf_counter()
                fold, test, probs, n_steps, lost = self._fold(inputs, loaded, split, labels)
                scored.append(fold)
                preds.append(frame(test, labels, probs, corpus=cname, fold=k, method=method, encoder=encoder))
                steps.append(n_steps)
                skipped += lost
                seconds.append(round(time.perf_counter() - start, 3))
            metrics += fold_records(scored, labels, corpus=cname, method=method, encoder=encoder)
            if skipped:
                notes.append(f"{cname}: {len(skipped)} unusable test utterance(s) left out, e.g. {skipped[0][1]}")
            paper = PAPER_LABEL_SETS.get(cname)
            if paper and tuple(corpus.label_set) != resolve_label_set(paper):
                notes.append(f"{cname}: label set {list(corpus.label_set)} differs from the paper's ({paper})")
            per_corpus[cname] = {**folds[0].protocol, "fold": None, "sizes": [f.protocol["sizes"] for f in folds],
                                 "steps": steps, "fold_seconds": seconds}
        batch = self.batch_size or loaded.preset.ser_train.batch_size
        what = "trains the head over the frozen encoder" if self.freeze_encoder else "fine-tunes the encoder"
        notes.append(f"each fold {what} ({self.head} head, {self.loss} loss) for {self.epochs:g} epochs of its "
                     f"training folds (batch {batch}) and keeps the last step: the paper names no validation set; "
                     "f1 is macro-F1 (the paper does not say which F1)")
        if not self.speaker_independent:
            notes.append("folds are not speaker-independent, unlike the paper's (section 3.1.3)")
        if "iemocap" in inputs.corpora:
            notes.append("iemocap: the paper keeps four emotions, listed as neutral, happy, angry and 'disgusted' "
                         "(most likely sad, the usual four); the loader merges excited into happy, which the paper "
                         "does not mention")
        return TaskOutput(
            metrics=metrics,
            protocol={"name": "vqmaes-ser", "k": self.k, "speaker_independent": self.speaker_independent,
                      "method": method, "head": self.head, "freeze_encoder": self.freeze_encoder, "loss": self.loss,
                      "epochs": self.epochs, "batch_size": batch, "checkpoint": str(loaded.path),
                      "pretraining": pretraining(loaded), "per_corpus": per_corpus},
            corpora_roles={c: "train+eval" for c in inputs.corpora},
            predictions=pd.concat(preds, ignore_index=True),
            notes=notes,
        )

    def _fold(self, inputs: TaskInputs, loaded, split, labels):
        """Fine-tune on the fold's training part, score its test part: (Fold, test utterances scored, their
        probabilities [n, C], fine-tuning steps, unusable test audio)."""
        from emobench.vqmaes.load import predict_ser

        model_dir, n_steps = self._finetune(inputs, loaded, split.train, labels)
        lost: list[tuple[str, str]] = []
        with inputs.timer("evaluate"):
            order, probs = predict_ser(model_dir, split.test, device=inputs.device, skipped=lost)
        if list(order) != labels:
            raise EmobenchError(f"vqmaes-ser: {model_dir} predicts {list(order)}, not {labels}; delete it")
        gone = {u for u, _ in lost}
        test = [u for u in split.test if u.id not in gone]
        probs = probs.numpy().astype(np.float64)
        boot = bootstrap_for(test, kind=self.bootstrap, n_boot=self.n_boot, seed=inputs.seed)
        return Fold(label_indices(test, labels), probs.argmax(1), boot), test, probs, n_steps, lost

    def _finetune(self, inputs: TaskInputs, loaded, train, labels) -> tuple[Any, int]:
        """The folder of ``loaded`` fine-tuned on ``train``, from the probe store when it holds the identical
        fine-tuning; otherwise trained (resuming a killed run of it) and stored."""
        from emobench import __version__
        from emobench.cache.artifacts import artifact_key
        from emobench.cache.keys import AudioHasher
        from emobench.vqmaes.train import train_ser

        batch = self.batch_size or loaded.preset.ser_train.batch_size
        steps = max(1, math.ceil(self.epochs * len(train) / batch))
        hasher = AudioHasher(inputs.features.cache.root / "features")

        def content(u) -> str:
            try:
                return hasher.utterance_key(u)
            except AudioError:  # skipped by the training data too; its absence still identifies
                return f"unreadable:{u.id}"

        audio = sorted(f"{content(u)}|{u.label}" for u in train)
        hasher.save()
        payload = {"emobench": __version__, "task": "vqmaes-ser", "source_sha256": loaded.weights_sha256,
                   "head": self.head, "freeze_encoder": self.freeze_encoder, "loss": self.loss, "steps": steps,
                   "batch_size": batch, "amp": self.amp, "seed": inputs.train_seed, "labels": labels,
                   "train": artifact_key({"audio": audio})}
        key = artifact_key(payload)
        store = inputs.probes.store
        if store.load(key, lambda d: d) is not None:
            return store.path(key), steps
        work = store.dir.parent / "vqmaes-ser-work" / key
        with inputs.timer("fine-tune"):
            result = train_ser(train, checkpoint=loaded.path, out_dir=work, labels=labels, head=self.head,
                               freeze_encoder=self.freeze_encoder, loss=self.loss, steps=steps, batch_size=batch,
                               seed=inputs.train_seed, device=inputs.device, amp=self.amp, resume=True,
                               checkpoint_every=max(1, steps // 10), progress=_progress(inputs.progress),
                               cpu_threads=self.cpu_threads)

        def save(folder) -> None:
            for name in ("model.safetensors", "config.json"):
                shutil.copy2(result.checkpoint / name, folder / name)

        store.save(key, save, payload)
        shutil.rmtree(work, ignore_errors=True)
        return store.path(key), steps


def pretraining(loaded) -> dict[str, Any]:
    """What the upstream's checkpoint (and its VQ-VAE's) says it was trained on, for how long, on what."""
    import json
    from pathlib import Path

    def facts(config: dict) -> dict[str, Any]:
        return {"kind": config.get("kind"), "preset": ((config.get("identity") or {}).get("preset") or {}).get("name"),
                "steps": config.get("step"), "elapsed_s": config.get("elapsed_s"),
                "device_type": config.get("device_type"), "trained_on": config.get("trained_on")}

    out = {"vqmaes": facts(loaded.config), "masking": loaded.preset.mae.masking,
           "mask_ratio": loaded.preset.mae.mask_ratio}
    vq_dir = loaded.config.get("vqvae_checkpoint")
    try:
        out["vqvae"] = facts(json.loads((Path(vq_dir) / "config.json").read_text())) if vq_dir else None
    except (OSError, ValueError):
        out["vqvae"] = {"checkpoint": vq_dir, "unreadable": True}
    return out


def pretraining_notes(loaded, corpora) -> list[str]:
    """The honest part: what was pre-trained on what, how long, and how far that is from the paper's."""
    facts = pretraining(loaded)

    def said(f: dict | None) -> str:
        if not f or f.get("unreadable"):
            return "unknown (its checkpoint's config.json is not readable)"
        on = f.get("trained_on") or {}
        corpora_text = ", ".join(f"{n} ({c} utterances)" for n, c in (on.get("corpora") or {}).items()) or "?"
        secs = float(f.get("elapsed_s") or 0)
        took = f"{secs:.0f} s" if secs < 120 else f"{secs / 60:.0f} min" if secs < 7200 else f"{secs / 3600:.1f} h"
        return f"{f.get('steps')} steps ({took} on {f.get('device_type')}) on {corpora_text}"

    notes = [f"pre-training: VQ-MAE-S {facts['vqmaes']['preset']} ({facts['masking']}, {facts['mask_ratio']:.0%} "
             f"masked) {said(facts['vqmaes'])}; its VQ-VAE {said(facts['vqvae'])}. The paper pre-trains both on "
             f"{PAPER_PRETRAINING}: without that pre-training these numbers will not match its Table 5"]
    seen = ((facts["vqmaes"].get("trained_on") or {}).get("corpora") or {})
    for name in corpora:
        if name in seen:
            notes.append(f"{name}: the encoder was pre-trained (without labels) on {seen[name]} utterances of this "
                         "corpus, which may include the test folds' audio")
    return notes


def _progress(progress):
    """train_ser's ``(description, step, total)`` callback onto the run's progress display."""
    if progress is None:
        return None
    task: list[Any] = []

    def update(description: str, step: int, total: int) -> None:
        if not task:
            task.append(progress.add_task(description, total=total))
        progress.update(task[0], completed=step, total=total, description=description)

    return update

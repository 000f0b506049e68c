"""RQ1 (Emo-Q paper section 4.1, Figure 3): how emotional information decays under residual VQ depth.

The ``system`` quantizer is trained on emotion-balanced data (every emotion equally often: by default
all the balanced data the codebook corpora hold; ``balanced_total="equal"`` uses the total of one
emotion-specific codebook instead). For every depth 1..L: reconstruction cosine (frame and utterance
level) and primary-emotion recall (per emotion, UAR, macro-F1) of an in-domain classifier trained on
continuous features of the train split, applied to reconstructions of the test split. With several
corpora, codebooks are trained leave-one-corpus-out. Intervals: cluster bootstrap over test speakers.
"""

from __future__ import annotations

from typing import Annotated, Literal

from annotated_types import Ge

from emobench.tasks.base import Task, TaskOutput
from emobench.tasks.inputs import TaskInputs
from emobench.tasks.predictions import depth_frame
from emobench.tasks.protocol import per_corpus_splits
from emobench.tasks.records import bootstrap_for, label_indices
from emobench.tasks.scoring import continuous_records, depth_records, entropy_records, mean_duration
from emobench.tasks.sweep import evaluate
from emobench.tasks.training import balanced, plan_codebooks


class RQ1(Task):
    name = "rq1"

    def __init__(self, *, codebook_protocol: Literal["loco", "within"] = "loco", split: str = "stratified",
                 split_params: dict | None = None, fractions: tuple[float, float, float] = (0.5, 0.1, 0.4),
                 balanced_total: Literal["all", "equal"] = "all", n_boot: Annotated[int, Ge(1)] = 1000,
                 bootstrap: Literal["speaker", "utterance"] = "speaker", label_set: str | list[str] = "emo4"):
        self.codebook_protocol, self.split, self.split_params = codebook_protocol, split, dict(split_params or {})
        self.fractions, self.balanced_total = tuple(fractions), balanced_total
        self.n_boot, self.bootstrap, self.label_set = n_boot, bootstrap, label_set

    def run(self, inputs: TaskInputs) -> TaskOutput:
        import pandas as pd

        labels = list(inputs.label_set)
        by_corpus = per_corpus_splits(inputs, codebook_protocol=self.codebook_protocol, split=self.split,
                                      split_params=self.split_params, fractions=self.fractions)
        fs = inputs.features.get([u for folds in by_corpus.values() for s in folds
                                  for u in s.codebook_train + s.train + s.val + s.test])
        fr = float(inputs.upstream.frame_rate_hz)
        metrics, preds, protocols, notes = [], [], {}, []
        for corpus, folds in by_corpus.items():
            for k, splits in enumerate(folds):
                fold = k if len(folds) > 1 else None
                protocols[corpus if fold is None else f"{corpus}#{k}"] = splits.protocol
                if inputs.quantizers.is_router("system"):  # an Emo-Q as the system: its own composition
                    share = inputs.quantizers.share("system")
                    plan, _, extra = plan_codebooks(inputs, splits, labels, shares={"system": share}, n_train=None,
                                                    where="rq1")
                    train, notes = plan["system"], notes + extra
                else:
                    train = balanced(inputs, splits, labels, total=self.balanced_total)
                q = inputs.quantizers.fit("system", fs, train, layer=inputs.layer, label=f"system ({corpus})")
                probe = inputs.probes.train(fs, splits.train, splits.val, labels)
                test = [u for u in splits.test if u.id in fs]
                cont = inputs.probes.proba(probe, fs, test)
                with inputs.timer("evaluate"):
                    ev = evaluate(q, fs, test, inputs.layer, probe=probe, progress=inputs.progress)
                y = label_indices(test, labels)
                boot = bootstrap_for(test, kind=self.bootstrap, n_boot=self.n_boot, seed=inputs.seed)
                bd = {"corpus": corpus, "fold": fold, "role": "system"}
                metrics += continuous_records(y, cont.argmax(1), labels, boot, **bd)
                metrics += depth_records(ev, y, cont.argmax(1), labels, boot, fit=inputs.quantizers.fitted[-1],
                                         frame_rate_hz=fr, duration_s=mean_duration(fs, test, fr), **bd)
                metrics += entropy_records(ev.codes, codebook_size=q.codebook_size,
                                           codes_per_stage=q.codes_per_stage, **bd)
                preds.append(depth_frame(test, labels, cont, ev, corpus=corpus, fold=fold))
                if not splits.codebook_train:
                    notes.append(f"{corpus}: codebooks trained on its own train split (leave-one-corpus-out needs "
                                 "two or more corpora)")
        return TaskOutput(
            metrics=metrics,
            protocol={"name": "rq1", "codebook_protocol": self.codebook_protocol, "split": self.split,
                      "balanced_total": self.balanced_total, "bootstrap": self.bootstrap, "per_corpus": protocols},
            corpora_roles={c: "train+eval" for c in by_corpus},
            predictions=pd.concat(preds, ignore_index=True),
            notes=sorted(set(notes), key=notes.index),
        )

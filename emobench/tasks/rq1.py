"""RQ1 (Emo-Q paper section 4.1): how emotional information decays under residual VQ depth.

Balanced codebooks (equal utterances per emotion); for every RVQ depth 1..L: reconstruction cosine
similarity (frame-level and utterance-level) and primary-emotion recall (overall and per emotion) of an
in-domain linear probe trained on continuous features of the train split and applied to quantized
reconstructions of the test split. With several corpora, codebooks are trained leave-one-corpus-out.
"""

from __future__ import annotations

from emobench.tasks.base import Task, TaskContext, TaskOutput
from emobench.tasks.common import (
    DepthSweep,
    classification_records,
    corpus_splits,
    quantizer_info,
    sweep_depths,
)
from emobench.tasks.training import train_probe_on, training_utterances


class RQ1(Task):
    name = "rq1"

    def __init__(self, *, codebook_protocol: str = "loco", fractions=(0.5, 0.1, 0.4), n_boot: int = 1000):
        super().__init__(codebook_protocol=codebook_protocol, fractions=list(fractions), n_boot=n_boot)
        self.codebook_protocol = codebook_protocol
        self.fractions = tuple(fractions)
        self.n_boot = n_boot

    def run(self, ctx: TaskContext) -> TaskOutput:
        labels = ctx.label_set
        metrics, preds, protocols, notes = [], [], {}, []
        splits_by_corpus = corpus_splits(ctx, self.codebook_protocol, self.fractions)
        all_utts = [u for s in splits_by_corpus.values() for u in s.fit_utts + s.eval_utts]
        fs = ctx.features(list({u.id: u for u in all_utts}.values()))
        quantizer, codes = None, None
        for corpus, splits in splits_by_corpus.items():
            protocols[corpus] = splits.protocol
            cb_train = training_utterances(ctx, splits, scheme="balanced")
            quantizer = ctx.fit_quantizer(ctx.new_quantizer(), fs, cb_train, tag=f"rq1-{corpus}")
            probe = train_probe_on(ctx, fs, splits, labels)
            test = [u for u in ctx.limit(splits.test) if u.id in set(fs.utt_ids)]
            with ctx.timer("evaluate"):
                sweep: DepthSweep = sweep_depths(ctx, fs, test, quantizer, probe)
            metrics += classification_records(sweep, labels, corpus=corpus, n_boot=self.n_boot, seed=ctx.seed,
                                              quantizer=quantizer)
            preds.append(sweep.predictions(labels, corpus=corpus))
            codes = sweep.codes
            if not splits.codebook_train:
                notes.append(f"{corpus}: single corpus, so codebooks were trained on its own train split "
                             "(leave-one-corpus-out needs two or more corpora)")
        import pandas as pd

        return TaskOutput(
            metrics=metrics,
            protocol={"name": "rq1", "codebook_protocol": self.codebook_protocol, "seed": ctx.seed,
                      "per_corpus": protocols},
            corpora_roles={c: "train+eval" for c in splits_by_corpus},
            predictions=pd.concat(preds, ignore_index=True),
            quantizer_info=quantizer_info(quantizer, ctx, composition={"scheme": "balanced"}, codes=codes),
            probe_info={"name": ctx.config.probe, "params": ctx.config.probe_params, "trained_on": "continuous"},
            notes=notes,
        )

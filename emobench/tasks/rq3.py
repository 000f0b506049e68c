"""RQ3 (Emo-Q paper section 4.3, Figure 5): do emotion-aware codebooks preserve soft emotion
distributions?

A soft-labelled corpus (IEMOCAP by default: annotator vote distributions) is held out entirely;
codebooks and the probe are trained on the other corpora. For each codebook scheme (balanced, 100+0,
95+5, 99+1; every codebook trained on the same number of utterances) and every depth, the probe's
softmax on the reconstruction is compared with the annotator distribution: Jensen-Shannon divergence
(base 2, bits) and top-2 set accuracy, in the low-ambiguity (primary vote share > 0.5) and
high-ambiguity (<= 0.5) strata and overall.

Which emotion-specific codebook quantizes an utterance: ``routing="matched"`` (default) uses the
codebook of its primary (majority) label, the paper's matched setting of RQ2; ``routing="emoq"`` picks
the codebook whose reconstruction has the highest utterance-level cosine, using no label.
"""

from __future__ import annotations

import numpy as np

from emobench.errors import EmobenchError
from emobench.results.records import metric
from emobench.tasks.base import Task, TaskContext, TaskOutput
from emobench.tasks.common import quantizer_info, sweep_depths
from emobench.tasks.training import (
    balanced_quantizer,
    composition_notes,
    fit_emotion_codebooks,
    plan_codebooks,
    train_probe_on,
)

DEFAULT_SCHEMES = {"balanced": 0.0, "100+0": 1.0, "95+5": 0.95, "99+1": 0.99}


def soft_records(p_pred: np.ndarray, p_true: np.ndarray, strata: np.ndarray, *, n_boot: int, seed: int,
                 **bd) -> list[dict]:
    """js_divergence and top2_accuracy (mean, bootstrap CI) overall and per ambiguity stratum."""
    from emobench import metrics as M

    js = M.js_divergence(p_pred, p_true)  # [N] bits
    top2 = M.top2_set_accuracy(p_pred, p_true)  # [N] 0/1
    out = []
    for stratum in ("all", "low", "high"):
        sel = np.ones(len(js), bool) if stratum == "all" else strata == stratum
        if not sel.any():
            continue
        for name, v in (("js_divergence", js[sel]), ("top2_accuracy", top2[sel])):
            out.append(metric(name, float(v.mean()), ci=M.bootstrap_ci(v, n_boot=n_boot, seed=seed), n=int(sel.sum()),
                              stratum=stratum, **bd))
    return out


class RQ3(Task):
    name = "rq3"

    def __init__(self, *, held_out: str = "iemocap", schemes: dict | None = None, routing: str = "matched",
                 fractions=(0.5, 0.1, 0.4), n_train: int | None = None, n_boot: int = 1000):
        schemes = dict(DEFAULT_SCHEMES if schemes is None else schemes)
        if routing not in ("matched", "emoq"):
            raise EmobenchError(f"rq3: routing must be 'matched' or 'emoq', got {routing!r}")
        if not any(v == 0 for v in schemes.values()):
            raise EmobenchError("rq3: schemes need the balanced baseline (a scheme with share 0)")
        super().__init__(held_out=held_out, schemes=schemes, routing=routing, fractions=list(fractions),
                         n_train=n_train, n_boot=n_boot)
        self.held_out, self.schemes, self.routing = held_out, schemes, routing
        self.fractions, self.n_train, self.n_boot = tuple(fractions), n_train, n_boot

    def held_out_name(self, corpora) -> str:
        if self.held_out in corpora:
            return self.held_out
        if len(corpora) == 1:
            return next(iter(corpora))
        raise EmobenchError(
            f"rq3 holds out {self.held_out!r}, which is not among the loaded corpora ({', '.join(corpora)}); "
            f"add it with -c {self.held_out}=PATH or choose another with --set-task held_out=NAME"
        )

    def check(self, corpora) -> None:
        super().check(corpora)
        name = self.held_out_name(corpora)
        corpus = corpora[name]
        if not corpus.has_soft_labels or not any(u.soft_label for u in corpus.utterances):
            raise EmobenchError(
                f"rq3 needs soft labels (annotator vote distributions) on the held-out corpus, but {name!r} has "
                "none; hold out IEMOCAP, CREMA-D, MSP-Podcast or the demo corpus (--set-task held_out=NAME)"
            )

    def _splits(self, ctx: TaskContext, held: str):
        from emobench import splits as sp

        if len(ctx.corpora) > 1:
            utts = [u for c in ctx.corpora.values() for u in c.utterances]
            return sp.held_out_corpus(utts, held_out=held, seed=ctx.seed, fractions=self.fractions), []
        s = sp.stratified(ctx.corpora[held].utterances, seed=ctx.seed, fractions=self.fractions)
        return s, [f"{held}: the only corpus, so it was split 50/10/40 and its own test split evaluated "
                   "(the paper holds the soft-labelled corpus out entirely)"]

    def run(self, ctx: TaskContext) -> TaskOutput:
        import pandas as pd

        from emobench.splits import ambiguity_stratum

        self.check(ctx.corpora)
        labels = list(ctx.label_set)
        held = self.held_out_name(ctx.corpora)
        splits, notes = self._splits(ctx, held)
        splits.check()
        plan, n = plan_codebooks(ctx, splits, labels, schemes=self.schemes, n_train=self.n_train, where="rq3")
        test_all = [u for u in ctx.limit(splits.test) if u.soft_label]
        if not test_all:
            raise EmobenchError(f"rq3: no utterance of {held!r} in the evaluation set has a soft label")
        fs = ctx.features(list({u.id: u for u in splits.train + splits.val + splits.codebook_train + test_all
                                + [u for v in plan.values() for u in v]}.values()))
        kept = set(fs.utt_ids)
        test = [u for u in test_all if u.id in kept]
        y = np.array([labels.index(u.label) for u in test])
        p_true = np.array([u.soft_label for u in test], dtype=np.float64)
        strata = np.array([ambiguity_stratum(u.soft_label) for u in test])
        probe = train_probe_on(ctx, fs, splits, labels)
        metrics, preds = [], []
        q_bal = None
        cont_probs = None
        for scheme, share in self.schemes.items():
            with ctx.timer("evaluate"):
                if share == 0:
                    q_bal = ctx.fit_quantizer(balanced_quantizer(ctx), fs, plan[scheme], tag=f"rq3-{held}-{scheme}")
                    sweep = sweep_depths(ctx, fs, test, q_bal, probe)
                    probs, depths = sweep.probs, sweep.depths
                    cont_probs = sweep.continuous_probs
                else:
                    books = fit_emotion_codebooks(ctx, fs, {lab: plan[f"{scheme}/{lab}"] for lab in labels},
                                                  share=share, tag=f"rq3-{held}-{scheme}")
                    probs, depths = self._emotion_probs(ctx, fs, test, y, books, labels, probe)
            for d in depths:
                metrics += soft_records(probs[d], p_true, strata, n_boot=self.n_boot, seed=ctx.seed, depth=d,
                                        scheme=scheme, corpus=held)
                preds.append(_pred_frame(test, probs[d], labels, scheme=scheme, depth=d, strata=strata))
        metrics += soft_records(cont_probs, p_true, strata, n_boot=self.n_boot, seed=ctx.seed, scheme="continuous",
                                condition="continuous", corpus=held)
        preds.append(_pred_frame(test, cont_probs, labels, scheme="continuous", depth=0, strata=strata))
        counts = {s: int((strata == s).sum()) for s in ("low", "high")}
        notes += [f"{held}: {len(test)} soft-labelled test utterances ({counts['low']} low-, {counts['high']} "
                  f"high-ambiguity); every codebook trained on {n} utterances",
                  f"emotion-specific codebooks chosen by {self.routing} routing; JS divergence in bits (log base 2)",
                  *composition_notes(self.schemes, n)]
        return TaskOutput(
            metrics=metrics,
            protocol={"name": "rq3", "held_out": held, "routing": self.routing, "schemes": self.schemes,
                      "utterances_per_codebook": n, "seed": ctx.seed, "splits": splits.protocol},
            corpora_roles={c: ("held-out" if c == held and len(ctx.corpora) > 1 else
                               "train+eval" if c == held else "train") for c in ctx.corpora},
            predictions=pd.concat(preds, ignore_index=True),
            quantizer_info=quantizer_info(q_bal, ctx, composition={"schemes": self.schemes}),
            probe_info={"name": ctx.config.probe, "params": ctx.config.probe_params, "trained_on": "continuous"},
            notes=notes,
        )

    def _emotion_probs(self, ctx, fs, test, y, books: dict, labels, probe) -> tuple[dict, list[int]]:
        """depth -> probe probabilities ``[N, C]`` with each utterance quantized by its routed codebook."""
        n_stages = min(int(b.n_stages) for b in books.values())
        depths = list(range(1, n_stages + 1))
        probs = {d: np.zeros((len(test), len(labels))) for d in depths}
        if self.routing == "matched":
            for i, lab in enumerate(labels):
                rows = np.flatnonzero(y == i)
                if len(rows):
                    sweep = sweep_depths(ctx, fs, [test[r] for r in rows], books[lab], probe, depths=depths)
                    for d in depths:
                        probs[d][rows] = sweep.probs[d]
            return probs, depths
        sweeps = [sweep_depths(ctx, fs, test, books[lab], probe, depths=depths) for lab in labels]
        for d in depths:
            choice = np.stack([s.cosine_utt[d] for s in sweeps], 1).argmax(1)  # [N] routed codebook
            probs[d] = np.stack([s.probs[d] for s in sweeps], 1)[np.arange(len(test)), choice]
        return probs, depths


def _pred_frame(test, probs: np.ndarray, labels, *, scheme: str, depth: int, strata: np.ndarray):
    import pandas as pd

    from emobench import metrics as M

    p_true = np.array([u.soft_label for u in test])
    return pd.DataFrame({
        "utt_id": [u.id for u in test], "speaker": [u.speaker for u in test], "label": [u.label for u in test],
        "scheme": scheme, "depth": depth, "stratum": strata, "pred": [labels[i] for i in probs.argmax(1)],
        "js_divergence": M.js_divergence(probs, p_true), "top2": M.top2_set_accuracy(probs, p_true),
        **{f"p_{lab}": probs[:, i] for i, lab in enumerate(labels)},
        **{f"soft_{lab}": p_true[:, i] for i, lab in enumerate(labels)},
    })

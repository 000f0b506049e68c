"""RQ2 (Emo-Q paper section 4.2, Figure 4): balanced vs emotion-specific codebooks.

Per evaluated corpus: one balanced codebook and one emotion-specific (100+0) codebook per emotion,
all trained on the same number of utterances (the smallest per-emotion count of the codebook data,
or ``n_train``). An in-domain probe trained on continuous features scores reconstructions of the
test split at every depth. For each emotion e and depth:
  * matched recall: recall of e's utterances reconstructed through e's codebook;
  * unmatched recall: mean recall of the other emotions' utterances through e's codebook;
  * attraction: the share of the other emotions' utterances that the probe assigns to e after
    reconstruction through e's codebook. A codebook that pulls every input towards its emotion
    scores a high matched recall without preserving anything, so matched recall is always
    reported beside attraction (and beside the balanced codebook's values for the same emotion);
  * normalized code entropy per stage (paper eq. 1) on matched and unmatched inputs.
The balanced codebook gets the same three numbers per emotion (recall of e, of the others, and the
share of others predicted e), so every specific value has its balanced baseline in the same table.
"""

from __future__ import annotations

import numpy as np

from emobench.results.records import metric
from emobench.tasks.base import Task, TaskContext, TaskOutput
from emobench.tasks.common import DepthSweep, corpus_splits, quantizer_info, sweep_depths
from emobench.tasks.training import balanced_quantizer, fit_emotion_codebooks, plan_codebooks, train_probe_on


def routing_records(y: np.ndarray, pred_by_codebook, labels, *, n_boot: int, seed: int, **bd) -> list[dict]:
    """matched_recall, unmatched_recall and attraction of each emotion's codebook.

    ``pred_by_codebook``: emotion index -> predictions ``[N]`` of all test items reconstructed through
    that emotion's codebook (for the balanced codebook, the same array for every emotion)."""
    from emobench import metrics as M

    out = []
    means: dict[str, list[float]] = {"matched_recall": [], "unmatched_recall": [], "attraction": []}
    for i, lab in enumerate(labels):
        pred = pred_by_codebook[i]
        own, other = y == i, y != i
        hit = (pred[own] == i).astype(float)
        pulled = (pred[other] == i).astype(float)
        others = [j for j in range(len(labels)) if j != i]

        def unmatched(t, p, others=others):
            return M.uar(t, p, others)

        values = {
            "matched_recall": (float(hit.mean()) if len(hit) else np.nan, M.bootstrap_ci(hit, n_boot=n_boot, seed=seed),
                               len(hit)),
            "unmatched_recall": (unmatched(y[other], pred[other]),
                                 M.bootstrap_metric(unmatched, y[other], pred[other], n_boot=n_boot, seed=seed),
                                 int(other.sum())),
            "attraction": (float(pulled.mean()) if len(pulled) else np.nan,
                           M.bootstrap_ci(pulled, n_boot=n_boot, seed=seed), len(pulled)),
        }
        for name, (v, ci, n) in values.items():
            out.append(metric(name, v, ci=ci, n=n, emotion=lab, **bd))
            means[name].append(v)
    for name, vals in means.items():
        out.append(metric(name, float(np.nanmean(vals)), n=len(y), **bd))  # no emotion key: mean over emotions
    return out


def entropy_records(codes: np.ndarray, frame_labels: np.ndarray, emotion: int, codebook_size: int, labels,
                    **bd) -> list[dict]:
    """Per-stage normalized entropy of ``codes [T, L]`` on the frames of emotion ``emotion`` (matched)
    and of the other emotions (unmatched)."""
    from emobench.metrics import normalized_entropy

    out = []
    for condition, mask in (("matched", frame_labels == emotion), ("unmatched", frame_labels != emotion)):
        if not mask.any():
            continue
        h = np.atleast_1d(normalized_entropy(codes[mask], codebook_size))
        for stage, value in enumerate(h, start=1):
            out.append(metric("normalized_entropy", value, stage=stage, emotion=labels[emotion],
                              condition=condition, n=int(mask.sum()), **bd))
    return out


def rq2_records(bal: DepthSweep, specific: dict[int, DepthSweep], labels, *, lengths: np.ndarray, n_boot: int,
                seed: int, codebook_size: int, **breakdown) -> list[dict]:
    """All RQ2 records from the balanced sweep and one sweep per emotion-specific codebook (emotion index
    -> sweep over the same test utterances). ``lengths [N]``: frames per test utterance."""
    from emobench import metrics as M

    y = np.array([labels.index(u.label) for u in bal.utts])
    out = []
    cont = bal.continuous_probs.argmax(1)
    for lab, r in M.recall_per_class(y, cont, list(range(len(labels)))).items():
        out.append(metric("recall", r, n=int((y == lab).sum()), emotion=labels[lab], condition="continuous",
                          **breakdown))
    for d in bal.depths:
        bal_pred = bal.probs[d].argmax(1)
        out += routing_records(y, {i: bal_pred for i in range(len(labels))}, labels, n_boot=n_boot, seed=seed,
                               depth=d, codebook="balanced", **breakdown)
        out += routing_records(y, {i: s.probs[d].argmax(1) for i, s in specific.items()}, labels, n_boot=n_boot,
                               seed=seed, depth=d, codebook="specific", **breakdown)
    frame_labels = np.repeat(y, lengths)  # [T_total]
    for i in range(len(labels)):
        if bal.codes is not None:
            out += entropy_records(bal.codes, frame_labels, i, codebook_size, labels, codebook="balanced", **breakdown)
        if specific[i].codes is not None:
            out += entropy_records(specific[i].codes, frame_labels, i, codebook_size, labels, codebook="specific",
                                   **breakdown)
    return out


class RQ2(Task):
    name = "rq2"

    def __init__(self, *, codebook_protocol: str = "loco", fractions=(0.5, 0.1, 0.4), n_train: int | None = None,
                 n_boot: int = 1000):
        super().__init__(codebook_protocol=codebook_protocol, fractions=list(fractions), n_train=n_train,
                         n_boot=n_boot)
        self.codebook_protocol, self.fractions = codebook_protocol, tuple(fractions)
        self.n_train, self.n_boot = n_train, n_boot

    def run(self, ctx: TaskContext) -> TaskOutput:
        import pandas as pd

        labels = list(ctx.label_set)
        splits_by_corpus = corpus_splits(ctx, self.codebook_protocol, self.fractions)
        plans = {c: plan_codebooks(ctx, s, labels, schemes={"balanced": 0, "specific": 1.0}, n_train=self.n_train,
                                   where=f"rq2 on {c}") for c, s in splits_by_corpus.items()}
        all_utts = [u for s in splits_by_corpus.values() for u in s.fit_utts + s.eval_utts]
        fs = ctx.features(list({u.id: u for u in all_utts}.values()))
        metrics, preds, protocols, notes = [], [], {}, []
        q_bal = None
        for corpus, splits in splits_by_corpus.items():
            plan, n = plans[corpus]
            protocols[corpus] = {**splits.protocol, "utterances_per_codebook": n}
            q_bal = ctx.fit_quantizer(balanced_quantizer(ctx), fs, plan["balanced"], tag=f"rq2-{corpus}-balanced")
            books = fit_emotion_codebooks(ctx, fs, {lab: plan[f"specific/{lab}"] for lab in labels}, share=1.0,
                                          tag=f"rq2-{corpus}-specific")
            q_spec = {i: books[lab] for i, lab in enumerate(labels)}
            probe = train_probe_on(ctx, fs, splits, labels)
            kept = set(fs.utt_ids)
            test = [u for u in ctx.limit(splits.test) if u.id in kept]
            with ctx.timer("evaluate"):
                bal = sweep_depths(ctx, fs, test, q_bal, probe)
                spec = {i: sweep_depths(ctx, fs, test, q, probe) for i, q in q_spec.items()}
            lengths = fs.lengths[[fs.index(u.id) for u in test]]
            metrics += rq2_records(bal, spec, labels, lengths=lengths, n_boot=self.n_boot, seed=ctx.seed,
                                   codebook_size=int(q_bal.codebook_size), corpus=corpus)
            preds.append(bal.predictions(labels, corpus=corpus, codebook="balanced"))
            for i, s in spec.items():
                p = s.predictions(labels, corpus=corpus, codebook=f"specific-{labels[i]}")
                preds.append(p[p["depth"] > 0])
            notes.append(f"{corpus}: every codebook trained on {n} utterances (balanced: {n // len(labels)}+ per "
                         "emotion; specific: all from one emotion)")
            if not splits.codebook_train:
                notes.append(f"{corpus}: single corpus, so codebooks were trained on its own train split "
                             "(leave-one-corpus-out needs two or more corpora)")
        notes.append("attraction = share of other emotions' utterances assigned to the codebook's emotion; "
                     "read matched recall beside it, never alone")
        return TaskOutput(
            metrics=metrics,
            protocol={"name": "rq2", "codebook_protocol": self.codebook_protocol, "seed": ctx.seed,
                      "per_corpus": protocols},
            corpora_roles={c: "train+eval" for c in splits_by_corpus},
            predictions=pd.concat(preds, ignore_index=True),
            quantizer_info=quantizer_info(q_bal, ctx, composition={"schemes": ["balanced", "specific (100+0)"]}),
            probe_info={"name": ctx.config.probe, "params": ctx.config.probe_params, "trained_on": "continuous"},
            notes=notes,
        )

"""RQ2 (Emo-Q paper section 4.2, Figure 4): balanced vs emotion-specific codebooks.

Per evaluated corpus: the ``balanced`` codebook and one ``specific`` (100+0) codebook per emotion, all
trained on the same number of utterances (the smallest per-emotion count of the codebook data, or
``n_train``). An in-domain classifier trained on continuous features scores reconstructions of the test
split at every depth. For each emotion e and depth:
  * matched recall: recall of e's utterances reconstructed through e's codebook;
  * unmatched recall: mean recall of the other emotions' utterances through e's codebook;
  * attraction: the share of the other emotions' utterances assigned to e after reconstruction through
    e's codebook. A codebook that pulls every input towards its emotion scores a high matched recall
    without preserving anything, so matched recall is always reported beside attraction;
  * matched_recall_diff: e's specific matched recall minus the balanced codebook's recall of e, paired
    over e's utterances (the paper's comparison, with a speaker-level interval);
  * normalized code entropy per stage (paper eq. 1) on matched and unmatched frames.
The balanced codebook gets the same numbers (role=balanced), so every value has its baseline beside it.
"""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
from annotated_types import Ge

from emobench.tasks.base import Task, TaskOutput
from emobench.tasks.inputs import TaskInputs
from emobench.tasks.predictions import frame
from emobench.tasks.protocol import per_corpus_splits
from emobench.tasks.records import bootstrap_for, label_indices, rec
from emobench.tasks.scoring import entropy_records
from emobench.tasks.sweep import evaluate
from emobench.tasks.training import plan_codebooks


def routing_records(y: np.ndarray, pred_by_book: list[np.ndarray], labels, boot, **bd) -> list[dict]:
    """matched_recall, unmatched_recall and attraction of each emotion's codebook, and their means.

    ``pred_by_book[i]``: predictions ``[N]`` of all test items reconstructed through emotion i's codebook
    (for the balanced codebook, the same array for every emotion)."""
    out, means = [], {"matched_recall": [], "unmatched_recall": [], "attraction": []}
    for i, lab in enumerate(labels):
        pred, own, other = pred_by_book[i], y == i, y != i
        hit = (pred == i).astype(np.float64)
        kept = (pred == y).astype(np.float64)
        # unmatched recall: mean over the other emotions of their recall through this codebook
        per_class = [boot.resampled_mean(kept, y == j) for j in range(len(labels)) if j != i and (y == j).any()]
        unmatched = np.nanmean(per_class, axis=0) if per_class else np.full(boot.n_boot, np.nan)
        point_unmatched = np.nanmean([kept[y == j].mean() for j in range(len(labels)) if j != i and (y == j).any()]
                                     or [np.nan])
        stats = {"matched_recall": (hit[own].mean() if own.any() else np.nan, boot.resampled_mean(hit, own), own.sum()),
                 "unmatched_recall": (point_unmatched, unmatched, other.sum()),
                 "attraction": (hit[other].mean() if other.any() else np.nan, boot.resampled_mean(hit, other),
                                other.sum())}
        for name, (v, resampled, n) in stats.items():
            out.append(rec(name, v, ci=boot.interval(resampled), n=int(n), emotion=lab, **bd))
            means[name].append((v, resampled))
    for name, vals in means.items():  # no emotion key: the mean over emotions
        out.append(rec(name, np.nanmean([v for v, _ in vals]), ci=boot.interval(np.nanmean([r for _, r in vals], 0)),
                       n=len(y), **bd))
    return out


def diff_records(y: np.ndarray, spec_by_book: list[np.ndarray], bal_pred: np.ndarray, labels, boot, **bd) -> list[dict]:
    """matched_recall_diff per emotion (specific book minus balanced, paired over e's items) and its mean."""
    out, parts = [], []
    for i, lab in enumerate(labels):
        own = y == i
        if not own.any():
            continue
        d = (spec_by_book[i] == i).astype(np.float64) - (bal_pred == i).astype(np.float64)
        resampled = boot.resampled_mean(d, own)
        out.append(rec("matched_recall_diff", d[own].mean(), ci=boot.interval(resampled), n=int(own.sum()),
                       emotion=lab, **bd))
        parts.append((d[own].mean(), resampled))
    if parts:
        out.append(rec("matched_recall_diff", np.mean([v for v, _ in parts]),
                       ci=boot.interval(np.nanmean([r for _, r in parts], 0)), n=len(y), **bd))
    return out


class RQ2(Task):
    name = "rq2"

    def __init__(self, *, codebook_protocol: Literal["loco", "within"] = "loco", split: str = "stratified",
                 split_params: dict | None = None, fractions: tuple[float, float, float] = (0.5, 0.1, 0.4),
                 n_train: Annotated[int, Ge(1)] | None = None, n_boot: Annotated[int, Ge(1)] = 1000,
                 bootstrap: Literal["speaker", "utterance"] = "speaker", label_set: str | list[str] = "emo4"):
        self.codebook_protocol, self.split, self.split_params = codebook_protocol, split, dict(split_params or {})
        self.fractions, self.n_train, self.n_boot, self.bootstrap = tuple(fractions), n_train, n_boot, bootstrap
        self.label_set = label_set

    def run(self, inputs: TaskInputs) -> TaskOutput:
        import pandas as pd

        labels = list(inputs.label_set)
        by_corpus = per_corpus_splits(inputs, codebook_protocol=self.codebook_protocol, split=self.split,
                                      split_params=self.split_params, fractions=self.fractions)
        share = inputs.quantizers.share("specific")
        plans = {(c, k): plan_codebooks(inputs, s, labels, shares={"balanced": 0.0, "specific": share},
                                        n_train=self.n_train, where=f"rq2 on {c}")
                 for c, folds in by_corpus.items() for k, s in enumerate(folds)}
        fs = inputs.features.get([u for folds in by_corpus.values() for s in folds
                                  for u in s.codebook_train + s.train + s.val + s.test])
        metrics, preds, protocols, notes = [], [], {}, []
        for corpus, folds in by_corpus.items():
            for k, splits in enumerate(folds):
                fold = k if len(folds) > 1 else None
                plan, n, extra = plans[(corpus, k)]
                notes += extra
                protocols[corpus if fold is None else f"{corpus}#{k}"] = {**splits.protocol, "utterances_per_codebook": n}
                q_bal = inputs.quantizers.fit("balanced", fs, plan["balanced"], layer=inputs.layer)
                q_spec = inputs.quantizers.fit("specific", fs, plan["specific"], layer=inputs.layer)
                probe = inputs.probes.train(fs, splits.train, splits.val, labels)
                test = [u for u in splits.test if u.id in fs]
                y = label_indices(test, labels)
                boot = bootstrap_for(test, kind=self.bootstrap, n_boot=self.n_boot, seed=inputs.seed)
                with inputs.timer("evaluate"):
                    bal = evaluate(q_bal, fs, test, inputs.layer, probe=probe, progress=inputs.progress)
                    spec = evaluate(q_spec, fs, test, inputs.layer, probe=probe, depths=bal.depths,
                                    progress=inputs.progress)
                bd = {"corpus": corpus, "fold": fold}
                fr = float(inputs.upstream.frame_rate_hz)
                cont = inputs.probes.proba(probe, fs, test)
                for i, lab in enumerate(labels):
                    if (y == i).any():
                        metrics.append(rec("recall", (cont.argmax(1)[y == i] == i).mean(), n=int((y == i).sum()),
                                           emotion=lab, condition="continuous", **bd))
                books = [spec.books[lab] for lab in labels]
                for d in bal.depths:
                    bal_pred = bal.probs[d].argmax(1)
                    spec_preds = [b.probs[d].argmax(1) for b in books]
                    metrics += routing_records(y, [bal_pred] * len(labels), labels, boot, depth=d, role="balanced", **bd)
                    metrics += routing_records(y, spec_preds, labels, boot, depth=d, role="specific", **bd)
                    metrics += diff_records(y, spec_preds, bal_pred, labels, boot, depth=d, role="specific", **bd)
                    for role, q in (("balanced", q_bal), ("specific", q_spec)):  # oracle books: no route sent
                        metrics.append(rec("bitrate", q.bits_per_frame(d) * fr, depth=d, role=role, **bd))
                    preds.append(frame(test, labels, bal.probs[d], role="balanced", depth=d, corpus=corpus, fold=fold))
                    for lab, b in zip(labels, books, strict=True):
                        preds.append(frame(test, labels, b.probs[d], role="specific", book=lab, depth=d, corpus=corpus,
                                           fold=fold))
                frame_labels = np.repeat(y, fs.lengths[[fs.index(u.id) for u in test]])  # [T_total]
                for i, lab in enumerate(labels):
                    for cond, mask in (("matched", frame_labels == i), ("unmatched", frame_labels != i)):
                        if mask.any():
                            metrics += entropy_records({"all": bal.codes["all"][mask]}, codebook_size=q_bal.codebook_size,
                                                       role="balanced", emotion=lab, condition=cond, **bd)
                            metrics += entropy_records({"all": books[i].codes[mask]}, codebook_size=q_spec.codebook_size,
                                                       role="specific", emotion=lab, condition=cond, **bd)
                notes.append(f"{corpus}: every codebook trained on {n} utterances (balanced: {n // len(labels)}+ per "
                             "emotion; specific: all from one emotion)")
        notes.append("attraction = share of other emotions' utterances assigned to the codebook's emotion; "
                     "read matched recall beside it, never alone")
        return TaskOutput(
            metrics=metrics,
            protocol={"name": "rq2", "codebook_protocol": self.codebook_protocol, "split": self.split,
                      "bootstrap": self.bootstrap, "per_corpus": protocols},
            corpora_roles={c: "train+eval" for c in by_corpus},
            predictions=pd.concat(preds, ignore_index=True),
            notes=list(dict.fromkeys(notes)),
        )

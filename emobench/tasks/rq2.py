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

from emobench.errors import EmobenchError
from emobench.results.records import metric
from emobench.tasks.base import Task, TaskContext, TaskOutput
from emobench.tasks.common import DepthSweep, corpus_splits, quantizer_info, sweep_depths, training_utterances


def train_probe_on(ctx: TaskContext, fs, splits, labels):
    """The in-domain probe: trained on continuous pooled features of ``splits.train``, selected on val
    (``e2v-head`` instead takes emotion2vec's head from the upstream)."""
    X_tr, train = ctx.pooled(fs, ctx.limit(splits.train))
    X_va, val = ctx.pooled(fs, ctx.limit(splits.val))
    y_tr = np.array([labels.index(u.label) for u in train])
    y_va = np.array([labels.index(u.label) for u in val])
    probe = ctx.train_probe(X_tr, y_tr, X_va, y_va)
    if hasattr(probe, "attach"):  # emotion2vec's own head comes from the upstream (no training)
        probe.attach(ctx.upstream)
    return probe


def plan_codebooks(ctx: TaskContext, splits, labels, *, schemes: dict[str, float], n_train: int | None,
                   where: str) -> tuple[dict[str, list], int]:
    """Training utterances of every codebook, composed before any expensive work (so a composition
    that cannot be honoured fails first). ``schemes`` maps a name to a target share: 0 = balanced,
    1.0 = specific (100+0), 0.99 = biased 99+1, ... Keys of the result: ``"balanced"`` and
    ``"<scheme>/<emotion>"``. Returns the plan and the number of utterances per codebook."""
    pool = ctx.limit(splits.codebook_train or splits.train)
    counts = {lab: sum(u.label == lab for u in pool) for lab in labels}
    n = min(counts.values()) if n_train is None else int(n_train)
    thin = {lab: c for lab, c in counts.items() if c < max(n, 1)}
    if thin or n < len(labels):
        raise EmobenchError(
            f"{where}: codebooks trained on {n} utterances each need {max(n, len(labels))} utterances of every "
            f"emotion in the codebook data, but it has {counts}; lower n_train, raise --limit or add data"
        )
    plan: dict[str, list] = {}
    for scheme, share in schemes.items():
        if share == 0:
            plan[scheme] = training_utterances(ctx, splits, scheme="balanced", n_total=n)
            continue
        for lab in labels:
            kind = "specific" if share >= 1.0 else "biased"
            plan[f"{scheme}/{lab}"] = training_utterances(ctx, splits, scheme=kind, target=lab,
                                                          target_share=float(share), n_total=n)
    return plan, n


def composition_notes(schemes: dict[str, float], n: int) -> list[str]:
    """Say when a biased scheme degenerates: A+(100-A) of n utterances keeps round(A% n) of the target,
    so 99+1 equals 100+0 below 50 utterances per codebook."""
    def first_difference(share: float) -> int:
        return next(m for m in range(1, 100_000) if round(share * m) < m)

    return [f"{name}: with {n} utterances per codebook, round({share:g} x {n}) = {n} are of the target emotion, "
            f"so it equals 100+0 here (it differs from {first_difference(share)} utterances up)"
            for name, share in schemes.items() if 0 < share < 1 and round(share * n) == n]


def balanced_quantizer(ctx: TaskContext, **overrides):
    """A single-codebook quantizer like the configured one. When the configured quantizer is
    per-emotion (Emo-Q presets), the balanced one is ``rvq`` with the same layout."""
    q = ctx.new_quantizer(**overrides)
    if not getattr(q, "per_emotion", False):
        return q
    p = q.params
    return ctx.new_quantizer("rvq", n_stages=q.n_stages, codebook_size=q.codebook_size,
                             max_points_per_centroid=p.get("max_points_per_centroid", 256), n_iter=p.get("n_iter", 20))


def fit_emotion_codebooks(ctx: TaskContext, fs, per_emotion: dict[str, list], *, share: float, tag: str,
                          **overrides) -> dict[str, object]:
    """One codebook per emotion, trained on the composed utterances ``per_emotion[emotion]``.

    A per-emotion configured quantizer (Emo-Q) is fitted once on the mapping and its books returned;
    any other quantizer is fitted once per emotion. Returns emotion -> quantizer (encode/decode)."""
    template = ctx.new_quantizer(**overrides)
    if getattr(template, "per_emotion", False):
        kind = "specific" if share >= 1.0 else "biased"
        q = ctx.new_quantizer(**{**overrides, "composition": kind, "target_share": float(share)})
        q = ctx.fit_quantizer(q, fs, per_emotion, tag=tag)
        return dict(q.books)
    return {e: ctx.fit_quantizer(ctx.new_quantizer(**overrides), fs, utts, tag=f"{tag}-{e}")
            for e, utts in per_emotion.items()}


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

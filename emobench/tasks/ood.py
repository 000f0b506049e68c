"""Out-of-domain SER (Emo-Q paper sections 3.1 and 4.4): macro-F1 of upstream x quantizer x probe on
corpora never used for fitting.

Protocol: the training corpora (every loaded corpus not named in ``ood``) are split 50/10/40; codebooks
and the probe are fitted on their train parts (probe selected on val). The RVQ depth is chosen by
cross-validation on the training corpora's test splits (highest macro-F1, ties to the shallower, i.e.
cheaper, depth) and applied unchanged to each OOD corpus. Every depth's OOD macro-F1 is reported too,
with the continuous baseline and the change over it. A quantizer that can route (Emo-Q) is also
scored as a classifier (``method=routed``). With no OOD corpus loaded (e.g. the embedded demo), half
of the held-out test speakers stand in for one, and the result says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from emobench.corpora.base import Utterance
from emobench.errors import EmobenchError
from emobench.results.records import metric
from emobench.tasks.base import Task, TaskContext, TaskOutput
from emobench.tasks.common import quantizer_info, sweep_depths
from emobench.tasks.training import training_utterances

DEFAULT_OOD = ("msp-podcast", "emns", "enterface", "jl-corpus")


@dataclass
class OODProtocol:
    splits: object  # emobench.splits.Splits of the training corpora
    select: list[Utterance]  # depth selection: the training corpora's test splits
    ood: dict[str, list[Utterance]]  # OOD test sets by name
    roles: dict[str, str]
    notes: list[str] = field(default_factory=list)


def ood_protocol(ctx: TaskContext, ood_names, fractions, *, task: str) -> OODProtocol:
    """Split training corpora, collect OOD sets (or a pseudo-OOD speaker half); checks leakage."""
    from emobench import splits as sp

    train_names = [c for c in ctx.corpora if c not in ood_names]
    ood_loaded = [c for c in ctx.corpora if c in ood_names]
    if not train_names:
        raise EmobenchError(f"{task}: every loaded corpus ({', '.join(ctx.corpora)}) is an OOD test set; load "
                            "training corpora too (e.g. -c esd=... -c ravdess=...) or change --set-task ood=[...]")
    train_utts = [u for c in train_names for u in ctx.corpora[c].utterances]
    roles = {c: "train" for c in train_names}
    if ood_loaded:
        splits = sp.stratified(train_utts, seed=ctx.seed, fractions=fractions)
        ood = {c: ctx.limit(ctx.corpora[c].utterances) for c in ood_loaded}
        roles.update({c: "ood" for c in ood_loaded})
        notes = []
    else:
        splits = sp.speaker_independent(train_utts, seed=ctx.seed, fractions=fractions)
        speakers = sorted({(u.corpus, u.speaker) for u in splits.test})
        if len(speakers) < 2:
            raise EmobenchError(f"{task}: no OOD corpus is loaded and the test split has {len(speakers)} speaker(s), "
                                "too few to hold some out; load an OOD corpus (--set-task ood=[...])")
        pseudo = set(speakers[1::2])
        select = [u for u in splits.test if (u.corpus, u.speaker) not in pseudo]
        name = f"{'+'.join(train_names)}-unseen-speakers"
        ood = {name: ctx.limit([u for u in splits.test if (u.corpus, u.speaker) in pseudo])}
        notes = [f"no OOD corpus loaded ({', '.join(ood_names)}): pseudo-OOD set {name!r} = test speakers "
                 f"{', '.join(s for _, s in sorted(pseudo))}, never seen in fitting nor in depth selection"]
        return OODProtocol(splits, ctx.limit(select), ood, roles, notes)
    sp.check_disjoint(splits.fit_utts, [u for v in ood.values() for u in v], by_speaker=False)
    return OODProtocol(splits, ctx.limit(splits.test), ood, roles, notes)


def candidate_depths(n_stages: int, max_candidates: int = 32) -> list[int]:
    """Depths tried in cross-validation: all of them, or an even grid (always with the last) for deep
    layouts such as 128x2, where scoring every prefix would cost O(L^2) decodes."""
    if n_stages <= max_candidates:
        return list(range(1, n_stages + 1))
    grid = np.unique(np.round(np.linspace(1, n_stages, max_candidates)).astype(int))
    return [int(d) for d in grid]


def select_depth(scores: dict[int, float]) -> int:
    """The depth with the highest score; ties go to the shallower (cheaper) depth."""
    best = max(scores.values())
    return min(d for d, s in scores.items() if s >= best - 1e-12)


def label_indices(utts, labels) -> np.ndarray:
    return np.array([labels.index(u.label) for u in utts], dtype=np.int64)


def routed_predictions(q, X: np.ndarray, depths, labels) -> dict[int, np.ndarray]:
    """Emo-Q's routed label indices (in ``labels`` order) for pooled features ``X [N, D]`` at each depth.

    Same rule as ``EmoQ.route`` at utterance level (argmax_i cos(z, e_i)), but each emotion's codebook
    encodes X once at full depth and every depth is a prefix decode, instead of one full encode per
    depth."""
    from emobench.metrics import cosine_similarity

    order = np.array([labels.index(e) for e in q.emotions], dtype=np.int64)  # router column -> label index
    books = getattr(q, "books", None)
    if not books:  # another routing quantizer: its own route, one depth at a time
        return {d: order[q.route(X, depth=d)[0]] for d in depths}
    codes = {e: b.encode(X) for e, b in books.items()}
    out = {}
    for d in depths:
        cos = np.stack([cosine_similarity(X, np.asarray(b.decode(codes[e], d))) for e, b in books.items()], 1)
        out[d] = order[cos.argmax(1)]  # ties go to the first emotion in the router's order
    return out


def delta_record(y, pred, cont_pred, n_labels: int, *, n_boot: int, seed: int, **bd) -> dict:
    """macro_f1_delta (quantized minus continuous) with a paired bootstrap CI over the same items."""
    from emobench import metrics as M

    lab = list(range(n_labels))

    def diff(t, a, b):
        return M.macro_f1(t, a, lab) - M.macro_f1(t, b, lab)

    return metric("macro_f1_delta", diff(y, pred, cont_pred), n=len(y),
                  ci=M.bootstrap_metric(diff, y, pred, cont_pred, n_boot=n_boot, seed=seed), **bd)


class OODSER(Task):
    name = "ood-ser"

    def __init__(self, *, ood=DEFAULT_OOD, fractions=(0.5, 0.1, 0.4), max_candidates: int = 32, n_boot: int = 1000):
        super().__init__(ood=list(ood), fractions=list(fractions), max_candidates=max_candidates, n_boot=n_boot)
        self.ood, self.fractions, self.max_candidates, self.n_boot = tuple(ood), tuple(fractions), max_candidates, n_boot

    def run(self, ctx: TaskContext) -> TaskOutput:
        import pandas as pd

        from emobench import metrics as M
        from emobench.tasks.training import plan_codebooks, train_probe_on

        labels, lab = list(ctx.label_set), list(range(len(ctx.label_set)))
        proto = ood_protocol(ctx, self.ood, self.fractions, task=self.name)
        q = ctx.new_quantizer()
        per_emotion = getattr(q, "per_emotion", False)
        share = float(q.params.get("target_share", 1.0)) if per_emotion else 0.0
        if per_emotion:
            plan, _ = plan_codebooks(ctx, proto.splits, labels, schemes={"q": share}, n_train=None, where=self.name)
        else:
            cb_train = training_utterances(ctx, proto.splits, scheme="balanced")
        everything = proto.splits.fit_utts + proto.splits.val + proto.select + [u for v in proto.ood.values() for u in v]
        fs = ctx.features(list({u.id: u for u in everything}.values()))
        kept = set(fs.utt_ids)
        if per_emotion:
            q = ctx.fit_quantizer(ctx.new_quantizer(), fs, {e: plan[f"q/{e}"] for e in labels}, tag="ood-emoq")
        else:
            q = ctx.fit_quantizer(q, fs, cb_train, tag="ood")
        probe = train_probe_on(ctx, fs, proto.splits, labels)
        depths = candidate_depths(int(q.n_stages), self.max_candidates)
        select = [u for u in proto.select if u.id in kept]
        y_sel = label_indices(select, labels)
        with ctx.timer("evaluate"):
            sel = sweep_depths(ctx, fs, select, q, probe, depths=depths)
        curve = {d: M.macro_f1(y_sel, sel.probs[d].argmax(1), lab) for d in depths}
        best = select_depth(curve)
        metrics = [metric("macro_f1", v, n=len(y_sel), depth=d, condition="selection", method="probe")
                   for d, v in curve.items()]
        methods = ["probe"] + (["routed"] if hasattr(q, "route") else [])
        if "routed" in methods:
            X_sel, _ = ctx.pooled(fs, select)
            r_sel = routed_predictions(q, X_sel, depths, labels)
            r_curve = {d: M.macro_f1(y_sel, r_sel[d], lab) for d in depths}
            metrics += [metric("macro_f1", v, n=len(y_sel), depth=d, condition="selection", method="routed")
                        for d, v in r_curve.items()]
        chosen = {"probe": best, **({"routed": select_depth(r_curve)} if "routed" in methods else {})}
        preds, fr = [], float(ctx.upstream.frame_rate_hz)
        for name, utts in proto.ood.items():
            test = [u for u in utts if u.id in kept]
            y = label_indices(test, labels)
            with ctx.timer("evaluate"):
                sw = sweep_depths(ctx, fs, test, q, probe, depths=depths)
            cont = sw.continuous_probs.argmax(1)
            metrics.append(metric("macro_f1", M.macro_f1(y, cont, lab), n=len(y), corpus=name, condition="continuous",
                                  ci=M.bootstrap_metric(lambda t, p: M.macro_f1(t, p, lab), y, cont,
                                                        n_boot=self.n_boot, seed=ctx.seed)))
            routed = routed_predictions(q, ctx.pooled(fs, test)[0], depths, labels) if "routed" in methods else {}
            for method in methods:
                for d in depths:
                    pred = sw.probs[d].argmax(1) if method == "probe" else routed[d]
                    bd = {"corpus": name, "depth": d, "method": method, "condition": "quantized"}
                    if d == chosen[method]:
                        bd["selected"] = "cv"
                        metrics.append(delta_record(y, pred, cont, len(labels), n_boot=self.n_boot, seed=ctx.seed, **bd))
                        metrics.append(metric("bitrate", q.bits_per_frame(d) * fr, depth=d, method=method, corpus=name))
                    metrics.append(metric("macro_f1", M.macro_f1(y, pred, lab), n=len(y), **bd))
            preds.append(sw.predictions(labels, corpus=name))
        return TaskOutput(
            metrics=metrics,
            protocol={"name": "ood-ser", "seed": ctx.seed, "ood": sorted(proto.ood), "selected_depth": chosen,
                      "depth_selection": "max macro-F1 on the training corpora's test splits, ties to shallower",
                      "splits": proto.splits.protocol},
            corpora_roles=proto.roles,
            predictions=pd.concat(preds, ignore_index=True),
            quantizer_info=quantizer_info(q, ctx, composition={"scheme": f"per-emotion {share:g}" if per_emotion
                                                               else "balanced"}),
            probe_info={"name": ctx.config.probe, "params": ctx.config.probe_params, "trained_on": "continuous"},
            notes=proto.notes,
        )

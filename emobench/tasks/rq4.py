"""RQ4 (Emo-Q paper section 4.4, Table 1): downstream SER with routed quantization.

For each codebook layout (8x32 ... 128x2) and method: Bal (a balanced RVQ, its reconstruction scored by
the probe), Emo-Q(100) and Emo-Q(99) (per-emotion codebooks trained 100+0 / 99+1, zero-parameter cosine
routing), the RVQ depth is chosen by cross-validation on the training corpora's test splits and the
macro-F1 change over the continuous baseline (the probe on continuous features) is averaged over the
OOD test sets. Every codebook is trained on the same number of utterances. The bitrate reported is the
one actually used: the selected depth's stage codes at the upstream's frame rate (Emo-Q adds log2(E)
bits per utterance for the codebook choice, recorded beside it).
"""

from __future__ import annotations

import numpy as np

from emobench.errors import EmobenchError
from emobench.results.records import metric
from emobench.tasks.base import Task, TaskContext, TaskOutput
from emobench.tasks.common import quantizer_info, sweep_depths
from emobench.tasks.ood import (
    DEFAULT_OOD,
    candidate_depths,
    delta_record,
    label_indices,
    ood_protocol,
    routed_predictions,
    select_depth,
)
from emobench.tasks.training import composition_notes, plan_codebooks, train_probe_on

LAYOUTS = ("8x32", "8x64", "8x128", "32x2", "32x4", "64x2", "128x2")
METHODS = {"Bal": 0.0, "Emo-Q(100)": 1.0, "Emo-Q(99)": 0.99}
# The paper's Table 1: macro-F1 change over the continuous baseline in percentage points (F1 x 100),
# emotion2vec+ base, averaged over MSP-Podcast, EMNS, eNTERFACE and JL-Corpus.
PAPER_TABLE1 = {
    "Bal": dict(zip(LAYOUTS, (-0.09, +0.02, +0.02, -0.98, -0.53, -1.00, +0.17), strict=True)),
    "Emo-Q(100)": dict(zip(LAYOUTS, (+0.95, +0.97, +0.66, +0.51, +1.18, +0.67, +0.77), strict=True)),
    "Emo-Q(99)": dict(zip(LAYOUTS, (+1.57, +1.45, +1.20, +0.57, +0.25, -0.18, -0.18), strict=True)),
}


def parse_layout(layout: str) -> tuple[int, int]:
    try:
        n_stages, size = (int(x) for x in str(layout).lower().split("x"))
    except ValueError:
        raise EmobenchError(f"rq4: layout {layout!r} must look like STAGESxENTRIES, e.g. 8x32") from None
    return n_stages, size


def table_lines(cells: dict, layouts) -> list[str]:
    """Text rows 'method | layout: delta (depth, kbps) ...' for notes, paper units (F1 x 100)."""
    lines = []
    for method, row in cells.items():
        parts = [f"{lay} {100 * row[lay][0]:+.2f} (d={row[lay][1]}, {row[lay][2] / 1000:.2f} kbps)" for lay in layouts]
        lines.append(f"measured {method}: " + "; ".join(parts))
    for method, row in PAPER_TABLE1.items():
        lines.append(f"paper {method}: " + "; ".join(f"{lay} {v:+.2f}" for lay, v in row.items()))
    return lines


class RQ4(Task):
    name = "rq4"

    def __init__(self, *, layouts=LAYOUTS, methods: dict | None = None, ood=DEFAULT_OOD, fractions=(0.5, 0.1, 0.4),
                 balanced_quantizer: str = "rvq", n_train: int | None = None, max_candidates: int = 32,
                 n_boot: int = 1000):
        methods = dict(METHODS if methods is None else methods)
        for lay in layouts:
            parse_layout(lay)
        super().__init__(layouts=list(layouts), methods=methods, ood=list(ood), fractions=list(fractions),
                         balanced_quantizer=balanced_quantizer, n_train=n_train, max_candidates=max_candidates,
                         n_boot=n_boot)
        self.layouts, self.methods, self.ood, self.fractions = list(layouts), methods, tuple(ood), tuple(fractions)
        self.balanced_name, self.n_train = balanced_quantizer, n_train
        self.max_candidates, self.n_boot = max_candidates, n_boot

    def run(self, ctx: TaskContext) -> TaskOutput:
        import pandas as pd

        from emobench import metrics as M

        labels, lab = list(ctx.label_set), list(range(len(ctx.label_set)))
        router = ctx.new_quantizer()
        if not hasattr(router, "route"):
            raise EmobenchError(
                f"rq4 routes with Emo-Q, but quantizer {ctx.config.quantizer!r} ({type(router).__name__}) cannot "
                "route; run it with -q emoq (or emoq-99, emoq-demo)"
            )
        proto = ood_protocol(ctx, self.ood, self.fractions, task=self.name)
        plan, n = plan_codebooks(ctx, proto.splits, labels, schemes=self.methods, n_train=self.n_train, where="rq4")
        everything = proto.splits.fit_utts + proto.splits.val + proto.select + [u for v in proto.ood.values() for u in v]
        fs = ctx.features(list({u.id: u for u in everything}.values()))
        kept = set(fs.utt_ids)
        probe = train_probe_on(ctx, fs, proto.splits, labels)
        sets = {"select": [u for u in proto.select if u.id in kept],
                **{c: [u for u in v if u.id in kept] for c, v in proto.ood.items()}}
        ys = {k: label_indices(v, labels) for k, v in sets.items()}
        pooled = {k: ctx.pooled(fs, v)[0] for k, v in sets.items()}
        cont = {k: probe.predict(pooled[k]) for k in sets}
        metrics = [metric("macro_f1", M.macro_f1(ys[c], cont[c], lab), n=len(ys[c]), corpus=c, condition="continuous")
                   for c in proto.ood]
        fit_params = {k: router.params[k] for k in ("max_points_per_centroid", "n_iter") if k in router.params}
        rows = [_rows(sets[c], cont[c], labels, corpus=c, condition="continuous") for c in proto.ood]
        cells: dict[str, dict] = {m: {} for m in self.methods}
        fr = float(ctx.upstream.frame_rate_hz)
        q = None
        for layout in self.layouts:
            n_stages, size = parse_layout(layout)
            depths = candidate_depths(n_stages, self.max_candidates)
            for method, share in self.methods.items():
                with ctx.timer("fit"):
                    q = self._fit(ctx, fs, plan, labels, method, share, n_stages, size, fit_params)
                with ctx.timer("evaluate"):
                    preds = self._predict(ctx, fs, q, probe, sets, pooled, depths, labels, routed=share > 0)
                curve = {d: M.macro_f1(ys["select"], preds["select"][d], lab) for d in depths}
                best = select_depth(curve)
                bd = {"layout": layout, "method": method}
                metrics += [metric("macro_f1", v, n=len(ys["select"]), depth=d, condition="selection", **bd)
                            for d, v in curve.items()]
                deltas = []
                for c in proto.ood:
                    rec = delta_record(ys[c], preds[c][best], cont[c], len(labels), n_boot=self.n_boot, seed=ctx.seed,
                                       corpus=c, depth=best, **bd)
                    deltas.append(rec["value"])
                    rows.append(_rows(sets[c], preds[c][best], labels, corpus=c, condition="quantized", depth=best, **bd))
                    metrics += [rec, metric("macro_f1", M.macro_f1(ys[c], preds[c][best], lab), n=len(ys[c]),
                                            corpus=c, depth=best, condition="quantized", **bd)]
                bps = float(q.bits_per_frame(best)) * fr
                mean_delta = float(np.mean(deltas))
                metrics += [
                    metric("macro_f1_delta", mean_delta, std=float(np.std(deltas)), n=len(deltas), corpus="mean",
                           depth=best, **bd),
                    metric("bitrate", bps, depth=best, route_bits_per_utterance=float(np.log2(len(labels)))
                           if share > 0 else 0.0, **bd),
                    metric("selected_depth", best, unit="stages", direction="none", **bd),
                ]
                cells[method][layout] = (mean_delta, best, bps)
        notes = proto.notes + [
            f"every codebook trained on {n} utterances; depth chosen on the training corpora's test splits",
            *composition_notes(self.methods, n),
            "Table 1 (macro-F1 change over continuous, F1 x 100, averaged over OOD sets):",
            *table_lines(cells, self.layouts),
        ]
        return TaskOutput(
            metrics=metrics,
            protocol={"name": "rq4", "seed": ctx.seed, "layouts": self.layouts, "methods": self.methods,
                      "ood": sorted(proto.ood), "utterances_per_codebook": n,
                      "depth_selection": "max macro-F1 on the training corpora's test splits, ties to shallower",
                      "paper_table1_pp": PAPER_TABLE1, "splits": proto.splits.protocol},
            corpora_roles=proto.roles,
            predictions=pd.concat(rows, ignore_index=True),
            quantizer_info=quantizer_info(q, ctx, composition={"methods": self.methods}) | {"layout": "sweep"},
            probe_info={"name": ctx.config.probe, "params": ctx.config.probe_params, "trained_on": "continuous"},
            notes=notes,
        )

    def _fit(self, ctx, fs, plan, labels, method, share, n_stages, size, fit_params):
        layout = {"n_stages": n_stages, "codebook_size": size, **fit_params}
        tag = f"rq4-{method}-{n_stages}x{size}".replace("(", "").replace(")", "")
        if share == 0:
            return ctx.fit_quantizer(ctx.new_quantizer(self.balanced_name, **layout), fs, plan[method], tag=tag)
        kind = "specific" if share >= 1.0 else "biased"
        q = ctx.new_quantizer(**layout, composition=kind, target_share=float(share))
        return ctx.fit_quantizer(q, fs, {e: plan[f"{method}/{e}"] for e in labels}, tag=tag)

    @staticmethod
    def _predict(ctx, fs, q, probe, sets, pooled, depths, labels, *, routed: bool) -> dict:
        """set name -> depth -> predicted label indices."""
        if routed:
            return {k: routed_predictions(q, pooled[k], depths, labels) for k in sets}
        out = {}
        for k, utts in sets.items():
            sw = sweep_depths(ctx, fs, utts, q, probe, depths=depths)
            out[k] = {d: sw.probs[d].argmax(1) for d in depths}
        return out


def _rows(utts, pred, labels, **extra):
    import pandas as pd

    return pd.DataFrame({"utt_id": [u.id for u in utts], "speaker": [u.speaker for u in utts],
                         "label": [u.label for u in utts], "pred": [labels[i] for i in pred], **extra})

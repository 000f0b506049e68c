"""RQ4 (Emo-Q paper section 4.4, Table 1): downstream SER with routed quantization.

For each codebook layout (8x32 ... 128x2): ``bal`` (a balanced codebook; its reconstruction scored by
the classifier trained on continuous features), ``emoq-100`` and ``emoq-99`` (emotion codebooks trained
100+0 / 99+1; the zero-parameter Emo-Q route is the prediction). Each method's RVQ depth is chosen on the
training corpora's test splits (highest macro-F1, ties to the shallower depth) and applied unchanged to
every OOD test set. Reported per OOD corpus and averaged over them (``corpus=mean``, as Table 1): the
macro-F1 change over the classifier on continuous features (``macro_f1_delta``) and, for Emo-Q, over Bal
(``macro_f1_diff``), both with paired speaker-level intervals; the bitrate actually used (frame codes at
the chosen depth, plus Emo-Q's log2(E) route bits per utterance). Every codebook of a layout is trained on
the same number of utterances.
"""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
from annotated_types import Ge

from emobench.errors import EmobenchError
from emobench.tasks.base import Task, TaskOutput
from emobench.tasks.inputs import TaskInputs
from emobench.tasks.predictions import frame
from emobench.tasks.protocol import candidate_depths, ood_protocol, select_depth
from emobench.tasks.records import bootstrap_for, label_indices, rec
from emobench.tasks.records import f1 as _f1
from emobench.tasks.scoring import bitrate, mean_duration
from emobench.tasks.sweep import evaluate
from emobench.tasks.training import plan_codebooks

LAYOUTS = ("8x32", "8x64", "8x128", "32x2", "32x4", "64x2", "128x2")
OOD = ("msp-podcast", "emns", "enterface", "jl-corpus")


def parse_layout(layout: str) -> tuple[int, int]:
    try:
        n_stages, size = (int(x) for x in str(layout).lower().replace("×", "x").split("x"))
    except ValueError:
        raise EmobenchError(f"layout {layout!r} must look like STAGESxENTRIES, e.g. 8x32") from None
    if n_stages < 1 or size < 2:
        raise EmobenchError(f"layout {layout!r}: at least 1 stage of 2 entries")
    return n_stages, size


def predictions(ev, depth: int, book_labels: np.ndarray | None) -> np.ndarray:
    """Label indices at ``depth``: the Emo-Q route (mapped to label order) or the classifier's argmax."""
    if book_labels is not None:
        return book_labels[ev.route[depth]]
    return ev.probs[depth].argmax(1)


CHOSEN = ("depth",)  # the depth of every quantized record is chosen per training seed, not a condition


class RQ4(Task):
    name = "rq4"

    def __init__(self, *, layouts: tuple[str, ...] = LAYOUTS, ood: tuple[str, ...] = OOD,
                 ood_partition: dict[str, list[str]] | None = None,
                 fractions: tuple[float, float, float] = (0.5, 0.1, 0.4), n_train: Annotated[int, Ge(1)] | None = None,
                 max_candidates: Annotated[int, Ge(1)] = 32, n_boot: Annotated[int, Ge(1)] = 1000,
                 bootstrap: Literal["speaker", "utterance"] = "speaker", label_set: str | list[str] = "emo4"):
        for lay in layouts:
            parse_layout(lay)
        self.layouts, self.ood, self.fractions, self.n_train = list(layouts), tuple(ood), tuple(fractions), n_train
        self.ood_partition = {"msp-podcast": ["Test1"]} if ood_partition is None else dict(ood_partition)
        self.max_candidates, self.n_boot, self.bootstrap, self.label_set = max_candidates, n_boot, bootstrap, label_set

    def run(self, inputs: TaskInputs) -> TaskOutput:
        import pandas as pd

        labels, c = list(inputs.label_set), len(inputs.label_set)
        proto = ood_protocol(inputs, self.ood, self.fractions, task=self.name, ood_partition=self.ood_partition)
        roles = list(inputs.quantizers.roles)
        shares = {r: inputs.quantizers.share(r) for r in roles}
        plan, n, notes = plan_codebooks(inputs, proto.splits, labels, shares=shares, n_train=self.n_train, where="rq4")
        fs = inputs.features.get(proto.splits.fit_utts + proto.splits.val + proto.select
                                 + [u for v in proto.ood.values() for u in v])
        probe = inputs.probes.train(fs, proto.splits.train, proto.splits.val, labels)
        sets = {"select": [u for u in proto.select if u.id in fs],
                **{k: [u for u in v if u.id in fs] for k, v in proto.ood.items()}}
        ys = {k: label_indices(v, labels) for k, v in sets.items()}
        cont = {k: inputs.probes.proba(probe, fs, v).argmax(1) for k, v in sets.items()}
        boots = {k: bootstrap_for(v, kind=self.bootstrap, n_boot=self.n_boot, seed=inputs.seed)
                 for k, v in sets.items() if k != "select"}
        fr = float(inputs.upstream.frame_rate_hz)
        duration = float(np.mean([mean_duration(fs, v, fr) for k, v in sets.items() if k != "select"]))
        metrics = [rec("macro_f1", _f1(ys[k], cont[k], c), ci=boots[k].stat(ys[k], cont[k], c, "macro_f1"),
                       n=len(ys[k]), corpus=k, condition="continuous") for k in boots]
        preds = [frame(sets[k], labels, None, pred=cont[k], corpus=k, condition="continuous") for k in boots]
        metrics += self._mean_f1(ys, cont, boots, c, condition="continuous")
        for layout in self.layouts:
            n_stages, size = parse_layout(layout)
            chosen: dict[str, dict[str, np.ndarray]] = {}
            depth_of: dict[str, int] = {}
            for role in roles:
                q = inputs.quantizers.fit(role, fs, plan[role], layer=inputs.layer, label=f"{role} {layout}",
                                          overrides={"n_stages": n_stages, "codebook_size": size})
                book_labels = (np.array([labels.index(e) for e in q.emotions])
                               if inputs.quantizers.is_router(role) else None)
                bd = {"layout": layout, "role": role}
                depths = candidate_depths(q.depths, self.max_candidates)
                with inputs.timer("evaluate"):
                    sel = evaluate(q, fs, sets["select"], inputs.layer, probe=probe, depths=depths)
                curve = {d: _f1(ys["select"], predictions(sel, d, book_labels), c) for d in depths}
                best = select_depth(curve)
                metrics += [rec("macro_f1", v, n=len(ys["select"]), depth=d, condition="selection", **bd)
                            for d, v in curve.items()]
                chosen[role] = {}
                for k in boots:
                    with inputs.timer("evaluate"):
                        ev = evaluate(q, fs, sets[k], inputs.layer, probe=probe, depths=[best])
                    pred = chosen[role][k] = predictions(ev, best, book_labels)
                    at = {"corpus": k, "depth": best, "chosen": CHOSEN, **bd}
                    metrics.append(rec("macro_f1", _f1(ys[k], pred, c), ci=boots[k].stat(ys[k], pred, c, "macro_f1"),
                                       n=len(ys[k]), condition="quantized", **at))
                    metrics.append(rec("macro_f1_delta", _f1(ys[k], pred, c) - _f1(ys[k], cont[k], c),
                                       ci=boots[k].stat_diff(ys[k], pred, cont[k], c, "macro_f1"), n=len(ys[k]), **at))
                    if book_labels is not None:
                        hit = (pred == ys[k]).astype(np.float64)
                        metrics.append(rec("route_accuracy", hit.mean(), ci=boots[k].mean(hit), n=len(hit), **at))
                    preds.append(frame(sets[k], labels, None, pred=pred, corpus=k, condition="quantized", depth=best,
                                       **bd))
                metrics += self._mean_over_ood(ys, chosen[role], cont, boots, c, "macro_f1_delta", depth=best,
                                                chosen=CHOSEN, **bd)
                metrics += self._mean_f1(ys, chosen[role], boots, c, condition="quantized", depth=best, chosen=CHOSEN,
                                         **bd)
                metrics.append(rec("bitrate", bitrate(inputs.quantizers.fitted[-1], best, fr, duration), depth=best,
                                   corpus="mean", chosen=CHOSEN, **bd))
                metrics.append(rec("selected_depth", best, **bd))
                depth_of[role] = best
            bal = next((r for r in roles if not inputs.quantizers.is_router(r)), None)
            for role in [r for r in roles if r != bal and bal is not None]:
                bd = {"layout": layout, "role": role, "depth": depth_of[role], "chosen": CHOSEN}
                for k in boots:
                    a, b = chosen[role][k], chosen[bal][k]
                    metrics.append(rec("macro_f1_diff", _f1(ys[k], a, c) - _f1(ys[k], b, c),
                                       ci=boots[k].stat_diff(ys[k], a, b, c, "macro_f1"), n=len(ys[k]), corpus=k, **bd))
                metrics += self._mean_over_ood(ys, chosen[role], chosen[bal], boots, c, "macro_f1_diff", **bd)
        notes = proto.notes + notes + [
            f"every codebook trained on {n} utterances; depth chosen on the training corpora's test splits",
            "macro_f1_delta and macro_f1_diff are fractions (x100 = the paper's percentage points)"]
        return TaskOutput(
            metrics=metrics,
            protocol={"name": "rq4", "layouts": self.layouts, "ood": sorted(proto.ood), "utterances_per_codebook": n,
                      "depth_selection": "max macro-F1 on the training corpora's test splits, ties to shallower",
                      "bootstrap": self.bootstrap, "splits": proto.splits.protocol},
            corpora_roles=proto.roles,
            predictions=pd.concat(preds, ignore_index=True),
            notes=notes,
        )

    @staticmethod
    def _mean_f1(ys, pred: dict, boots, c: int, **bd) -> list[dict]:
        """Macro-F1 averaged over the OOD corpora (corpus=mean: what Table 1's deltas are taken from), its
        interval from independent per-corpus resamples, the spread between corpora (std)."""
        per = [_f1(ys[k], pred[k], c) for k in boots]
        resampled = np.mean([boots[k].resampled_stat(ys[k], pred[k], c, "macro_f1") for k in boots], 0)
        first = next(iter(boots.values()))
        return [rec("macro_f1", float(np.mean(per)), ci=first.interval(resampled), std=float(np.std(per)), n=len(per),
                    corpus="mean", **bd)]

    @staticmethod
    def _mean_over_ood(ys, pred: dict, other: dict, boots, c: int, name: str, **bd) -> list[dict]:
        """The mean over OOD corpora of a paired macro-F1 difference, its interval from independent
        per-corpus resamples, and the spread between corpora (std)."""
        per = [_f1(ys[k], pred[k], c) - _f1(ys[k], other[k], c) for k in boots]
        resampled = np.mean([boots[k].resampled_stat_diff(ys[k], pred[k], other[k], c, "macro_f1") for k in boots], 0)
        first = next(iter(boots.values()))
        return [rec(name, float(np.mean(per)), ci=first.interval(resampled), std=float(np.std(per)), n=len(per),
                    corpus="mean", **bd)]


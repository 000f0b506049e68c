"""Out-of-domain SER (Emo-Q paper sections 3.1 and 4.4): macro-F1 of upstream x quantizer x classifier on
corpora never used for fitting.

Protocol: the training corpora (every loaded corpus not named in ``ood``) are split 50/10/40; the
``system`` codebook and the classifier are fitted on their train parts (classifier selected on val). The
RVQ depth is chosen on the training corpora's test splits (highest macro-F1, ties to the shallower, i.e.
cheaper, depth) and applied unchanged to each OOD corpus; every depth's OOD macro-F1 is reported too, with
the continuous baseline and the paired change over it. A routing quantizer (Emo-Q) is scored both ways:
``scoring=probe`` (its reconstruction through the classifier) and ``scoring=route`` (the route itself).
With no OOD corpus loaded (e.g. the embedded demo), half of the held-out test speakers stand in for one,
and the result says so.
"""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
from annotated_types import Ge

from emobench.tasks.base import Task, TaskOutput
from emobench.tasks.inputs import TaskInputs
from emobench.tasks.predictions import frame
from emobench.tasks.protocol import candidate_depths, ood_protocol, select_depth
from emobench.tasks.records import bootstrap_for, label_indices, rec
from emobench.tasks.records import f1 as _f1
from emobench.tasks.scoring import bitrate, mean_duration
from emobench.tasks.sweep import evaluate
from emobench.tasks.training import balanced, plan_codebooks

OOD = ("msp-podcast", "emns", "enterface", "jl-corpus")


class OODSER(Task):
    name = "ood-ser"

    def __init__(self, *, ood: tuple[str, ...] = OOD, ood_partition: dict[str, list[str]] | None = None,
                 fractions: tuple[float, float, float] = (0.5, 0.1, 0.4), max_candidates: Annotated[int, Ge(1)] = 32,
                 n_boot: Annotated[int, Ge(1)] = 1000, bootstrap: Literal["speaker", "utterance"] = "speaker",
                 label_set: str | list[str] = "emo4"):
        self.ood, self.fractions, self.max_candidates = tuple(ood), tuple(fractions), max_candidates
        self.ood_partition = {"msp-podcast": ["Test1"]} if ood_partition is None else dict(ood_partition)
        self.n_boot, self.bootstrap, self.label_set = n_boot, bootstrap, label_set

    def run(self, inputs: TaskInputs) -> TaskOutput:
        import pandas as pd

        labels, c = list(inputs.label_set), len(inputs.label_set)
        proto = ood_protocol(inputs, self.ood, self.fractions, task=self.name, ood_partition=self.ood_partition)
        router = inputs.quantizers.is_router("system")
        notes = list(proto.notes)
        if router:
            share = inputs.quantizers.share("system")
            plan, _, extra = plan_codebooks(inputs, proto.splits, labels, shares={"system": share}, n_train=None,
                                            where=self.name)
            train, notes = plan["system"], notes + extra
        else:
            train = balanced(inputs, proto.splits, labels)
        fs = inputs.features.get(proto.splits.fit_utts + proto.splits.val + proto.select
                                 + [u for v in proto.ood.values() for u in v])
        q = inputs.quantizers.fit("system", fs, train, layer=inputs.layer)
        fit = inputs.quantizers.fitted[-1]
        probe = inputs.probes.train(fs, proto.splits.train, proto.splits.val, labels)
        depths = candidate_depths(q.depths, self.max_candidates)
        book_labels = np.array([labels.index(e) for e in q.emotions]) if router else None
        sets = {"select": [u for u in proto.select if u.id in fs],
                **{k: [u for u in v if u.id in fs] for k, v in proto.ood.items()}}
        scorings = ["probe"] + (["route"] if router else [])
        evs = {}
        with inputs.timer("evaluate"):
            for k, utts in sets.items():
                evs[k] = evaluate(q, fs, utts, inputs.layer, probe=probe, depths=depths, progress=inputs.progress)

        def pred(k: str, d: int, scoring: str) -> np.ndarray:
            return book_labels[evs[k].route[d]] if scoring == "route" else evs[k].probs[d].argmax(1)

        ys = {k: label_indices(v, labels) for k, v in sets.items()}
        best = {s: select_depth({d: _f1(ys["select"], pred("select", d, s), c) for d in depths}) for s in scorings}
        metrics = [rec("macro_f1", _f1(ys["select"], pred("select", d, s), c), n=len(ys["select"]), depth=d,
                       condition="selection", scoring=s) for s in scorings for d in depths]
        fr = float(inputs.upstream.frame_rate_hz)
        preds = []
        for k in [k for k in sets if k != "select"]:
            boot = bootstrap_for(sets[k], kind=self.bootstrap, n_boot=self.n_boot, seed=inputs.seed)
            cont = inputs.probes.proba(probe, fs, sets[k]).argmax(1)
            metrics.append(rec("macro_f1", _f1(ys[k], cont, c), ci=boot.stat(ys[k], cont, c, "macro_f1"),
                               n=len(ys[k]), corpus=k, condition="continuous"))
            preds.append(frame(sets[k], labels, None, pred=cont, corpus=k, condition="continuous"))
            for s in scorings:
                for d in depths:
                    p = pred(k, d, s)
                    at = {"corpus": k, "depth": d, "scoring": s, "role": "system"}
                    metrics.append(rec("macro_f1", _f1(ys[k], p, c), ci=boot.stat(ys[k], p, c, "macro_f1"),
                                       n=len(ys[k]), condition="quantized", **at))
                    if d == best[s]:
                        metrics.append(rec("macro_f1_delta", _f1(ys[k], p, c) - _f1(ys[k], cont, c),
                                           ci=boot.stat_diff(ys[k], p, cont, c, "macro_f1"), n=len(ys[k]),
                                           selected="cv", chosen=("depth",), **at))
                        preds.append(frame(sets[k], labels, None, pred=p, condition="quantized", **at))
            metrics += [rec("bitrate", bitrate(fit, d, fr, mean_duration(fs, sets[k], fr)), depth=d, corpus=k,
                            role="system") for d in depths]
        metrics += [rec("selected_depth", best[s], scoring=s, role="system") for s in scorings]
        return TaskOutput(
            metrics=metrics,
            protocol={"name": "ood-ser", "ood": sorted(proto.ood), "selected_depth": best, "bootstrap": self.bootstrap,
                      "depth_selection": "max macro-F1 on the training corpora's test splits, ties to shallower",
                      "splits": proto.splits.protocol},
            corpora_roles=proto.roles,
            predictions=pd.concat(preds, ignore_index=True),
            notes=notes,
        )


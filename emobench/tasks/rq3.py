"""RQ3 (Emo-Q paper section 4.3, Figure 5): do emotion-aware codebooks preserve soft emotion distributions?

A soft-labelled corpus (IEMOCAP: annotator votes) is held out entirely; codebooks and the classifier are
trained on the other corpora. Its test population is every utterance with votes in the label set,
including those without an agreed label (IEMOCAP ``xxx``: the paper's high-ambiguity cases). Strata
follow the paper: low ambiguity = the primary emotion's share of ALL votes (before restricting them to
the label set) is above 50%, high = no majority. For the balanced codebook and each emotion-aware scheme
(100+0, 95+5, 99+1; every codebook trained on the same number of utterances) and every depth, the
classifier's softmax on the reconstruction is compared with the annotators' distribution over the label
set: Jensen-Shannon divergence (bits) and top-2 set accuracy (ties scored as expected values).

Which emotion codebook quantizes an utterance: ``routing="oracle"`` takes the codebook of its primary
voted emotion (the paper's matched setting; needs the label), ``routing="emoq"`` the Emo-Q route (no
label). Both are reported, labelled; every scheme gets paired differences against the balanced codebook.
"""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
from annotated_types import Ge

from emobench.errors import EmobenchError
from emobench.tasks.base import Task, TaskOutput
from emobench.tasks.inputs import TaskInputs
from emobench.tasks.predictions import frame
from emobench.tasks.records import bootstrap_for, rec
from emobench.tasks.scoring import bitrate, mean_duration
from emobench.tasks.sweep import evaluate, routed_probs
from emobench.tasks.training import plan_codebooks

STRATA = ("all", "low", "high")


def soft_records(p_pred: np.ndarray, p_true: np.ndarray, strata: np.ndarray, boot, *, base: dict | None = None,
                 **bd) -> list[dict]:
    """js_divergence and top2_accuracy per stratum; with ``base`` (the balanced codebook's per-item values)
    also their paired differences ``*_diff``."""
    from emobench import metrics as M

    values = {"js_divergence": M.js_divergence(p_pred, p_true), "top2_accuracy": M.top2_set_accuracy(p_pred, p_true)}
    out = []
    for stratum in STRATA:
        sel = np.ones(len(strata), bool) if stratum == "all" else strata == stratum
        if not sel.any():
            continue
        for name, v in values.items():
            out.append(rec(name, v[sel].mean(), ci=boot.mean(v, sel), n=int(sel.sum()), stratum=stratum, **bd))
            if base is not None:
                d = v - base[name]
                out.append(rec(f"{name}_diff", d[sel].mean(), ci=boot.mean(d, sel), n=int(sel.sum()),
                               stratum=stratum, **bd))
    return out, values


class RQ3(Task):
    name = "rq3"

    def __init__(self, *, held_out: str = "iemocap", fractions: tuple[float, float, float] = (0.5, 0.1, 0.4),
                 n_train: Annotated[int, Ge(1)] | None = None, n_boot: Annotated[int, Ge(1)] = 1000,
                 bootstrap: Literal["speaker", "utterance"] = "speaker",
                 routing: tuple[Literal["oracle", "emoq"], ...] = ("oracle", "emoq"),
                 label_set: str | list[str] = "emo4"):
        if not routing:
            raise EmobenchError("rq3: routing needs at least one of oracle, emoq")
        self.held_out, self.fractions, self.n_train = held_out, tuple(fractions), n_train
        self.n_boot, self.bootstrap, self.routing, self.label_set = n_boot, bootstrap, tuple(routing), label_set

    def held_out_name(self, corpora) -> str:
        if self.held_out in corpora:
            return self.held_out
        if len(corpora) == 1:
            return next(iter(corpora))
        raise EmobenchError(f"rq3 holds out {self.held_out!r}, which is not among the loaded corpora "
                            f"({', '.join(corpora)}); add it with -c {self.held_out}=PATH or choose another with "
                            "-T held_out=NAME")

    def check(self, corpora) -> None:
        super().check(corpora)
        name = self.held_out_name(corpora)
        corpus = corpora[name]
        if not any(u.soft_label for u in corpus.utterances + corpus.unlabelled):
            raise EmobenchError(f"rq3 needs soft labels (annotator votes) on the held-out corpus, but {name!r} has "
                                "none; hold out IEMOCAP, CREMA-D, MSP-Podcast or the demo corpus (-T held_out=NAME)")

    def run(self, inputs: TaskInputs) -> TaskOutput:
        import pandas as pd

        from emobench import splits as sp

        labels = list(inputs.label_set)
        held = self.held_out_name(inputs.corpora)
        corpus = inputs.corpora[held]
        notes = []
        if len(inputs.corpora) > 1:
            splits = sp.held_out_corpus([u for c in inputs.corpora.values() for u in c.utterances], held_out=held,
                                        seed=inputs.seed, fractions=self.fractions)
            population = [u for u in splits.test + corpus.unlabelled if u.soft_label]
        else:
            splits = sp.stratified(corpus.utterances, seed=inputs.seed, fractions=self.fractions)
            population = [u for u in splits.test if u.soft_label] + [u for u in corpus.unlabelled if u.soft_label]
            notes.append(f"{held}: the only corpus, so it was split 50/10/40 and its test split (plus its "
                         "no-agreement utterances) evaluated; the paper holds the soft-labelled corpus out entirely")
        splits.check()
        sp.check_disjoint(splits.fit_utts, population, by_speaker=False)
        from emobench.tasks.protocol import limited

        splits = limited(inputs, splits)
        shares = {r: inputs.quantizers.share(r) for r in inputs.quantizers.roles}
        plan, n, extra = plan_codebooks(inputs, splits, labels, shares=shares, n_train=self.n_train, where="rq3")
        notes += extra
        test_all = inputs.limited(population)
        fs = inputs.features.get(splits.codebook_train + splits.train + splits.val + test_all)
        test = [u for u in test_all if u.id in fs]
        if not test:
            raise EmobenchError(f"rq3: no soft-labelled utterance of {held!r} survived feature extraction")
        p_true = np.array([u.soft_label for u in test], dtype=np.float64)
        primary = p_true.argmax(1)  # the oracle's codebook: the primary voted emotion (ties: label order)
        strata = np.array([sp.stratum_of(u) for u in test])
        boot = bootstrap_for(test, kind=self.bootstrap, n_boot=self.n_boot, seed=inputs.seed)
        probe = inputs.probes.train(fs, splits.train, splits.val, labels)
        cont = inputs.probes.proba(probe, fs, test)
        bd = {"corpus": held}
        metrics, _ = soft_records(cont, p_true, strata, boot, condition="continuous", **bd)
        preds = [frame(test, labels, cont, condition="continuous", stratum=strata)]
        q_bal = inputs.quantizers.fit("balanced", fs, plan["balanced"], layer=inputs.layer)
        with inputs.timer("evaluate"):
            bal = evaluate(q_bal, fs, test, inputs.layer, probe=probe, progress=inputs.progress)
        base = {}
        fr = float(inputs.upstream.frame_rate_hz)
        duration = mean_duration(fs, test, fr)  # an Emo-Q route's bits are sent once per utterance
        for d in bal.depths:
            recs, base[d] = soft_records(bal.probs[d], p_true, strata, boot, depth=d, role="balanced", **bd)
            metrics += recs
            metrics.append(rec("bitrate", q_bal.bits_per_frame(d) * fr, depth=d, role="balanced", **bd))
            preds.append(frame(test, labels, bal.probs[d], role="balanced", depth=d, stratum=strata))
        for role in [r for r in inputs.quantizers.roles if r != "balanced"]:
            q = inputs.quantizers.fit(role, fs, plan[role], layer=inputs.layer)
            fit = inputs.quantizers.fitted[-1]
            with inputs.timer("evaluate"):
                ev = evaluate(q, fs, test, inputs.layer, probe=probe, depths=bal.depths, progress=inputs.progress)
            order = {e: i for i, e in enumerate(ev.books)}
            oracle = np.array([order[labels[i]] for i in primary])
            for d in bal.depths:
                for routing in self.routing:
                    choice = oracle if routing == "oracle" else ev.route[d]
                    probs = routed_probs(ev.books, d, choice)
                    recs, _ = soft_records(probs, p_true, strata, boot, base=base[d], depth=d, role=role,
                                           routing=routing, **bd)
                    metrics += recs
                    sent = bitrate(fit, d, fr, duration) if routing == "emoq" else q.bits_per_frame(d) * fr
                    metrics.append(rec("bitrate", sent, depth=d, role=role, routing=routing, **bd))  # oracle: no route
                    if routing == "emoq":
                        hit = (choice == oracle).astype(np.float64)
                        metrics.append(rec("route_accuracy", hit.mean(), ci=boot.mean(hit), n=len(hit), depth=d,
                                           role=role, **bd))
                    preds.append(frame(test, labels, probs, role=role, routing=routing, depth=d, stratum=strata))
        counts = {s: int((strata == s).sum()) for s in ("low", "high")}
        n_unl = sum(u.label is None for u in test)
        notes += [f"{held}: {len(test)} soft-labelled test utterances ({counts['low']} low-, {counts['high']} "
                  f"high-ambiguity; {n_unl} without an agreed label); every codebook trained on {n} utterances",
                  "strata from the primary emotion's share of all votes; JS divergence in bits (log base 2); top-2 "
                  "ties scored as the expected value over tied orderings",
                  f"emotion codebooks routed by: {', '.join(self.routing)} (oracle = the primary voted emotion's codebook)"]
        return TaskOutput(
            metrics=metrics,
            protocol={"name": "rq3", "held_out": held, "routing": list(self.routing), "utterances_per_codebook": n,
                      "bootstrap": self.bootstrap, "splits": splits.protocol, "strata": counts},
            corpora_roles={c: ("held-out" if c == held and len(inputs.corpora) > 1 else
                               "train+eval" if c == held else "train") for c in inputs.corpora},
            predictions=pd.concat(preds, ignore_index=True),
            notes=notes,
        )

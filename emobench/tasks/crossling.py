"""crossling-ser: speech emotion recognition in many languages with frozen upstreams and three probe
families (D'Asaro et al., "Using Large Speech Models for Feature Extraction in Cross-Lingual Speech
Emotion Recognition", CLiC-it 2024), and what quantization does to it per language.

The paper's protocol (section 4.1): per corpus, a speaker-independent split stratified by emotion, 80/10/10;
each corpus with its own full label set (``label_set=full``); the probe (``--probe crossling-linear``,
``crossling-nonlinear`` or ``crossling-multilayer``: the paper's Linear, Non-Linear and Multi-Layer
classifiers) trained on the continuous features of the train part, selected on val; macro-F1 on test per
corpus (Table 3) and averaged over the corpora (``corpus=mean``, Table 2). The Multi-Layer probe's learned
layer weights are reported per corpus and averaged (``layer_weight``, Figure 2). One run per (upstream,
probe, corpus set). The weight-free floor of every table is the same run with ``-u fbank``.

Beyond the paper: the ``system`` quantizer (``quantize=false`` skips it) is fitted on the train parts,
one codebook for every corpus (``codebook_protocol=shared``, the default: one tokenizer for all
languages; ``codebook_data=balanced``: every emotion equally often within each corpus), one per corpus, or
leave-one-corpus-out; the probe scores its reconstructions at every RVQ depth (macro-F1 and its paired
change, per corpus with its ``language``), with fidelity and bitrate.
Controls: speaker identity (per corpus, on held-out utterances of the train speakers) and language
identity (across corpora, on the test parts) probed with the same probe on the same continuous and
reconstructed features, so a token that keeps the speaker but loses the emotion is told apart from one
that loses both. Intervals: speaker-level cluster bootstrap; means over corpora weigh corpora equally.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

import numpy as np
from annotated_types import Ge

from emobench.errors import EmobenchError
from emobench.tasks.base import Task, TaskOutput
from emobench.tasks.crossling_protocol import CorpusPlan, codebook_groups, language_parts, plan_corpus
from emobench.tasks.crossling_records import (
    Scored,
    control_records,
    emotion_delta_records,
    emotion_records,
    mean_records,
)
from emobench.tasks.inputs import TaskInputs
from emobench.tasks.probe_feed import layer_weight_records
from emobench.tasks.records import bootstrap_for, label_indices
from emobench.tasks.scoring import depth_records, mean_duration
from emobench.tasks.sweep import evaluate

Fractions = tuple[float, float, float]


class CrosslingSER(Task):
    name = "crossling-ser"
    probe_inputs: ClassVar[tuple[str, ...]] = ("pooled", "frames", "layers")  # resolve lets these probes through

    def __init__(self, *, split: str = "speaker_independent", split_params: dict | None = None,
                 fractions: Fractions = (0.8, 0.1, 0.1), label_set: str | list[str] = "full", quantize: bool = True,
                 codebook_protocol: Literal["shared", "within", "loco"] = "shared",
                 codebook_data: Literal["all", "balanced"] = "all",
                 controls: tuple[Literal["speaker", "language"], ...] = ("speaker", "language"),
                 control_fractions: Fractions = (0.8, 0.1, 0.1), n_boot: Annotated[int, Ge(1)] = 1000,
                 bootstrap: Literal["speaker", "utterance"] = "speaker"):
        self.split, self.split_params, self.fractions = split, dict(split_params or {}), tuple(fractions)
        self.label_set, self.quantize, self.codebook_protocol = label_set, quantize, codebook_protocol
        self.codebook_data, self.controls, self.control_fractions = codebook_data, tuple(controls), control_fractions
        self.n_boot, self.bootstrap = n_boot, bootstrap

    def run(self, inputs: TaskInputs) -> TaskOutput:
        import pandas as pd

        plans = {c: plan_corpus(inputs, corpus, split=self.split, split_params=self.split_params,
                                fractions=self.fractions, speaker_control="speaker" in self.controls,
                                control_fractions=self.control_fractions) for c, corpus in inputs.corpora.items()}
        languages, lang_parts, notes = language_parts(plans) if "language" in self.controls else ([], {}, [])
        groups, used, extra = codebook_groups(inputs, plans, protocol=self.codebook_protocol,
                                              data=self.codebook_data) if self.quantize else ({}, {}, [])
        notes += extra
        fs = inputs.features.get([u for p in plans.values() for u in p.splits.train + p.splits.val + p.splits.test])
        quantizers = self._fit(inputs, fs, groups, notes)
        lang_probe = (inputs.probes.train(fs, lang_parts["train"], [u for u in lang_parts["val"] if u.label in languages],
                                          languages) if languages else None)
        metrics, preds, scored, weights = [], [], {"emotion": {}, "speaker": {}, "language": {}}, {}
        for c, plan in plans.items():
            q, fit = quantizers.get(used.get(c), (None, None))
            recs, pred = self._corpus(inputs, fs, plan, q, fit, lang_probe, languages, scored, weights)
            metrics += recs
            preds.append(pred)
        metrics += mean_records(scored["emotion"], scored["speaker"], scored["language"], weights)
        pair = f"{inputs.upstream.name}/{inputs.probes.name}"  # the column of the paper's tables (paper_table)
        for m in metrics:
            m["breakdown"]["upstream_probe"] = pair
        if inputs.probes.input in ("layers", "layer-frames") and self.quantize:
            notes.append(inputs.probes.feed().describe()["quantization"])
        notes.append("macro_f1 and the accuracies are fractions (x100 = the paper's percentages); each corpus is "
                     "scored on its own label set; corpus=mean weighs the corpora equally (the paper's Table 2)")
        return TaskOutput(
            metrics=metrics,
            protocol=self._protocol(plans, languages, lang_parts, used),
            corpora_roles={c: "train+eval" for c in plans},
            predictions=pd.concat(preds, ignore_index=True),
            notes=list(dict.fromkeys(notes)),
        )

    def _corpus(self, inputs: TaskInputs, fs, plan: CorpusPlan, q, fit, lang_probe, languages: list[str],
                scored: dict, weights: dict):
        """One corpus: its emotion probe on continuous and reconstructed test features, the language probe on
        the same features, the speaker control; records and the predictions table."""
        from emobench.tasks.predictions import depth_frame, frame

        c, fr = plan.name, float(inputs.upstream.frame_rate_hz)
        bd = {"corpus": c, "language": plan.language}
        probe = inputs.probes.train(fs, plan.splits.train, plan.splits.val, plan.labels)
        test = [u for u in plan.splits.test if u.id in fs]
        boot = bootstrap_for(test, kind=self.bootstrap, n_boot=self.n_boot, seed=inputs.seed)
        lang_ok = lang_probe is not None and all(u.meta.get("language") in languages for u in test)
        cont = inputs.probes.proba(probe, fs, test)
        ev = None
        if q is not None:
            with inputs.timer("evaluate"):
                ev = evaluate(q, fs, test, inputs.layer, probe=probe, extra={"language": lang_probe} if lang_ok else {},
                              progress=inputs.progress)
        y = label_indices(test, plan.labels)
        s = Scored(y, cont.argmax(1), {d: ev.probs[d].argmax(1) for d in ev.depths} if ev else {}, len(plan.labels),
                   boot)
        scored["emotion"][c] = s
        metrics = emotion_records(s, plan.labels, **bd)
        if ev is not None:
            metrics += depth_records(ev, y, s.cont, plan.labels, boot, fit=fit, frame_rate_hz=fr,
                                     duration_s=mean_duration(fs, test, fr), confusion=False, role="system", **bd)
            metrics += emotion_delta_records(s, **bd)
        layer_w = layer_weight_records(probe, **bd)
        metrics += layer_w
        if layer_w:
            weights[c] = {r["breakdown"]["layer"]: r["value"] for r in layer_w}
        if lang_ok:
            lang = Scored(np.array([languages.index(u.meta["language"]) for u in test], dtype=np.int64),
                          inputs.probes.proba(lang_probe, fs, test).argmax(1),
                          {d: v.argmax(1) for d, v in ev.extra_probs["language"].items()} if ev else {},
                          len(languages), boot)
            scored["language"][c] = lang
            metrics += control_records("language_accuracy", lang, **bd)
        metrics += self._speaker(inputs, fs, plan, q, scored, **bd)
        pred = (depth_frame(test, plan.labels, cont, ev, corpus=c) if ev is not None
                else frame(test, plan.labels, cont, condition="continuous", corpus=c))
        return metrics, pred

    def _fit(self, inputs: TaskInputs, fs, groups: dict, notes: list[str]) -> dict:
        """One fitted quantizer (and its record) per codebook group."""
        from emobench.tasks.training import plan_codebooks

        out = {}
        for g, utts in groups.items():
            train = [u for u in utts if u.id in fs]
            if inputs.quantizers.is_router("system"):
                from emobench import splits as sp

                labels = sorted({u.label for u in train})
                pool = sp.Splits(train=train, val=[], test=[], protocol={})
                plan, _, extra = plan_codebooks(inputs, pool, labels, shares={"system": inputs.quantizers.share("system")},
                                                n_train=None, where=f"crossling-ser codebook {g}")
                train = plan["system"]
                notes.extend(extra)
            if not train:
                raise EmobenchError(f"crossling-ser: codebook {g!r} has no training data")
            q = inputs.quantizers.fit("system", fs, train, layer=inputs.layer, label=f"system ({g})")
            out[g] = (q, inputs.quantizers.fitted[-1])
        return out

    def _speaker(self, inputs: TaskInputs, fs, plan: CorpusPlan, q, scored: dict, **bd) -> list[dict]:
        """Speaker identity on the held-out utterances of the train speakers, continuous and per depth."""
        parts = plan.speaker_parts
        test = [u for u in parts.get("test", []) if u.id in fs]
        if not plan.speakers or not test:
            return []
        probe = inputs.probes.train(fs, parts["train"], parts["val"], plan.speakers)
        boot = bootstrap_for(test, kind=self.bootstrap, n_boot=self.n_boot, seed=inputs.seed)
        ev = None
        if q is not None:
            with inputs.timer("evaluate"):
                ev = evaluate(q, fs, test, inputs.layer, probe=probe, progress=inputs.progress)
        s = Scored(label_indices(test, plan.speakers), inputs.probes.proba(probe, fs, test).argmax(1),
                   {d: ev.probs[d].argmax(1) for d in ev.depths} if ev else {}, len(plan.speakers), boot)
        scored["speaker"][plan.name] = s
        return control_records("speaker_accuracy", s, **bd)

    def _protocol(self, plans: dict[str, CorpusPlan], languages, lang_parts, used) -> dict:
        per = {}
        for c, p in plans.items():
            per[c] = {**p.splits.protocol, "language": p.language, "labels": p.labels,
                      "speaker_control": {"speakers": len(p.speakers),
                                          "sizes": {k: len(v) for k, v in p.speaker_parts.items()}},
                      "codebook": used.get(c)}
        return {"name": "crossling-ser", "split": self.split, "fractions": list(self.fractions),
                "label_set": self.label_set, "quantize": self.quantize, "codebook_protocol": self.codebook_protocol,
                "codebook_data": self.codebook_data, "controls": list(self.controls), "bootstrap": self.bootstrap,
                "languages": languages, "language_control": {k: len(v) for k, v in lang_parts.items()},
                "per_corpus": per}

"""HYFuse (Phukan et al. 2025, section 4, Tables 1-2): SER from two frozen representations, fused.

Any two upstreams: ``rlr`` (a representation-learning model: wav2vec 2.0, WavLM, x-vector...) and
``cbr`` (a neural codec's encoder output: EnCodec, DAC...), each with ``<param>_params`` (spec
overrides such as ``{model: DIR}``) and ``<param>_layer``; features come from the shared cache. ``rlr``
unset means the run's own ``-u`` upstream (at ``--layer``), so ``-u wavlm -T cbr=encodec`` and
``-T rlr=wavlm -T cbr=encodec`` fuse the same pair; with ``rlr`` named, ``-u`` is not used.

Protocol (section 4.1): k-fold cross-validation (k = 5) over each corpus with all its classes (CREMA-D
6, EmoDB 7: ``label_set``); a model is trained on k - 1 folds (``val_fraction`` of them held out for
early stopping, which the paper uses without saying on what) and tested on the last; accuracy,
macro-F1 and UAR per fold and as mean and sd over folds. The paper's folds are not speaker-independent;
``speaker_independent=true`` keeps every speaker within one fold.

Models (``models``): ``hyfuse`` (Möbius addition in the Poincaré ball) and ``concat`` on the pair, the
single-representation ``cnn`` and ``fcn`` baselines (Table 1) on each input alone; all trained as the
paper (Adam, lr 1e-5, batch 32, 50 epochs, early stopping; ``model_params`` overrides, e.g. epochs).
They are task settings, not the run's ``--probe``: they take two inputs, and the paper's comparisons
(HYFuse vs Concat, fusion vs each input) are paired on the same folds only inside one run. HYFuse minus
Concat is reported as ``accuracy_diff`` / ``macro_f1_diff`` (``comparison=hyfuse-concat``).

Pooling (``pooling``): ``paper`` reads a codec upstream as the paper's CBR, the mean over its latent
channels of every frame (EnCodec's "375" = 75 Hz x 5 s), one value per frame up to the corpus' longest
clip (frames past a clip's end zero-filled, or encoded as the paper does when the codec upstream pads
with ``pad_to_s``); other upstreams are mean-pooled over time. ``paper_cbr`` says which inputs are
CBRs: ``auto`` the neural-codec upstreams, or ``rlr`` / ``cbr`` / ``both`` / ``none`` (a Soundstream
exported as ``precomputed`` frames is a CBR the harness cannot recognise). ``masked`` mean-pools every
upstream over each clip's own frames. ``both`` runs both on the same folds and reports paper minus
masked (``comparison=paper-masked``). ``--limit N`` keeps N utterances of each corpus (every emotion).
"""

from __future__ import annotations

import math
import time
from typing import Annotated, Any, Literal

import numpy as np
from annotated_types import Ge, Lt

from emobench import splits as sp
from emobench.corpora.labels import CANONICAL
from emobench.errors import EmobenchError
from emobench.tasks.base import Task, TaskOutput
from emobench.tasks.cv import Fold, fold_diff_records, fold_records
from emobench.tasks.inputs import TaskInputs
from emobench.tasks.predictions import frame
from emobench.tasks.records import bootstrap_for, label_indices

# model -> (probe name in the catalogue, class path, inputs it is trained on)
MODELS = {
    "hyfuse": ("hyfuse", "emobench.probes.hyfuse:HYFuseProbe", ("rlr+cbr",)),
    "concat": ("concat-fusion", "emobench.probes.hyfuse:ConcatFusionProbe", ("rlr+cbr",)),
    "cnn": ("cnn", "emobench.probes.cnn:CNNProbe", ("rlr", "cbr")),
    "fcn": ("fcn", "emobench.probes.cnn:FCNProbe", ("rlr", "cbr")),
}
FUSION_ONLY = ("kappa",)  # model_params only the fusion models take
PAPER_LABEL_SETS = {"crema-d": "crema6", "emodb": "emodb7"}
Model = Literal["hyfuse", "concat", "cnn", "fcn"]


def _cls(path: str):
    import importlib

    module, _, attr = path.partition(":")
    return getattr(importlib.import_module(module), attr)


class HYFuse(Task):
    probe_inputs = ()  # its fusion models are task params (models=...), not the run's --probe
    name = "hyfuse"

    def __init__(self, *, rlr: str | None = None, rlr_params: dict | None = None,
                 rlr_layer: Annotated[int, Ge(0)] | None = None, cbr: str = "encodec", cbr_params: dict | None = None,
                 cbr_layer: Annotated[int, Ge(0)] | None = None, models: tuple[Model, ...] = ("hyfuse", "concat"),
                 model_params: dict[str, Any] | None = None, pooling: Literal["paper", "masked", "both"] = "paper",
                 paper_cbr: Literal["auto", "rlr", "cbr", "both", "none"] = "auto",
                 k: Annotated[int, Ge(2)] = 5, speaker_independent: bool = False,
                 val_fraction: Annotated[float, Ge(0), Lt(1)] = 0.1, n_boot: Annotated[int, Ge(1)] = 1000,
                 bootstrap: Literal["speaker", "utterance"] = "speaker", label_set: str | list[str] = "crema6"):
        if rlr is None and (rlr_params or rlr_layer is not None):
            raise EmobenchError("hyfuse: rlr_params / rlr_layer need rlr=NAME; with rlr unset the RLR is the run's "
                                "-u upstream (set it with -U and --layer)")
        if not models:
            raise EmobenchError("hyfuse: models is empty; choose from hyfuse, concat, cnn, fcn")
        self.rlr, self.cbr, self.models = rlr, cbr, list(dict.fromkeys(models))
        self.model_params = dict(model_params or {})
        for m in self.models:  # unknown keys or bad values fail now, before any extraction
            _cls(MODELS[m][1])(**self._params(m))
        self.poolings = ["paper", "masked"] if pooling == "both" else [pooling]
        self.paper_cbr = paper_cbr
        self.k, self.speaker_independent, self.val_fraction = k, speaker_independent, float(val_fraction)
        self.n_boot, self.bootstrap, self.label_set = n_boot, bootstrap, label_set
        self.min_utterances_per_label = k

    def _params(self, model: str) -> dict[str, Any]:
        fusion = MODELS[model][2] == ("rlr+cbr",)
        return {k: v for k, v in self.model_params.items() if fusion or k not in FUSION_ONLY}

    def check(self, corpora) -> None:
        for c in corpora.values():
            dropped = {e: n for e, n in c.dropped.items() if e in CANONICAL}
            absent = [e for e in c.label_set if not any(u.label == e for u in c.utterances)]
            if dropped or absent:
                hint = PAPER_LABEL_SETS.get(c.name) or ",".join(sorted({*c.label_set, *dropped} - set(absent)))
                raise EmobenchError(
                    f"hyfuse classifies all of a corpus' emotions (as the paper: CREMA-D 6, EmoDB 7), but {c.name} "
                    f"loaded with label set {list(c.label_set)} " + (f"drops {dropped}" if dropped else
                                                                     f"has no {absent}")
                    + f"; rerun with -T label_set={hint}")
            speakers = {u.speaker for u in c.utterances}
            if self.speaker_independent and len(speakers) < self.k:
                raise EmobenchError(f"hyfuse: {c.name} has {len(speakers)} speakers, too few for {self.k} "
                                    "speaker-independent folds; lower -T k or set -T speaker_independent=false")
        super().check(corpora)

    def run(self, inputs: TaskInputs) -> TaskOutput:
        import pandas as pd

        from emobench.upstreams.codecs import CodecUpstream

        sources = {"rlr": inputs.upstreams["rlr"] if self.rlr else inputs.features, "cbr": inputs.upstreams["cbr"]}
        names = {"rlr": self.rlr or inputs.upstream.name, "cbr": self.cbr}
        auto = [s for s, f in sources.items() if isinstance(f.upstream, CodecUpstream)]
        slots = {"auto": auto, "rlr": ["rlr"], "cbr": ["cbr"], "both": ["rlr", "cbr"], "none": []}[self.paper_cbr]
        as_cbr = {s: s in slots for s in sources}  # read as the paper's CBR under pooling=paper
        for slot, f in sources.items():
            if "masked" in self.poolings and getattr(f.upstream, "pad_to_samples", 0):
                raise EmobenchError(f"hyfuse: masked pooling averages each clip's own frames, but the {slot} upstream "
                                    f"{names[slot]} pads audio (pad_to_s); drop pad_to_s or use pooling=paper")
        pair = f"{names['rlr']}+{names['cbr']}"
        metrics, preds, notes, per_corpus = [], [], self._notes(names, as_cbr), {}
        for cname, corpus in inputs.corpora.items():
            utts = inputs.limited(corpus.utterances)  # --limit N: N utterances of the corpus, every emotion kept
            fsets = {s: f.get(utts) for s, f in sources.items()}
            kept = [u for u in utts if all(u.id in fs for fs in fsets.values())]
            scored, per_corpus[cname] = self._cross_validate(inputs, cname, list(corpus.label_set), kept, sources,
                                                             fsets, names, as_cbr, preds)
            for (p, probe_name, rep), fold_list in scored.items():
                metrics += fold_records(fold_list, list(corpus.label_set), corpus=cname, pooling=p, probe=probe_name,
                                        representation=rep)
            metrics += self._comparisons(scored, pair, len(corpus.label_set), cname)
            notes += self._padding_notes(cname, sources, names, as_cbr, fsets)
        return TaskOutput(
            metrics=metrics,
            protocol={"name": "hyfuse", "k": self.k, "speaker_independent": self.speaker_independent,
                      "val_fraction": self.val_fraction, "models": self.models, "poolings": self.poolings,
                      "rlr": names["rlr"], "cbr": names["cbr"],
                      "cbr_pooled_slots": [s for s, v in as_cbr.items() if v], "per_corpus": per_corpus},
            corpora_roles={c: "train+eval" for c in inputs.corpora}, system=f"{names['rlr']}+{names['cbr']}",
            predictions=pd.concat(preds, ignore_index=True),
            notes=notes,
        )

    def _cross_validate(self, inputs, cname, labels, kept, sources, fsets, names, as_cbr, preds):
        """Every model on every fold of one corpus: ``{(pooling, probe, representation): [Fold]}`` and the
        corpus' protocol record; prediction tables are appended to ``preds``."""
        folds = sp.kfold(kept, k=self.k, seed=inputs.seed, speaker_independent=self.speaker_independent,
                         val_fraction=self.val_fraction)
        row = {u.id: i for i, u in enumerate(kept)}
        y = label_indices(kept, labels)
        channel = {p: {s: p == "paper" and as_cbr[s] for s in sources} for p in self.poolings}
        X = {p: {s: pooled(fsets[s], kept, sources[s].layer, channel[p][s]) for s in sources} for p in self.poolings}
        content = {s: fsets[s].content_digest([u.id for u in kept]) for s in sources}
        pair = f"{names['rlr']}+{names['cbr']}"
        scored: dict[tuple[str, str, str], list[Fold]] = {}
        seconds = []
        for k, split in enumerate(folds):
            start = time.perf_counter()
            tr, va, te = ([row[u.id] for u in part] for part in (split.train, split.val, split.test))
            boot = bootstrap_for(split.test, kind=self.bootstrap, n_boot=self.n_boot, seed=inputs.seed)
            what = {"train": [kept[i].id for i in tr], "val": [kept[i].id for i in va]}
            for p, m in ((p, m) for p in self.poolings for m in self.models):
                probe_name, path, parts = MODELS[m]
                for part in parts:
                    slots = ("rlr", "cbr") if part == "rlr+cbr" else (part,)
                    x = tuple(X[p][s] for s in slots)
                    ident = {s: {"features": content[s], "layer": sources[s].layer,
                                 "pooling": "channel-mean-per-frame" if channel[p][s] else "time-mean"} for s in slots}
                    probe = self._train(inputs, m, path, take(x, tr), y[tr], take(x, va), y[va], labels,
                                        {"inputs": ident, **what})
                    probs = probe.predict_proba(take(x, te))
                    rep = pair if part == "rlr+cbr" else names[part]
                    scored.setdefault((p, probe_name, rep), []).append(Fold(y[te], probs.argmax(1), boot))
                    preds.append(frame(split.test, labels, probs, corpus=cname, fold=k, pooling=p, probe=probe_name,
                                       representation=rep))
            seconds.append(round(time.perf_counter() - start, 3))
        info = {**folds[0].protocol, "fold": None, "sizes": [f.protocol["sizes"] for f in folds],
                "widths": {p: {s: int(x.shape[1]) for s, x in X[p].items()} for p in self.poolings},
                "fold_seconds": seconds}
        return scored, info

    def _train(self, inputs: TaskInputs, model: str, path: str, x_tr, y_tr, x_va, y_va, labels, what: dict):
        """A model trained on ``x_tr`` (selected on ``x_va``), cached by content in the probe store."""
        from emobench import __version__
        from emobench.cache.artifacts import artifact_key

        cls, params = _cls(path), self._params(model)
        payload = {"emobench": __version__, "task": "hyfuse", "model": path, "params": params,
                   "seed": inputs.train_seed, "labels": labels, **what,
                   "y": [int(v) for v in y_tr], "y_val": [int(v) for v in y_va]}
        key = artifact_key(payload)
        store = inputs.probes.store
        cached = store.load(key, lambda d: cls.load(d, device=str(inputs.device)))
        if cached is not None:
            return cached
        probe = cls(**params)
        has_val = len(y_va) > 0
        with inputs.timer("probe"):
            probe.fit(x_tr, y_tr, x_va if has_val else None, y_va if has_val else None, n_classes=len(labels),
                      seed=inputs.train_seed, device=inputs.device)
        store.save(key, probe.save, {k: v for k, v in payload.items() if k not in ("y", "y_val", "train", "val")})
        return probe

    def _comparisons(self, scored, pair: str, c: int, corpus: str) -> list[dict]:
        out = []
        for p in self.poolings:
            a, b = scored.get((p, "hyfuse", pair)), scored.get((p, "concat-fusion", pair))
            if a and b:
                for stat in ("accuracy", "macro_f1"):
                    out += fold_diff_records(f"{stat}_diff", stat, a, b, c, corpus=corpus, pooling=p,
                                             representation=pair, comparison="hyfuse-concat")
        if len(self.poolings) == 2:
            for (p, probe_name, rep), folds in scored.items():
                other = scored.get(("masked", probe_name, rep))
                if p == "paper" and other:
                    for stat in ("accuracy", "macro_f1"):
                        out += fold_diff_records(f"{stat}_diff", stat, folds, other, c, corpus=corpus, probe=probe_name,
                                                 representation=rep, comparison="paper-masked")
        return out

    def _notes(self, names, as_cbr) -> list[str]:
        notes = []
        if not self.speaker_independent:
            notes.append("folds are not speaker-independent, as the paper's (section 4.1): test speakers also speak in "
                         "the training folds, so these scores overstate SER on unseen speakers; "
                         "-T speaker_independent=true keeps each speaker in one fold")
        if self.val_fraction:
            notes.append(f"early stopping selects on {self.val_fraction:g} of the training folds (the paper uses early "
                         "stopping without saying on what data)")
        if self.rlr:
            notes.append(f"the RLR is rlr={self.rlr}; the run's -u upstream is not used by this task")
        notes.append("the models are the task's `models` (not the run's --probe): " + ", ".join(self.models))
        if "paper" in self.poolings:
            notes += [f"{s} {names[s]}: mean over each clip's frames (the paper pads the audio first; only codec "
                      "upstreams pad here, with pad_to_s)" for s, codec in as_cbr.items() if not codec]
        return notes

    def _padding_notes(self, corpus: str, sources, names, as_cbr, fsets) -> list[str]:
        out = []
        for s in (s for s, codec in as_cbr.items() if codec and "paper" in self.poolings):
            up = sources[s].upstream
            rate = float(up.frame_rate_hz) or 1.0
            longest = math.ceil(1000 * float(np.max(fsets[s].lengths)) / rate) / 1000 if len(fsets[s]) else 0.0
            how = ("from audio the upstream padded (pad_to_s)" if getattr(up, "pad_to_samples", 0) else
                   f"zero-filled past each clip's end (the paper encodes audio padded to the longest clip: "
                   f"-T {s}_params={{pad_to_s: {longest:.3f}}} does so)")
            out.append(f"{corpus}: {s} {names[s]} = the mean over its {up.dim} latent channels of every frame up to "
                       f"the longest clip ({longest:.3f} s), the paper's CBR; frames {how}")
        return out


def take(x: tuple[np.ndarray, ...], rows: list[int]):
    """Rows of one input ``[N, D]``, or of a pair (for the fusion models' ``(X_rlr, X_cbr)``)."""
    return x[0][rows] if len(x) == 1 else tuple(part[rows] for part in x)


def pooled(fs, utts, layer: int, channel_mean: bool) -> np.ndarray:
    """``[N, D]`` time means over each utterance's frames, or (``channel_mean``) ``[N, T_max]``: the mean
    over channels of every frame, zero-filled after each utterance's last frame (the paper's CBR)."""
    rows = [fs.index(u.id) for u in utts]
    if not channel_mean:
        return fs.pooled(layer)[rows]
    t_max = int(fs.lengths[rows].max()) if rows else 0
    out = np.zeros((len(rows), t_max), np.float32)
    for i, r in enumerate(rows):
        means = fs.frames(layer, r).mean(axis=1)  # [T_i]
        out[i, : len(means)] = means
    return out

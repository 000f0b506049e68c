"""Emotion kept in codec-resynthesized speech (as EMO-Codec and Codec-SUPERB measure it), on the bitrate axis.

For each number of codebooks ``d`` of a neural codec (task param ``codec``, an upstream name: encodec,
dac, mimi, speechtokenizer; ``codec_params`` e.g. ``{model: DIR}``), every test utterance is encoded
once, decoded from its first ``d`` codebooks and written as a float32 WAV (``ResynthCache.files``,
cached per codec weights, depth and audio content). The run's upstream (``-u``, any) is then run on the
decoded files like on any corpus audio, so the feature cache keys them by content. A classifier trained
on the *original* audio's features (the corpus' train split, selected on val) scores the original test
audio (``condition=continuous``) and its resynthesis at every depth (``condition=resynthesized``):
recall per emotion, UAR, macro-F1, accuracy, the agreement with the original audio's predictions (label
free), the UAR change over the original (paired, ``uar_delta``) and the cosine between the upstream's
pooled features of original and decoded audio; ``bitrate`` is the codec's own at that depth
(d x log2(codebook size) x frame rate: EnCodec 24 kHz 1.5 ... 24 kbps), so resynthesized speech sits on
the same axis as SSL features + RVQ. Depths: the codec's trained ones, or ``n_codebooks`` / ``kbps``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Literal

import numpy as np
from annotated_types import Ge

from emobench.errors import EmobenchError
from emobench.tasks.base import Task, TaskOutput
from emobench.tasks.inputs import TaskInputs
from emobench.tasks.predictions import frame
from emobench.tasks.protocol import per_corpus_splits
from emobench.tasks.records import bootstrap_for, classification_records, label_indices, rec


class CodecResynth(Task):
    probe_inputs = ("pooled",)  # its probe scores pooled arrays of the resynthesized audio
    name = "codec-resynth"

    def __init__(self, *, codec: str = "encodec", codec_params: dict | None = None,
                 n_codebooks: tuple[Annotated[int, Ge(1)], ...] | None = None, kbps: tuple[float, ...] | None = None,
                 split: str = "stratified", split_params: dict | None = None,
                 fractions: tuple[float, float, float] = (0.5, 0.1, 0.4), n_boot: Annotated[int, Ge(1)] = 1000,
                 bootstrap: Literal["speaker", "utterance"] = "speaker", label_set: str | list[str] = "emo4"):
        if n_codebooks is not None and kbps is not None:
            raise EmobenchError("codec-resynth: give n_codebooks or kbps, not both")
        self.codec, self.n_codebooks, self.kbps = codec, n_codebooks, kbps
        self.split, self.split_params, self.fractions = split, dict(split_params or {}), tuple(fractions)
        self.n_boot, self.bootstrap, self.label_set = n_boot, bootstrap, label_set

    def depths(self, layout) -> list[int]:
        """The numbers of codebooks decoded: the codec's trained ones unless ``n_codebooks`` / ``kbps``."""
        if self.kbps is not None:
            return sorted({layout.depth_for_kbps(k) for k in self.kbps})
        if self.n_codebooks is not None:
            return sorted({layout.check_depth(d) for d in self.n_codebooks})
        return list(layout.trained_depths)

    def run(self, inputs: TaskInputs) -> TaskOutput:
        import pandas as pd

        from emobench.codecs.resynth import ResynthCache

        codec = getattr(inputs.upstreams["codec"].upstream, "codec", None)
        if codec is None:
            raise EmobenchError(f"codec-resynth: codec={self.codec} is not a neural codec upstream; use encodec, dac, "
                                "mimi or speechtokenizer (-T codec=NAME, -T codec_params={model: DIR})")
        depths = self.depths(codec.layout)
        cache = ResynthCache(inputs.features.cache.root)
        labels = list(inputs.label_set)
        by_corpus = per_corpus_splits(inputs, codebook_protocol="within", split=self.split,
                                      split_params=self.split_params, fractions=self.fractions)
        metrics, preds, protocols, notes = [], [], {}, []
        for corpus, folds in by_corpus.items():
            for k, s in enumerate(folds):
                fold = k if len(folds) > 1 else None
                protocols[corpus if fold is None else f"{corpus}#{k}"] = s.protocol
                fs = inputs.features.get(s.train + s.val + s.test)
                probe = inputs.probes.train(fs, s.train, s.val, labels)
                test = [u for u in s.test if u.id in fs]
                x_cont, _ = inputs.features.pooled(fs, test)
                cont = probe.predict_proba(x_cont)
                y = label_indices(test, labels)
                boot = bootstrap_for(test, kind=self.bootstrap, n_boot=self.n_boot, seed=inputs.seed)
                bd = {"corpus": corpus, "fold": fold}
                metrics += classification_records(y, cont.argmax(1), labels, boot, condition="continuous", **bd)
                preds.append(frame(test, labels, cont, condition="continuous", **bd))
                decoded = self._resynthesize(inputs, cache, codec, test, depths)
                for d in depths:
                    fs_d = inputs.features.get(decoded[d])
                    keep = np.array([u.id in fs_d for u in decoded[d]], dtype=bool)
                    if not keep.all():
                        notes.append(f"{corpus}: {int((~keep).sum())} resynthesized utterance(s) at {d} codebooks "
                                     "were unusable and left out (listed in the skipped sidecar)")
                    kept = [u for u, ok in zip(decoded[d], keep, strict=True) if ok]
                    boot_d = boot if keep.all() else bootstrap_for(
                        [u for u, ok in zip(test, keep, strict=True) if ok], kind=self.bootstrap, n_boot=self.n_boot,
                        seed=inputs.seed)
                    x_d, _ = inputs.features.pooled(fs_d, kept)
                    probs = probe.predict_proba(x_d)
                    metrics += self._depth_records(y[keep], probs.argmax(1), cont.argmax(1)[keep], x_cont[keep], x_d,
                                                   labels, boot_d, depth=d, **bd)
                    metrics.append(rec("bitrate", codec.layout.bitrate_bps(d), depth=d, **bd))
                    preds.append(frame(kept, labels, probs, condition="resynthesized", depth=d, **bd))
        kbps = ", ".join(f"{codec.layout.bitrate_bps(d) / 1000:g}" for d in depths)
        notes.append(f"resynthesized through {self.codec} ({codec.family}, {codec.source}) at {kbps} kbps "
                     f"({', '.join(map(str, depths))} codebooks); the classifier is trained on the original audio")
        return TaskOutput(
            metrics=metrics,
            protocol={"name": "codec-resynth", "codec": self.codec, "family": codec.family, "depths": depths,
                      "bitrate_bps": {str(d): codec.layout.bitrate_bps(d) for d in depths},
                      "codec_sample_rate": codec.layout.sample_rate, "bootstrap": self.bootstrap,
                      "split": self.split, "per_corpus": protocols},
            corpora_roles={c: "train+eval" for c in by_corpus}, system=f"{inputs.upstream.name} on {self.codec} audio",
            predictions=pd.concat(preds, ignore_index=True),
            notes=sorted(set(notes), key=notes.index),
        )

    def _resynthesize(self, inputs: TaskInputs, cache, codec, test, depths) -> dict[int, list]:
        """Per depth, the test utterances as Utterances of their decoded WAV files (ids ``<id>#<codec>-d<d>``)."""
        from emobench.audio import load_audio

        out: dict[int, list] = {d: [] for d in depths}
        task = inputs.progress.add_task(f"resynthesizing {len(test)} utterances", total=len(test)) \
            if inputs.progress else None
        with inputs.timer("resynthesize"):
            for u in test:
                paths = cache.files(codec, load_audio(u, codec.layout.sample_rate), depths)
                for d in depths:
                    out[d].append(replace(u, id=f"{u.id}#{self.codec}-d{d}", path=str(paths[d]), start_s=None,
                                          end_s=None, meta={**u.meta, "resynthesized_from": u.id, "n_codebooks": d}))
                if task is not None:
                    inputs.progress.advance(task)
        return out

    @staticmethod
    def _depth_records(y, pred, cont_pred, x_cont, x_d, labels, boot, **bd) -> list[dict]:
        at = {**bd, "condition": "resynthesized"}
        out = classification_records(y, pred, labels, boot, **at)
        same = (pred == cont_pred).astype(np.float64)
        out.append(rec("agreement", same.mean() if len(same) else None, ci=boot.mean(same), n=len(same), **at))
        out.append(rec("uar_delta", _uar(y, pred, len(labels)) - _uar(y, cont_pred, len(labels)),
                       ci=boot.stat_diff(y, pred, cont_pred, len(labels), "uar"), n=len(y), **at))
        cos = np.sum(x_cont * x_d, 1) / np.maximum(np.linalg.norm(x_cont, axis=1) * np.linalg.norm(x_d, axis=1), 1e-12)
        out.append(rec("cosine_utterance", float(cos.mean()) if len(cos) else None, ci=boot.mean(cos), n=len(cos),
                       **at))
        return out


def _uar(y: np.ndarray, pred: np.ndarray, c: int) -> float:
    from emobench.metrics.bootstrap import confusion_stat

    return float(confusion_stat(np.bincount(y * c + pred, minlength=c * c).reshape(c, c), "uar"))

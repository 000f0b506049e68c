"""Building blocks the RQ tasks share: splits per corpus, training compositions, the depth sweep
(encode once at full depth, decode every prefix), metric records and quantizer bitrate info."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from emobench.corpora.base import Utterance
from emobench.results.records import metric
from emobench.tasks.base import TaskContext

FRAME_CHUNK = 65_536  # frames per evaluation chunk: bounds memory at chunk x dim x (depths kept = 2)


def corpus_splits(ctx: TaskContext, codebook_protocol: str, fractions) -> dict:
    """Per evaluated corpus, its Splits: leave-one-corpus-out codebooks when there are several corpora
    (the paper's RQ1/RQ2 protocol), otherwise the corpus' own train split. Leakage checked here,
    before any expensive work."""
    from emobench import splits as sp

    all_utts = [u for c in ctx.corpora.values() for u in c.utterances]
    out = {}
    for name in ctx.corpora:
        if codebook_protocol == "loco" and len(ctx.corpora) > 1:
            s = sp.leave_one_corpus_out(all_utts, held_out=name, seed=ctx.seed, fractions=fractions)
        elif codebook_protocol == "speaker_independent":
            s = sp.speaker_independent(ctx.corpora[name].utterances, seed=ctx.seed, fractions=fractions)
        else:
            s = sp.stratified(ctx.corpora[name].utterances, seed=ctx.seed, fractions=fractions)
        s.check()
        out[name] = s
    return out


@dataclass
class DepthSweep:
    """Per-utterance results of evaluating one quantizer at every depth on one test set."""

    utts: list[Utterance]
    depths: list[int]
    continuous_probs: np.ndarray  # [N, C]
    cosine_frame: dict[int, np.ndarray] = field(default_factory=dict)  # depth -> [N]
    cosine_utt: dict[int, np.ndarray] = field(default_factory=dict)
    probs: dict[int, np.ndarray] = field(default_factory=dict)  # depth -> [N, C]
    codes: np.ndarray | None = None  # [T_total, L] full-depth codes of every test frame

    def predictions(self, labels, **extra):
        """Long-format DataFrame: one row per utterance and condition (depth 0 = continuous)."""
        import pandas as pd

        frames = []
        for depth in [0, *self.depths]:
            probs = self.continuous_probs if depth == 0 else self.probs[depth]
            df = pd.DataFrame({
                "utt_id": [u.id for u in self.utts], "speaker": [u.speaker for u in self.utts],
                "label": [u.label for u in self.utts], "depth": depth,
                "pred": [labels[i] for i in probs.argmax(1)],
                "cosine_frame": self.cosine_frame[depth] if depth else 1.0,
                "cosine_utt": self.cosine_utt[depth] if depth else 1.0,
                **{f"p_{lab}": probs[:, i] for i, lab in enumerate(labels)}, **extra,
            })
            frames.append(df)
        return pd.concat(frames, ignore_index=True)


def sweep_depths(ctx: TaskContext, fs, utts: list[Utterance], quantizer, probe, depths=None) -> DepthSweep:
    """Encode each utterance once at full depth, then decode every prefix depth and score it.

    Works in chunks of whole utterances (about FRAME_CHUNK frames) so memory stays bounded."""
    from emobench.metrics import cosine_similarity, segment_mean

    depths = list(depths or range(1, quantizer.n_stages + 1))
    index = {uid: i for i, uid in enumerate(fs.utt_ids)}
    rows = [index[u.id] for u in utts]
    lengths = fs.lengths[rows]
    pooled_cont = fs.pooled(ctx.layer)[rows]
    sweep = DepthSweep(utts=utts, depths=depths, continuous_probs=probe.predict_proba(pooled_cont))
    pooled_rec = {d: [] for d in depths}
    cos_f = {d: [] for d in depths}
    cos_u = {d: [] for d in depths}
    all_codes = []
    task = ctx.progress.add_task(f"evaluating {len(depths)} depths", total=len(rows)) if ctx.progress else None
    for chunk in _chunks(lengths, FRAME_CHUNK):
        X = np.concatenate([fs.frames(ctx.layer, rows[i]) for i in chunk]).astype(np.float32)  # [T, D]
        lens = lengths[chunk]
        codes = np.asarray(quantizer.encode(X))  # [T, L]
        all_codes.append(codes)
        for d in depths:
            R = np.asarray(quantizer.decode(codes, depth=d), dtype=np.float32)
            cos_f[d].append(segment_mean(cosine_similarity(X, R), lens))
            rec_pooled = segment_mean(R, lens)
            pooled_rec[d].append(rec_pooled)
            cos_u[d].append(cosine_similarity(segment_mean(X, lens), rec_pooled))
        if ctx.progress:
            ctx.progress.advance(task, len(chunk))
    for d in depths:
        sweep.cosine_frame[d] = np.concatenate(cos_f[d])
        sweep.cosine_utt[d] = np.concatenate(cos_u[d])
        sweep.probs[d] = probe.predict_proba(np.concatenate(pooled_rec[d]).astype(np.float32))
    sweep.codes = np.concatenate(all_codes) if all_codes else None
    return sweep


def _chunks(lengths: np.ndarray, budget: int):
    start, total = 0, 0
    for i, n in enumerate(lengths):
        if total and total + n > budget:
            yield list(range(start, i))
            start, total = i, 0
        total += int(n)
    if start < len(lengths):
        yield list(range(start, len(lengths)))


def classification_records(sweep: DepthSweep, labels, *, n_boot: int, seed: int, quantizer,
                           **breakdown) -> list[dict]:
    """Cosine, recall (per emotion and UAR), macro-F1, accuracy, agreement at every depth, with
    bootstrap CIs; the continuous baseline as ``condition=continuous``; per-stage entropy."""
    from emobench import metrics as M

    y = np.array([labels.index(u.label) for u in sweep.utts])
    lab_idx = list(range(len(labels)))
    cont_pred = sweep.continuous_probs.argmax(1)
    out = []

    def scores(pred, **bd):
        recs = [
            metric("uar", M.uar(y, pred, lab_idx), n=len(y),
                   ci=M.bootstrap_metric(lambda a, b: M.uar(a, b, lab_idx), y, pred, n_boot=n_boot, seed=seed), **bd),
            metric("macro_f1", M.macro_f1(y, pred, lab_idx), n=len(y),
                   ci=M.bootstrap_metric(lambda a, b: M.macro_f1(a, b, lab_idx), y, pred, n_boot=n_boot, seed=seed),
                   **bd),
            metric("accuracy", M.accuracy(y, pred), n=len(y), **bd),
        ]
        for i, r in M.recall_per_class(y, pred, lab_idx).items():
            recs.append(metric("recall", r, n=int((y == i).sum()), emotion=labels[i], **bd))
        for (i, j), count in np.ndenumerate(M.confusion(y, pred, lab_idx)):  # rows: true, columns: predicted
            recs.append(metric("confusion", count, unit="count", direction="none", emotion=labels[i],
                               predicted=labels[j], **bd))
        return recs

    out += scores(cont_pred, condition="continuous", **breakdown)
    for d in sweep.depths:
        pred = sweep.probs[d].argmax(1)
        bd = {"depth": d, "condition": "quantized", **breakdown}
        out += scores(pred, **bd)
        for name, values in (("cosine_frame", sweep.cosine_frame[d]), ("cosine_utterance", sweep.cosine_utt[d])):
            out.append(metric(name, float(np.mean(values)), n=len(values),
                              ci=M.bootstrap_ci(values, n_boot=n_boot, seed=seed), **bd))
            for i, lab in enumerate(labels):
                sel = values[y == i]
                if len(sel):
                    out.append(metric(name, float(np.mean(sel)), n=len(sel), emotion=lab, **bd))
        out.append(metric("agreement", M.agreement(pred, cont_pred), n=len(y), **bd))
    if sweep.codes is not None:
        from emobench.quantizers.bitrate import stage_columns

        columns = stage_columns(quantizer, sweep.codes)  # drops Emo-Q's codebook-choice column
        entropy = np.atleast_1d(M.normalized_entropy(columns, quantizer.codebook_size))
        for stage, h in enumerate(entropy, start=1):
            out.append(metric("normalized_entropy", float(h), stage=stage, **breakdown))
    return out


def quantizer_info(quantizer, ctx: TaskContext, *, composition: dict | None = None, codes=None) -> dict:
    """The result's ``quantizer`` block: name, layout, nominal bitrate per depth and, given the test
    codes, the entropy-coded bitrate, dead codewords and storage (quantizers.bitrate)."""
    from emobench.quantizers.bitrate import bitrate_report, continuous_bps, quantizer_storage_bytes

    fr = float(ctx.upstream.frame_rate_hz)
    n_stages, k = int(quantizer.n_stages), int(quantizer.codebook_size)
    bits = {d: float(quantizer.bits_per_frame(d)) for d in range(1, n_stages + 1)}
    bitrate = {
        "frame_rate_hz": fr, "bits_per_frame": bits[n_stages], "bps": bits[n_stages] * fr,
        "bps_per_depth": {str(d): b * fr for d, b in bits.items()},
        "continuous_bps": continuous_bps(int(ctx.upstream.dim), fr),
        "storage_bytes": int(quantizer_storage_bytes(quantizer)),
    }
    if codes is not None:
        report = bitrate_report(quantizer, codes, frame_rate_hz=fr)
        bitrate.update(entropy_coded_bps=report.entropy_coded_bps, dead_codewords=report.dead_codewords)
    return {
        "name": ctx.config.quantizer, "kind": type(quantizer).__name__, "layout": f"{n_stages}x{k}",
        "n_stages": n_stages, "codebook_size": k, "composition": composition, "bitrate": bitrate,
    }

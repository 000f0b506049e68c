"""Audio: decode with soundfile, mix to mono, resample with a polyphase filter, optionally trim.

Every failure is an AudioError naming the file, so the feature cache can skip or fail per its
``--on-bad-audio`` policy and list what it skipped. Nothing here imports torch.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from emobench.corpora.base import Utterance
from emobench.errors import AudioError

SILENCE_PEAK = 1e-4  # a peak below -80 dBFS, or no variation at all, counts as silent
TRIM_TOP_DB = 40.0  # trim keeps frames within this many dB of the loudest frame
_TRIM_FRAME_S, _TRIM_HOP_S = 0.025, 0.010


def _where(utt: Utterance) -> str:
    return f"{utt.path} (utterance {utt.id})"


def check_wav_complete(path: Path) -> None:
    """A RIFF/WAVE file whose data chunk is shorter than its header declares was cut off (a failed copy):
    libsndfile would read it as a shorter clip, so it is refused here instead."""
    import struct

    size = path.stat().st_size
    with open(path, "rb") as fh:
        head = fh.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            return
        pos = 12
        while pos + 8 <= size:
            fh.seek(pos)
            chunk, length = struct.unpack("<4sI", fh.read(8))
            if chunk == b"data":
                have = size - pos - 8
                if length != 0xFFFFFFFF and have < length:  # 0xFFFFFFFF: a streaming writer's "unknown"
                    raise AudioError(f"truncated WAV: its header declares {length} bytes of audio but the file holds "
                                     f"{have}: {path}; re-copy it or skip it (--on-bad-audio skip)")
                return
            pos += 8 + length + (length & 1)


def _read(utt: Utterance) -> tuple[np.ndarray, int]:
    """Decode the file (or its [start_s, end_s) segment) to float32 ``[samples, channels]``."""
    import soundfile as sf

    path = Path(utt.path)
    if not path.is_file():
        raise AudioError(f"audio file not found: {_where(utt)}; check the corpus root or re-extract the corpus")
    if path.stat().st_size == 0:
        raise AudioError(f"zero-length audio file: {_where(utt)}; re-copy it or skip it (--on-bad-audio skip)")
    try:
        check_wav_complete(path)
    except AudioError as exc:
        raise AudioError(f"{exc} (utterance {utt.id})") from None
    except (OSError, ValueError):
        pass  # unreadable headers are soundfile's to report below
    try:
        with sf.SoundFile(str(path)) as fh:
            sr = fh.samplerate
            start = 0 if utt.start_s is None else max(0, int(round(utt.start_s * sr)))
            stop = fh.frames if utt.end_s is None else min(fh.frames, int(round(utt.end_s * sr)))
            if fh.frames == 0:
                raise AudioError(f"audio file has no samples: {_where(utt)}; re-copy it or skip it")
            if stop <= start:
                raise AudioError(
                    f"empty segment [{utt.start_s}, {utt.end_s}] s of a {fh.frames / sr:.2f} s file: "
                    f"{_where(utt)}; check the corpus' segment times"
                )
            fh.seek(start)
            data = fh.read(stop - start, dtype="float32", always_2d=True)  # [samples, channels]
    except AudioError:
        raise
    except Exception as exc:  # soundfile raises LibsndfileError/RuntimeError for corrupt headers
        raise AudioError(
            f"cannot decode audio {_where(utt)}: {exc}; the file is corrupt or not audio, re-copy it or skip it"
        ) from exc
    if data.shape[0] == 0:
        raise AudioError(f"audio decoded to no samples: {_where(utt)}; the file is truncated, re-copy it")
    return data, sr


def resample(wave: np.ndarray, orig_sr: int, target_sr: int) -> np.ndarray:
    """Polyphase resampling ``[samples] -> [samples * target/orig]`` with the rational factor up/down."""
    if orig_sr == target_sr:
        return wave
    from scipy.signal import resample_poly

    g = math.gcd(int(orig_sr), int(target_sr))
    return resample_poly(wave, int(target_sr) // g, int(orig_sr) // g).astype(np.float32, copy=False)


def trim_silence(wave: np.ndarray, sample_rate: int, *, top_db: float = TRIM_TOP_DB) -> np.ndarray:
    """Cut leading/trailing frames quieter than ``top_db`` below the loudest 25 ms frame."""
    frame, hop = int(_TRIM_FRAME_S * sample_rate), int(_TRIM_HOP_S * sample_rate)
    if wave.shape[0] <= frame:
        return wave
    n_frames = 1 + (wave.shape[0] - frame) // hop
    idx = np.arange(frame)[None, :] + hop * np.arange(n_frames)[:, None]  # [frames, frame]
    rms = np.sqrt(np.mean(wave[idx].astype(np.float64) ** 2, axis=1) + 1e-20)  # [frames]
    db = 20 * np.log10(rms / rms.max())
    loud = np.flatnonzero(db > -top_db)
    first, last = int(loud[0]), int(loud[-1])
    return wave[first * hop : min(wave.shape[0], last * hop + frame)]


def load_audio(utt: Utterance, sample_rate: int, *, trim: bool = False) -> np.ndarray:
    """The utterance as float32 mono ``[samples]`` at ``sample_rate``; AudioError if unusable."""
    data, sr = _read(utt)  # [samples, channels]
    if not np.all(np.isfinite(data)):
        raise AudioError(f"audio contains NaN/inf samples: {_where(utt)}; re-copy or re-encode it")
    wave = data.mean(axis=1) if data.shape[1] > 1 else data[:, 0]  # [samples]
    if float(np.max(np.abs(wave))) < SILENCE_PEAK or float(np.ptp(wave)) < SILENCE_PEAK:
        raise AudioError(f"audio is silent (all zero or clipped to a constant): {_where(utt)}; skip it")
    if trim:
        wave = trim_silence(wave, sr)
    wave = resample(wave, sr, sample_rate)
    return np.ascontiguousarray(wave, dtype=np.float32)


def duration_s(path: str | Path) -> float:
    """Duration from the header only (no decoding); AudioError if the header is unreadable."""
    import soundfile as sf

    try:
        info = sf.info(str(path))
    except Exception as exc:
        raise AudioError(f"cannot read audio header {path}: {exc}; the file is missing or corrupt") from exc
    return float(info.frames) / float(info.samplerate)


def utterance_duration_s(utt: Utterance) -> float:
    """Duration of an utterance: its segment if it has one, else the whole file's."""
    total = duration_s(utt.path)
    start = utt.start_s or 0.0
    end = total if utt.end_s is None else min(total, utt.end_s)
    return max(0.0, end - start)


def duration_stats(durations: Iterable[float]) -> dict[str, float]:
    """Hours, mean, min, median and max seconds of a collection of durations."""
    d = np.asarray(list(durations), dtype=np.float64)
    if d.size == 0:
        return {"n": 0, "hours": 0.0, "mean_s": 0.0, "min_s": 0.0, "median_s": 0.0, "max_s": 0.0}
    return {
        "n": int(d.size),
        "hours": float(d.sum() / 3600.0),
        "mean_s": float(d.mean()),
        "min_s": float(d.min()),
        "median_s": float(np.median(d)),
        "max_s": float(d.max()),
    }

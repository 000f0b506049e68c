"""The embedded demo corpus: deterministic synthetic emotional "speech", generated on first use.

Every utterance is a glottal pulse train (Rosenberg pulses) with jitter, shimmer and aspiration noise,
shaped by time-varying vowel formant resonators into syllables, with background noise. Emotions move
distributions of prosody and voice quality rather than fixing them, the way acted speech does:

    emotion  F0 level  F0 range  tempo  energy  voice quality
    angry    high      wide      fast   loud    pressed (flat spectral tilt)
    happy    high      widest    fast   loud-ish modal, bright
    neutral  mid       narrow    mid    mid     modal
    sad      low       narrow    slow   soft    breathy (steep tilt, more noise)

Speakers differ in F0 baseline and vocal-tract length (formant scaling), sentences in syllable
sequence, and each utterance blends its emotion with a second one by a random weight, so classes
overlap (angry/happy most) and a probe stays well below perfect. Simulated annotators vote on the
blend, giving soft labels for ambiguity-stratified analyses. Everything here is SYNTHETIC; every
result computed on it says so.
"""

from __future__ import annotations

import csv
import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from emobench.fsutil import atomic_path, atomic_write_json

DEMO_VERSION = 1
SAMPLE_RATE = 16_000
EMOTIONS = ("angry", "happy", "neutral", "sad")
_AROUSAL_PARTNER = (1, 0, 3, 2)  # index of the emotion with similar arousal

# Per-emotion means of (F0 factor, F0 range in semitones, syllables/s, level dB, tilt, breathiness).
_PROFILES = {
    "angry": (1.3, 5.0, 5.2, 0.0, 0.2, 0.03),
    "happy": (1.5, 8.0, 4.6, -3.0, 0.5, 0.08),
    "neutral": (1.0, 2.0, 3.9, -8.0, 0.72, 0.12),
    "sad": (0.85, 1.2, 2.7, -14.0, 0.92, 0.35),
}
_SPREAD = (0.10, 1.6, 0.55, 2.5, 0.12, 0.06)  # within-emotion standard deviations, same order
# (F1, F2, F3) of a few vowels, Hz, for an adult male vocal tract.
_VOWELS = np.array([[730, 1090, 2440], [270, 2290, 3010], [530, 1840, 2480], [300, 870, 2240],
                    [660, 1720, 2410], [490, 1350, 1690], [640, 1190, 2390]], dtype=float)


@dataclass(frozen=True)
class DemoConfig:
    n_speakers: int = 8
    n_sentences: int = 8  # per speaker and emotion
    n_annotators: int = 8
    seed: int = 1234
    snr_db: tuple[float, float] = (8.0, 30.0)
    max_blend: float = 0.4  # largest share of a second emotion mixed into an utterance
    spread: float = 0.6  # scales the within-emotion standard deviations

    def fingerprint(self) -> str:
        blob = json.dumps({**asdict(self), "version": DEMO_VERSION}, sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:12]


def _rosenberg(frac: np.ndarray, open_q: float = 0.6, close_q: float = 0.25) -> np.ndarray:
    """Rosenberg glottal flow pulse of one period, evaluated at phase fractions in [0, 1)."""
    out = np.zeros_like(frac)
    rise = frac < open_q
    out[rise] = 0.5 * (1 - np.cos(np.pi * frac[rise] / open_q))
    fall = (~rise) & (frac < open_q + close_q)
    out[fall] = np.cos(np.pi / 2 * (frac[fall] - open_q) / close_q)
    return out


def _resonator(x: np.ndarray, freq: float, bw: float, sr: int) -> np.ndarray:
    from scipy.signal import lfilter

    r = np.exp(-np.pi * bw / sr)
    theta = 2 * np.pi * freq / sr
    a = [1.0, -2 * r * np.cos(theta), r * r]
    return lfilter([1 - r], a, x)


def synthesize(
    *, rng: np.random.Generator, emotion_params: np.ndarray, speaker_f0: float, tract_scale: float,
    syllables: np.ndarray, snr_db: float, sr: int = SAMPLE_RATE,
) -> np.ndarray:
    """One utterance as float32 samples; ``emotion_params`` follows the order of ``_PROFILES``."""
    f0_factor, f0_range_st, rate, level_db, tilt, breath = emotion_params
    syl_dur = rng.gamma(8.0, 1.0 / (8.0 * max(rate, 1.5)), size=len(syllables))
    seg_len = np.maximum((syl_dur * sr).astype(int), int(0.06 * sr))
    n = int(seg_len.sum())
    t = np.arange(n) / sr
    # F0 contour: declination + per-syllable accents of random sign, scaled by the emotion's range.
    accents = np.repeat(rng.normal(0, 1, len(syllables)), seg_len)
    smooth = np.convolve(accents, np.hanning(801) / np.hanning(801).sum(), mode="same")
    semitones = f0_range_st * smooth - 1.5 * t / max(t[-1], 1e-3)
    f0 = speaker_f0 * f0_factor * 2 ** (semitones / 12) * (1 + 0.01 * rng.normal(0, 1, n))  # jitter
    phase = np.cumsum(f0 / sr)
    source = np.diff(_rosenberg(phase % 1.0), prepend=0.0)  # radiation: derivative of the flow
    source *= 1 + 0.08 * np.repeat(rng.normal(0, 1, int(phase[-1]) + 2), 1)[phase.astype(int)]  # shimmer
    source += breath * 0.02 * rng.normal(0, 1, n)  # aspiration
    # Syllable envelopes with short gaps, then time-varying formants per syllable.
    out = np.zeros(n)
    start = 0
    for vowel, length in zip(syllables, seg_len, strict=True):
        seg = source[start : start + length]
        env = np.hanning(length) ** 0.5
        y = seg * env
        for k, formant in enumerate(_VOWELS[vowel] * tract_scale):
            y = _resonator(y, formant * (1 + 0.05 * rng.normal()), 60 + 40 * k + 80 * breath, sr) * (1.0 if k == 0 else 0.8)
        out[start : start + length] = y
        start += length
    # Spectral tilt: a one-pole low-pass whose strength grows with ``tilt`` (pressed voice is flatter).
    from scipy.signal import lfilter

    out = lfilter([1 - tilt * 0.9], [1, -tilt * 0.9], out)
    out *= 10 ** (level_db / 20) / (np.sqrt(np.mean(out**2)) + 1e-9) * 0.05
    noise = lfilter([1.0], [1, -0.95], rng.normal(0, 1, n))  # brownish background
    noise *= np.sqrt(np.mean(out**2) / np.mean(noise**2)) * 10 ** (-snr_db / 20)
    wave = out + noise
    return (wave / max(1.0, np.abs(wave).max() / 0.95)).astype(np.float32)


def _plan(cfg: DemoConfig) -> list[dict]:
    """Every utterance's parameters, drawn once from the seed (independent of generation order)."""
    rng = np.random.default_rng(cfg.seed)
    speakers = [
        {"id": f"spk{i + 1:02d}", "f0": float(rng.choice([110.0, 200.0]) * rng.uniform(0.85, 1.15)),
         "tract": float(rng.uniform(0.9, 1.2))}
        for i in range(cfg.n_speakers)
    ]
    for s in speakers:
        s["tract"] = s["tract"] * (1.15 if s["f0"] > 150 else 1.0)
    sentences = [rng.integers(0, len(_VOWELS), size=int(rng.integers(6, 12))) for _ in range(cfg.n_sentences)]
    plan = []
    for spk in speakers:
        for e_idx, emotion in enumerate(EMOTIONS):
            for s_idx, syl in enumerate(sentences):
                other = int(rng.choice([i for i in range(len(EMOTIONS)) if i != e_idx]))
                blend = float(rng.beta(1.2, 4.0) * cfg.max_blend)  # share of a second emotion, mostly small
                mu = (1 - blend) * np.array(_PROFILES[emotion]) + blend * np.array(_PROFILES[EMOTIONS[other]])
                params = mu + rng.normal(0, 1, 6) * np.array(_SPREAD) * cfg.spread
                params[4:] = np.clip(params[4:], 0.0, 0.97)
                # Listeners confuse emotions of similar arousal (angry-happy, neutral-sad) beyond the blend.
                perceived = np.full(len(EMOTIONS), 0.06)
                perceived[e_idx] += 1 - blend
                perceived[other] += blend
                perceived[_AROUSAL_PARTNER[e_idx]] += 0.12
                votes = rng.multinomial(cfg.n_annotators, perceived / perceived.sum())
                plan.append({
                    "id": f"{spk['id']}_{emotion}_{s_idx:02d}", "speaker": spk["id"], "emotion": emotion,
                    "sentence": s_idx, "syllables": syl, "params": params, "speaker_f0": spk["f0"],
                    "tract": spk["tract"], "snr_db": float(rng.uniform(*cfg.snr_db)),
                    "votes": votes, "seed": int(rng.integers(2**31)),
                })
    return plan


def ensure_demo_corpus(root: Path, cfg: DemoConfig = DemoConfig(), progress=None) -> Path:
    """Generate the demo corpus under ``root/<fingerprint>`` unless complete; returns the manifest path.

    Resumable: wav files are written atomically and kept; the manifest is written last, so its presence
    means the corpus is complete.
    """
    import soundfile as sf

    folder = Path(root) / f"v{DEMO_VERSION}-{cfg.fingerprint()}"
    manifest = folder / "manifest.csv"
    if manifest.is_file():
        return manifest
    plan = _plan(cfg)
    task = progress.add_task("generating synthetic demo corpus", total=len(plan)) if progress else None
    rows = []
    for item in plan:
        path = folder / "wav" / f"{item['id']}.wav"
        if not path.is_file():
            wave = synthesize(
                rng=np.random.default_rng(item["seed"]), emotion_params=item["params"],
                speaker_f0=item["speaker_f0"], tract_scale=item["tract"], syllables=item["syllables"],
                snr_db=item["snr_db"],
            )
            with atomic_path(path) as tmp:
                sf.write(tmp, wave, SAMPLE_RATE, subtype="PCM_16", format="WAV")
        votes = item["votes"]
        rows.append({
            "path": f"wav/{item['id']}.wav", "id": item["id"], "speaker": item["speaker"],
            "label": item["emotion"], "sentence": item["sentence"],
            **{f"vote_{e}": int(v) for e, v in zip(EMOTIONS, votes, strict=True)},
        })
        if progress:
            progress.advance(task)
    atomic_write_json(folder / "config.json", {**asdict(cfg), "version": DEMO_VERSION, "synthetic": True})
    with atomic_path(manifest) as tmp, open(tmp, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return manifest

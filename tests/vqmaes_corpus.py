"""A tiny labelled corpus for the VQ-MAE-S tests: harmonic tones whose pitch and loudness contour depend
on the emotion, as 16 kHz wav files plus a ``manifest.csv`` (read by the real ``manifest`` corpus)."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

LABELS = ("angry", "happy", "neutral", "sad")
F0 = {"angry": 230.0, "happy": 300.0, "neutral": 150.0, "sad": 110.0}
SR = 16_000


def write_corpus(root: Path, *, n: int = 16, seed: int = 0) -> Path:
    """``n`` utterances of 0.5-1.3 s; returns the manifest path."""
    import soundfile as sf

    rng = np.random.default_rng(seed)
    (root / "wavs").mkdir(parents=True, exist_ok=True)
    rows = []
    for i in range(n):
        label = LABELS[i % len(LABELS)]
        t = np.arange(int(SR * (0.5 + 0.2 * (i % 5)))) / SR
        vibrato = 1 + 0.04 * np.sin(2 * np.pi * (3 + i % 3) * t)
        wave = sum(np.sin(2 * np.pi * F0[label] * h * t * vibrato) / h for h in range(1, 8))
        wave = wave * (0.4 + 0.3 * np.sin(2 * np.pi * 2 * t)) + 0.01 * rng.standard_normal(t.shape[0])
        path = root / "wavs" / f"u{i:02d}.wav"
        sf.write(path, (0.5 * wave / np.abs(wave).max()).astype(np.float32), SR, subtype="PCM_16")
        rows.append({"path": f"wavs/{path.name}", "label": label, "speaker": f"spk{i % 3}"})
    manifest = root / "manifest.csv"
    with open(manifest, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=["path", "label", "speaker"])
        writer.writeheader()
        writer.writerows(rows)
    return manifest


def load_utterances(manifest: Path):
    from emobench.corpora.manifest import ManifestCorpus

    return ManifestCorpus(root=str(manifest), name="tiny").load().utterances

"""Audio loading: resampling keeps frequencies, mono mix-down, segments, trimming, bad-file errors."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from emobench.audio import duration_s, duration_stats, load_audio, resample, utterance_duration_s
from emobench.corpora.base import Utterance
from emobench.errors import AudioError


def utt(path, **kw):
    return Utterance(id="t/x", corpus="t", path=str(path), speaker="s", label="angry", **kw)


def sine(freq, sr, seconds=1.0, amp=0.5):
    t = np.arange(int(sr * seconds)) / sr
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def peak_hz(x, sr):
    spec = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return np.fft.rfftfreq(len(x), 1 / sr)[np.argmax(spec)]


@pytest.mark.parametrize(("orig", "target"), [(48000, 16000), (44100, 16000), (22050, 16000), (8000, 16000)])
def test_resampling_keeps_frequency_and_length(tmp_path, orig, target):
    sf.write(tmp_path / "a.wav", sine(440, orig), orig)
    y = load_audio(utt(tmp_path / "a.wav"), target)
    assert y.dtype == np.float32 and y.ndim == 1
    assert abs(len(y) - target) <= 1
    assert abs(peak_hz(y, target) - 440) < 2
    assert np.max(np.abs(y)) == pytest.approx(0.5, abs=0.02)


def test_resampling_matches_scipy_reference():
    from scipy.signal import resample_poly

    x = sine(1000, 48000)
    assert np.allclose(resample(x, 48000, 16000), resample_poly(x, 1, 3), atol=1e-6)
    assert resample(x, 16000, 16000) is x


def test_stereo_is_mixed_to_mono(tmp_path):
    left, right = sine(300, 16000), sine(300, 16000, amp=0.1)
    sf.write(tmp_path / "st.wav", np.stack([left, right], 1), 16000)
    y = load_audio(utt(tmp_path / "st.wav"), 16000)
    assert np.allclose(y, (left + right) / 2, atol=1e-4)


def test_segment_and_durations(tmp_path):
    sf.write(tmp_path / "long.wav", sine(200, 16000, seconds=3.0), 16000)
    seg = utt(tmp_path / "long.wav", start_s=1.0, end_s=1.5)
    assert load_audio(seg, 16000).shape == (8000,)
    assert load_audio(seg, 8000).shape == (4000,)
    assert duration_s(tmp_path / "long.wav") == pytest.approx(3.0)
    assert utterance_duration_s(seg) == pytest.approx(0.5)
    stats = duration_stats([1.0, 2.0, 3.0])
    assert stats["hours"] == pytest.approx(6 / 3600) and stats["median_s"] == 2.0
    with pytest.raises(AudioError, match="empty segment"):
        load_audio(utt(tmp_path / "long.wav", start_s=5.0, end_s=6.0), 16000)


def test_trim_removes_leading_and_trailing_silence(tmp_path):
    x = np.concatenate([np.zeros(8000), sine(300, 16000), np.zeros(16000)]).astype(np.float32)
    sf.write(tmp_path / "pad.wav", x, 16000)
    y = load_audio(utt(tmp_path / "pad.wav"), 16000, trim=True)
    assert 16000 <= len(y) <= 16000 + 800
    assert len(load_audio(utt(tmp_path / "pad.wav"), 16000)) == len(x)


def test_bad_audio_errors_name_the_file(tmp_path):
    with pytest.raises(AudioError, match=r"audio file not found: .*missing.wav"):
        load_audio(utt(tmp_path / "missing.wav"), 16000)
    (tmp_path / "zero.wav").write_bytes(b"")
    with pytest.raises(AudioError, match=r"zero-length audio file: .*zero.wav"):
        load_audio(utt(tmp_path / "zero.wav"), 16000)
    (tmp_path / "corrupt.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunkjunkjunk" * 4)
    with pytest.raises(AudioError, match=r"cannot decode audio .*corrupt.wav"):
        load_audio(utt(tmp_path / "corrupt.wav"), 16000)
    sf.write(tmp_path / "empty.wav", np.zeros(0, dtype=np.float32), 16000)
    with pytest.raises(AudioError, match=r"no samples: .*empty.wav"):
        load_audio(utt(tmp_path / "empty.wav"), 16000)
    sf.write(tmp_path / "silent.wav", np.zeros(16000, dtype=np.float32), 16000)
    with pytest.raises(AudioError, match=r"silent .*silent.wav"):
        load_audio(utt(tmp_path / "silent.wav"), 16000)
    sf.write(tmp_path / "dc.wav", np.full(16000, 0.5, dtype=np.float32), 16000)  # clipped to a constant
    with pytest.raises(AudioError, match="silent"):
        load_audio(utt(tmp_path / "dc.wav"), 16000)
    with pytest.raises(AudioError, match="cannot read audio header"):
        duration_s(tmp_path / "corrupt.wav")

"""The weight-free log-mel upstream and the shared Upstream checks; device resolution."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from emobench.device import resolve_device, resolve_dtype
from emobench.errors import AudioError, EmobenchError
from emobench.upstreams.fbank import LogMelFbank, mel_matrix


def _waves(lengths, seed=0):
    rng = np.random.default_rng(seed)
    return [(0.1 * rng.standard_normal(n)).astype(np.float32) for n in lengths]


def test_shapes_frame_rate_and_batched_equals_single():
    up = LogMelFbank()
    assert (up.n_layers, up.dim, up.frame_rate_hz, up.sample_rate) == (1, 80, 100.0, 16000)
    waves = _waves([400, 1600, 16000, 8123])
    batched = up.extract(waves, layers=[0])
    for wave, feats in zip(waves, batched, strict=True):
        single = up.extract([wave], layers=[0])[0]
        assert feats.dtype == np.float32
        assert feats.shape == (1, up.n_frames(len(wave)), 80)
        assert np.abs(feats - single).max() < 1e-4
    assert [f.shape[1] for f in batched] == [1, 8, 98, 49]


def test_matches_numpy_reference():
    up = LogMelFbank(n_mels=40, preemphasis=0.0)
    wave = _waves([4000], seed=3)[0]
    got = up.extract([wave])[0][0]
    frames = np.lib.stride_tricks.sliding_window_view(wave, 400)[::160]  # [frames, 400]
    spec = np.abs(np.fft.rfft(frames * np.hanning(400), axis=1)) ** 2
    ref = np.log(spec @ mel_matrix(n_mels=40, n_fft=400, sample_rate=16000, f_min=20.0, f_max=8000.0) + 1e-6)
    np.testing.assert_allclose(got, ref, atol=1e-3, rtol=1e-4)


def test_identity_depends_on_params():
    assert LogMelFbank().identity() == LogMelFbank().identity()
    assert LogMelFbank(n_mels=40).identity() != LogMelFbank().identity()


def test_bad_input_messages():
    up = LogMelFbank()
    with pytest.raises(AudioError, match="receptive field"):
        up.extract(_waves([100]))
    with pytest.raises(EmobenchError, match="layer 3 out of range"):
        up.extract(_waves([1600]), layers=[3])
    with pytest.raises(AudioError, match="mono"):
        up.extract([np.zeros((2, 1600), np.float32)])


def test_device_resolution():
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    if not torch.cuda.is_available():
        with pytest.raises(EmobenchError, match="CUDA is not available"):
            resolve_device("cuda")
        with pytest.raises(EmobenchError, match="only supported on a GPU"):
            resolve_dtype("fp16", torch.device("cpu"))
    assert resolve_dtype("fp32", torch.device("cpu")) == torch.float32
    with pytest.raises(EmobenchError, match="unknown device"):
        resolve_device("tpu:banana")

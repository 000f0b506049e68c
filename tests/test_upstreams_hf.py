"""transformers backends on tiny random models saved with save_pretrained: real loading + extraction."""

from __future__ import annotations

import json

import numpy as np
import pytest
from tiny_models import save_tiny_hf

from emobench.errors import AudioError, EmobenchError
from emobench.registries import upstreams
from emobench.upstreams.hf import TransformersUpstream


def _waves(lengths, seed=0):
    rng = np.random.default_rng(seed)
    return [(0.1 * rng.standard_normal(n)).astype(np.float32) for n in lengths]


def _check_batched_equals_single(up, lengths):
    waves = _waves(lengths)
    batched = up.extract(waves)
    for wave, feats in zip(waves, batched, strict=True):
        assert feats.shape == (up.n_layers, up.n_frames(len(wave)), up.dim) and feats.dtype == np.float32
        assert np.abs(feats - up.extract([wave])[0]).max() < 1e-4
    return batched


@pytest.mark.parametrize("family", ["wavlm", "hubert", "wav2vec2"])
@pytest.mark.parametrize("norm", ["layer", "group"])
def test_w2v_family_batched_equals_single(tmp_path, family, norm):
    kw = {"feat_extract_norm": "layer", "do_stable_layer_norm": True} if norm == "layer" else {}
    up = TransformersUpstream(model=str(save_tiny_hf(tmp_path / family, family, **kw)))
    assert up.batch_mode == ("masked" if norm == "layer" else "pad-free")
    assert (up.n_layers, up.dim, up.frame_rate_hz, up.min_samples) == (3, 32, 50.0, 400)
    feats = _check_batched_equals_single(up, [400, 4000, 16000, 16000, 7001])
    assert [f.shape[1] for f in feats] == [1, 12, 49, 49, 21]
    if norm == "layer":  # the padded + masked path that GPUs take, checked here on CPU
        padded = up._forward_w2v(_waves([400, 4000, 16000, 16000, 7001]), [0, 1, 2], masked=True)
        assert max(np.abs(a - b).max() for a, b in zip(padded, feats, strict=True)) < 1e-4
    assert up.identity()["family"] == family and len(up.identity()["weights_sha256"]) == 64


def test_whisper_windows_trim_and_chunk(tmp_path):
    up = TransformersUpstream(model=str(save_tiny_hf(tmp_path / "w", "whisper")))
    assert (up.n_layers, up.dim, up.frame_rate_hz) == (3, 32, 50.0)
    feats = _check_batched_equals_single(up, [1000, 16000, 16000 * 31])
    assert [f.shape[1] for f in feats] == [4, 50, 1550]
    long_wave = _waves([1000, 16000, 16000 * 31])[2]
    first = up.extract([long_wave[: 16000 * 30]])[0]  # a 31 s file = a full window + a 1 s window
    np.testing.assert_allclose(feats[2][:, :1500], first, atol=1e-4)
    np.testing.assert_allclose(feats[2][:, 1500:], up.extract([long_wave[16000 * 30 :]])[0], atol=1e-4)


def test_whisper_log_mel_matches_transformers():
    import torch
    from transformers import WhisperFeatureExtractor

    from emobench.upstreams.hf_whisper import WhisperFrontend

    wave = _waves([16000 * 3], seed=4)[0]
    ref = WhisperFeatureExtractor(feature_size=80)(wave, sampling_rate=16000, return_tensors="np").input_features
    got = WhisperFrontend(n_mels=80).log_mel([wave], device=torch.device("cpu")).numpy()
    np.testing.assert_allclose(got, ref, atol=1e-4)


def test_registry_create_with_local_model_override(tmp_path):
    folder = save_tiny_hf(tmp_path / "wavlm", "wavlm", feat_extract_norm="layer", do_stable_layer_norm=True)
    up = upstreams.create("wavlm", model=str(folder), default_layer=1)
    assert isinstance(up, TransformersUpstream) and up.default_layer == 1
    assert "revision" not in up.identity()  # a local directory is identified by its files' hash


def test_bad_model_directories_and_inputs(tmp_path):
    with pytest.raises(EmobenchError, match="does not exist"):
        TransformersUpstream(model=str(tmp_path / "nothing"))
    folder = save_tiny_hf(tmp_path / "m", "hubert")
    (folder / "model.safetensors").rename(tmp_path / "weights.bak")
    with pytest.raises(EmobenchError, match="no model.safetensors"):
        TransformersUpstream(model=str(folder))
    (tmp_path / "weights.bak").rename(folder / "model.safetensors")
    config = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({**config, "num_hidden_layers": 3}))
    with pytest.raises(EmobenchError, match="missing"):
        TransformersUpstream(model=str(folder))
    (folder / "config.json").write_text(json.dumps({**config, "intermediate_size": 48}))
    with pytest.raises(EmobenchError, match="wrong shape|do not match"):
        TransformersUpstream(model=str(folder))
    (folder / "config.json").write_text(json.dumps(config))
    up = TransformersUpstream(model=str(folder))
    with pytest.raises(EmobenchError, match="layer 3 out of range"):
        up.extract(_waves([1600]), layers=[3])
    with pytest.raises(AudioError, match="receptive field"):
        up.extract(_waves([399]))


def test_offline_hub_failure_is_clear(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(EmobenchError, match="pass model=DIR"):
        TransformersUpstream(model="emobench-test/not-a-model", revision="main", local_files_only=True)

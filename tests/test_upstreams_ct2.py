"""whisper-ct2: Whisper through CTranslate2, checked against transformers' WhisperEncoder running the same
weights. Real Whisper-base (the packaged model.bin read back into a transformers state dict) and a tiny
random Whisper converted here with CTranslate2's own converter. Needs the ct2 extra; skipped without it.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.resources
import importlib.util
import math
import re
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from emobench.errors import EmobenchError, MissingExtraError
from emobench.upstreams.ct2_files import PACKAGES, packaged_whisper_base, read_ct2_header
from emobench.upstreams.hf_whisper import WhisperFrontend

SR = 16_000


def _extra_missing() -> str | None:
    if importlib.util.find_spec("ctranslate2") is None:
        return "ctranslate2 is not installed"
    for name in PACKAGES:
        try:
            importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            return f"{name} is not installed"
    return None


MISSING = _extra_missing()
needs_ct2 = pytest.mark.skipif(MISSING is not None, reason=f"needs the ct2 extra ({MISSING}): pip install -e '.[ct2]'")


def voiced(seconds: float, *, f0: float, seed: int) -> np.ndarray:
    """Vowel-like synthetic speech: a gliding harmonic source shaped by two formants, syllable envelopes, noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR)) / SR
    f0_t = f0 * (1 + 0.12 * np.sin(2 * np.pi * 0.6 * t + seed))
    phase = 2 * np.pi * np.cumsum(f0_t) / SR
    wave = np.zeros_like(t)
    for k in range(1, 25):
        hz = k * f0
        gain = np.exp(-(((hz - 650) / 180) ** 2)) + 0.6 * np.exp(-(((hz - 1300 - 200 * seed) / 250) ** 2)) + 0.02
        wave += gain / k * np.sin(k * phase)
    envelope = 0.55 + 0.45 * np.sin(2 * np.pi * 4.0 * t) ** 2
    wave = wave * envelope + 0.01 * rng.standard_normal(t.size)
    return (0.3 * wave / np.abs(wave).max()).astype(np.float32)


@pytest.fixture(scope="module")
def clips():
    return [voiced(2.5, f0=140, seed=0), voiced(31.0, f0=210, seed=1)]  # 125 frames; 1500 + 50 (two windows)


@pytest.fixture(scope="module")
def base_dir(tmp_path_factory):
    return packaged_whisper_base(cache_dir=tmp_path_factory.mktemp("cache"))[0]


def reference(encoder, waves, *, n_mels: int) -> list[np.ndarray]:
    """transformers: WhisperFeatureExtractor per 30 s window, WhisperEncoder, frames covering the audio."""
    from transformers import WhisperFeatureExtractor

    fe = WhisperFeatureExtractor(feature_size=n_mels)
    out = []
    for wave in waves:
        parts = []
        for s in range(0, len(wave), 30 * SR):
            chunk = wave[s : s + 30 * SR]
            mel = fe(chunk, sampling_rate=SR, return_tensors="pt").input_features  # [1, n_mels, 3000]
            with torch.inference_mode():
                parts.append(encoder(mel).last_hidden_state[0, : math.ceil(len(chunk) / 320)].numpy())
        out.append(np.concatenate(parts)[None])
    return out


def transformers_encoder(folder: Path):
    """A transformers WhisperEncoder holding the encoder weights of a CTranslate2 model.bin.

    The inverse of CTranslate2's WhisperLoader (converters/transformers.py): self_attention/linear_0 is
    q, k, v fused along the output axis (k has no bias, so its slice of the fused bias is zero),
    linear_1 is out_proj, ffn/linear_0|1 are fc1|fc2, layer norms are gamma/beta.
    """
    from transformers import WhisperConfig
    from transformers.models.whisper.modeling_whisper import WhisperEncoder

    header = read_ct2_header(folder, what="test")
    var = header.variables
    dim, n_mels, _ = var["encoder/conv1/weight"].shape
    n_layers = len({k.split("/")[1] for k in var if re.match(r"encoder/layer_\d+/", k)})
    config = WhisperConfig(
        d_model=dim, encoder_layers=n_layers, encoder_attention_heads=int(header.array("encoder/num_heads")),
        encoder_ffn_dim=var["encoder/layer_0/ffn/linear_0/weight"].shape[0], num_mel_bins=n_mels,
        max_source_positions=var["encoder/position_encodings/encodings"].shape[0],
    )
    used = {"encoder/num_heads"}

    def take(name: str) -> torch.Tensor:
        used.add(name)
        return torch.from_numpy(header.array(name).astype(np.float32))

    state = {"embed_positions.weight": take("encoder/position_encodings/encodings")}
    for ours, theirs in (("conv1", "conv1"), ("conv2", "conv2")):
        state[f"{ours}.weight"], state[f"{ours}.bias"] = take(f"encoder/{theirs}/weight"), take(f"encoder/{theirs}/bias")
    state["layer_norm.weight"], state["layer_norm.bias"] = take("encoder/layer_norm/gamma"), take("encoder/layer_norm/beta")
    for i in range(n_layers):
        src, dst = f"encoder/layer_{i}/", f"layers.{i}."
        qkv_w, qkv_b = take(src + "self_attention/linear_0/weight"), take(src + "self_attention/linear_0/bias")
        assert torch.count_nonzero(qkv_b[dim : 2 * dim]) == 0, "k_proj has no bias in Whisper"
        for j, proj in enumerate("qkv"):
            state[f"{dst}self_attn.{proj}_proj.weight"] = qkv_w[j * dim : (j + 1) * dim]
            if proj != "k":
                state[f"{dst}self_attn.{proj}_proj.bias"] = qkv_b[j * dim : (j + 1) * dim]
        pairs = {"self_attn.out_proj": "self_attention/linear_1", "fc1": "ffn/linear_0", "fc2": "ffn/linear_1"}
        for name, ct2 in pairs.items():
            state[f"{dst}{name}.weight"], state[f"{dst}{name}.bias"] = take(src + ct2 + "/weight"), take(src + ct2 + "/bias")
        for name, ct2 in {"self_attn_layer_norm": "self_attention/layer_norm", "final_layer_norm": "ffn/layer_norm"}.items():
            state[f"{dst}{name}.weight"], state[f"{dst}{name}.bias"] = take(src + ct2 + "/gamma"), take(src + ct2 + "/beta")
    encoder = WhisperEncoder(config).eval()
    encoder.load_state_dict(state, strict=True)
    assert used == {k for k in var if k.startswith("encoder/")}, "every encoder variable of model.bin is mapped"
    return encoder


def test_log_mel_matches_whisper_feature_extractor():
    from transformers import WhisperFeatureExtractor

    frontend = WhisperFrontend(n_mels=80)
    for wave in (voiced(0.7, f0=120, seed=3), voiced(12.0, f0=230, seed=4), voiced(30.0, f0=180, seed=5)):
        ref = WhisperFeatureExtractor(feature_size=80)(wave, sampling_rate=SR, return_tensors="np").input_features
        got = frontend.log_mel([wave], device=torch.device("cpu")).numpy()  # [1, 80, 3000]
        np.testing.assert_allclose(got, ref, atol=1e-5)


@pytest.fixture(scope="module")
def base_features(base_dir, clips):
    from emobench.upstreams.whisper_ct2 import CT2WhisperUpstream

    up = CT2WhisperUpstream(model=str(base_dir), threads=2, max_batch_windows=2)  # windows (a, b0), (b1)
    return up, up.extract(clips)


@needs_ct2
def test_whisper_base_matches_transformers_encoder_with_the_same_weights(base_dir, clips, base_features):
    up, got = base_features
    ref = reference(transformers_encoder(base_dir), clips, n_mels=80)
    for g, r, wave in zip(got, ref, clips, strict=True):
        assert g.shape == r.shape == (1, math.ceil(len(wave) / SR * 50), 512)
        np.testing.assert_allclose(g, r, rtol=1e-3, atol=1e-3)  # float32 vs float32: only summation order differs
        assert np.linalg.norm(g - r) / np.linalg.norm(r) < 1e-4


@needs_ct2
def test_batched_equals_one_at_a_time_deterministic_and_clip_dependent(base_dir, clips, base_features):
    from emobench.upstreams.whisper_ct2 import CT2WhisperUpstream

    _, batched = base_features
    single = CT2WhisperUpstream(model=str(base_dir), threads=2, max_batch_windows=1)
    for b, wave in zip(batched, clips, strict=True):
        np.testing.assert_allclose(b, single.extract([wave])[0], atol=1e-5)
        assert np.isfinite(b).all()
    np.testing.assert_array_equal(single.extract(clips[:1])[0], single.extract(clips[:1])[0])  # repeatable
    a, long = batched[0][0], batched[1][0]
    assert a.shape == (125, 512) and long.shape == (1550, 512)
    assert np.abs(a - long[:125]).mean() > 0.1  # other audio, other features (mean |feature| is ~0.6)
    assert np.abs(long[1500:] - long[:50]).mean() > 0.1  # the second window is its own audio


@needs_ct2
def test_int8_is_close_to_float32_and_keys_its_own_cache(base_dir, clips, base_features):
    from emobench.upstreams.whisper_ct2 import CT2WhisperUpstream

    up, got = base_features
    int8 = CT2WhisperUpstream(model=str(base_dir), compute_type="int8", threads=2)
    q = int8.extract(clips[:1])[0][0]
    f = got[0][0]
    cos = (q * f).sum(-1) / np.linalg.norm(q, axis=-1) / np.linalg.norm(f, axis=-1)  # per frame
    assert cos.min() > 0.95 and cos.mean() > 0.99  # measured on x86-64 AVX2: min 0.983, mean 0.9986
    assert not np.allclose(q, f, atol=1e-3)  # the compute type took effect
    assert int8.identity()["compute_type"] == "int8" and up.identity()["compute_type"] == "float32"
    assert int8.identity() != up.identity()


@needs_ct2
def test_any_ct2_folder_equals_the_transformers_model_it_was_converted_from(tmp_path):
    """A tiny random Whisper with 128 mel bins (large-v3 style) through ct2-transformers-converter."""
    import transformers as tf
    from ctranslate2.converters import TransformersConverter

    from emobench.upstreams.whisper_ct2 import CT2WhisperUpstream

    torch.manual_seed(0)
    config = tf.WhisperConfig(d_model=64, encoder_layers=2, decoder_layers=1, encoder_attention_heads=4,
                              decoder_attention_heads=4, encoder_ffn_dim=128, decoder_ffn_dim=128,
                              num_mel_bins=128, vocab_size=51866)
    model = tf.WhisperForConditionalGeneration(config).eval()
    model.save_pretrained(tmp_path / "hf")
    tokenizer_json = next(Path(str(f.locate())) for f in importlib.metadata.files(PACKAGES[0]) if f.name == "tokenizer.json")
    tf.PreTrainedTokenizerFast(tokenizer_file=str(tokenizer_json)).save_pretrained(tmp_path / "hf")
    TransformersConverter(str(tmp_path / "hf")).convert(str(tmp_path / "ct2"), quantization="float32")

    up = CT2WhisperUpstream(model=str(tmp_path / "ct2"), threads=2)
    assert (up.dim, up.frontend.n_mels, up.n_layers) == (64, 128, 1)
    waves = [voiced(1.3, f0=160, seed=6), voiced(4.1, f0=110, seed=7)]
    got = up.extract(waves)
    ref = reference(model.model.encoder, waves, n_mels=128)
    for g, r in zip(got, ref, strict=True):
        np.testing.assert_allclose(g, r, rtol=1e-4, atol=1e-4)
    assert up.identity()["model_bin_sha256"] == hashlib.sha256((tmp_path / "ct2" / "model.bin").read_bytes()).hexdigest()


def _parts_sha256() -> str:
    h = hashlib.sha256()
    for i, name in enumerate(PACKAGES, 1):
        part = next(f for f in importlib.metadata.files(name) if f.name == f"model.bin.part{i}")
        h.update(Path(str(part.locate())).read_bytes())
    return h.hexdigest()


@needs_ct2
def test_packaged_model_is_assembled_once_checksummed_and_repaired(tmp_path):
    folder, sums = packaged_whisper_base(cache_dir=tmp_path)
    assert folder.parent == tmp_path / "models" / "whisper-base-ct2"
    assert sums["model.bin"] == _parts_sha256()
    assert {"model.bin", "config.json", "tokenizer.json", "vocabulary.txt", "SHA256SUMS"} == {p.name for p in folder.iterdir()}
    stamp = (folder / "model.bin").stat().st_mtime_ns
    assert packaged_whisper_base(cache_dir=tmp_path)[0] == folder
    assert (folder / "model.bin").stat().st_mtime_ns == stamp  # verified, not assembled again

    with open(folder / "model.bin", "r+b") as fh:  # a flipped byte inside a weight
        fh.seek(50_000_000)
        byte = fh.read(1)
        fh.seek(50_000_000)
        fh.write(bytes([byte[0] ^ 0xFF]))
    again, sums = packaged_whisper_base(cache_dir=tmp_path)
    assert again == folder and sums["model.bin"] == _parts_sha256()
    assert hashlib.sha256((folder / "model.bin").read_bytes()).hexdigest() == _parts_sha256()
    assert [p.name for p in folder.parent.iterdir()] == [folder.name]  # no temporary or stale folders left


@needs_ct2
def test_default_model_uses_the_cache_and_the_catalogue_spec_matches(tmp_path, monkeypatch):
    import yaml

    from emobench.registries import upstreams

    monkeypatch.setenv("EMOBENCH_CACHE", str(tmp_path))
    up = upstreams.create("whisper-ct2")
    assert up.folder.is_relative_to(tmp_path / "models")
    assert up.identity()["model_bin_sha256"] == _parts_sha256()
    spec = yaml.safe_load((importlib.resources.files("emobench.catalogue") / "upstreams" / "whisper-ct2.yaml").read_text())
    built = {"n_layers": up.n_layers, "dim": up.dim, "frame_rate_hz": up.frame_rate_hz,
             "default_layer": up.default_layer, "sample_rate": up.sample_rate}
    assert built == {k: spec[k] for k in built}
    assert up.n_frames(30 * SR + 1) == 1501 and up.n_frames(321) == 2 and up.min_samples == 320


@needs_ct2
def test_clear_errors(tmp_path, base_dir, monkeypatch):
    from emobench.upstreams.whisper_ct2 import CT2WhisperUpstream

    with pytest.raises(EmobenchError, match="does not exist; pass a CTranslate2 Whisper folder"):
        CT2WhisperUpstream(model=str(tmp_path / "nowhere"))
    (tmp_path / "cut").mkdir()
    (tmp_path / "cut" / "model.bin").write_bytes((base_dir / "model.bin").open("rb").read(1_000_000))
    with pytest.raises(EmobenchError, match="truncated"):
        CT2WhisperUpstream(model=str(tmp_path / "cut"))
    with pytest.raises(ValueError, match="compute_type 'int4' is unknown"):
        CT2WhisperUpstream(model=str(base_dir), compute_type="int4")
    with pytest.raises(EmobenchError, match="compute_type 'float16' is not supported on cpu"):
        CT2WhisperUpstream(model=str(base_dir), compute_type="float16").identity()
    monkeypatch.setattr(importlib.metadata, "distribution", _not_found)
    with pytest.raises(MissingExtraError, match=r"emobench\[ct2\]"):
        packaged_whisper_base(cache_dir=tmp_path)


def _not_found(name):
    raise importlib.metadata.PackageNotFoundError(name)


def test_missing_ctranslate2_names_the_extra(monkeypatch):
    from emobench.upstreams.whisper_ct2 import CT2WhisperUpstream

    monkeypatch.setitem(sys.modules, "ctranslate2", None)  # what an environment without it imports
    with pytest.raises(MissingExtraError, match=r"upstream whisper-ct2 needs the 'ct2' extra"):
        CT2WhisperUpstream()

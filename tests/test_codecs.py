"""Codec upstreams, the codec's own RVQ as a quantizer, and resynthesis, on tiny random transformers codecs."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from codec_fixtures import HOP, SR, save_tiny_codec, waves

from emobench.codecs.layout import CodecError, layout_from_config
from emobench.codecs.load import load_codec
from emobench.codecs.resynth import ResynthCache, resynthesize, resynthesize_depths
from emobench.errors import EmobenchError
from emobench.quantizers.base import QuantizerError, load_quantizer
from emobench.quantizers.codec_rvq import CodecRVQ
from emobench.upstreams.codecs import CodecUpstream

FAMILIES = ["encodec", "dac", "mimi"]
LENGTHS = [25 * HOP, 25 * HOP + 13, 25 * HOP, 19 * HOP + 17]  # two equal lengths share a pad-free batch


@pytest.fixture(scope="module")
def codec_dirs(tmp_path_factory):
    root = tmp_path_factory.mktemp("codecs")
    return {f: save_tiny_codec(root / f, f) for f in FAMILIES}


def own_codes_and_audio(codec, wave: np.ndarray, d: int):
    """The transformers model's own encode at ``d`` codebooks and its own decode: codes [d, T], audio [S]."""
    model, x = codec.model, torch.from_numpy(codec.pad_to_frames(wave))[None, None]
    with torch.no_grad():
        if codec.family == "encodec":
            out = model.encode(x, bandwidth=codec.layout.bitrate_bps(d) / 1000)
            return out.audio_codes[0, 0], model.decode(out.audio_codes, out.audio_scales)[0][0, 0]
        if codec.family == "dac":
            out = model.encode(x, n_quantizers=d)
            return out.audio_codes[0], model.decode(audio_codes=out.audio_codes)[0][0]
        out = model.encode(x, num_quantizers=d)
        return out.audio_codes[0], model.decode(out.audio_codes).audio_values[0, 0]


# -- bitrates of the published checkpoints, from their real configurations ------------------------------
def test_real_configs_give_the_documented_bandwidths():
    from transformers import DacConfig, EncodecConfig, MimiConfig

    encodec = layout_from_config(EncodecConfig())  # the defaults are facebook/encodec_24khz
    assert (encodec.sample_rate, encodec.frame_rate_hz, encodec.latent_dim) == (24_000, 75.0, 128)
    assert encodec.trained_depths == (2, 4, 8, 16, 32)
    assert [encodec.bitrate_bps(d) / 1000 for d in encodec.trained_depths] == [1.5, 3.0, 6.0, 12.0, 24.0]
    dac = layout_from_config(DacConfig(downsampling_ratios=[2, 4, 5, 8], n_codebooks=12, sampling_rate=16_000))
    assert (dac.frame_rate_hz, dac.latent_dim, dac.bitrate_bps(12)) == (50.0, 1024, 6000.0)  # DAC 16 kHz: 6 kbps
    mimi = layout_from_config(MimiConfig())
    assert (mimi.frame_rate_hz, mimi.hop_length, mimi.latent_dim, mimi.n_codebooks) == (12.5, 1920, 512, 32)
    assert mimi.bitrate_bps(8) == 1100.0  # Moshi's 1.1 kbps (8 codebooks x 11 bits x 12.5 Hz)


def test_codec_rvq_bitrate_on_the_real_encodec_quantizer():
    from transformers import EncodecConfig

    from emobench.codecs.quantizer import CodecQuantizer

    q = CodecRVQ.from_quantizer(CodecQuantizer(EncodecConfig()), model="facebook/encodec_24khz")
    assert q.depths == [2, 4, 8, 16, 32] and (q.n_stages, q.codebook_size, q.frame_rate_hz) == (32, 1024, 75.0)
    assert [q.bitrate_bps(d) for d in q.depths] == [1500.0, 3000.0, 6000.0, 12000.0, 24000.0]
    with pytest.raises(QuantizerError, match="not 3"):
        q.bits_per_frame(3)  # no EnCodec bandwidth has 3 codebooks
    assert CodecRVQ.from_quantizer(q.codec_quantizer, model="x", prefixes="all").bitrate_bps(3) == 2250.0


def test_a_bandwidth_transformers_would_round_is_refused():
    from transformers import EncodecConfig
    from transformers.models.encodec.modeling_encodec import EncodecResidualVectorQuantizer

    config = EncodecConfig()
    # transformers floors 2.0 kbps to 2 codebooks (1.5 kbps) without a word: the trap we refuse to fall in
    assert EncodecResidualVectorQuantizer(config).get_num_quantizers_for_bandwidth(2.0) == 2
    layout = layout_from_config(config)
    assert layout.depth_for_kbps(6.0) == 8
    with pytest.raises(CodecError, match="1.5, 3, 6, 12, 24 kbps, not 2 kbps"):
        layout.depth_for_kbps(2.0)


# -- the upstream ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("family", FAMILIES)
def test_upstream_frames_are_the_encoder_latent_and_batching_is_exact(codec_dirs, family):
    up = CodecUpstream(model=str(codec_dirs[family]))
    layout = up.codec.layout
    assert (up.sample_rate, up.frame_rate_hz, up.dim, up.n_layers) == (SR, 100.0, layout.latent_dim, 1)
    assert up.identity()["family"] == family and "weights_sha256" in up.identity()
    ws = waves(LENGTHS)
    batched = up.extract(ws)
    single = [up.extract([w])[0] for w in ws]
    assert [f.shape for f in batched] == [(1, math.ceil(n / HOP), layout.latent_dim) for n in LENGTHS]
    for a, b in zip(batched, single):
        np.testing.assert_allclose(a, b, atol=2e-5)
    with torch.no_grad():  # the frames are what the codec's encoder gives for the padded audio
        direct = up.codec.encode_latent(torch.from_numpy(up.codec.pad_to_frames(ws[1]))[None])[0].T.numpy()
    np.testing.assert_allclose(single[1][0], direct, atol=1e-6)


@pytest.mark.parametrize("family", ["encodec", "mimi"])
def test_causal_codecs_batch_with_zero_padding_exactly(codec_dirs, family):
    up = CodecUpstream(model=str(codec_dirs[family]), batch_mode="masked")
    ws = waves(LENGTHS, seed=3)
    for a, b in zip(up.extract(ws), [up.extract([w])[0] for w in ws]):
        np.testing.assert_allclose(a, b, atol=2e-5)


def test_non_causal_codec_refuses_masked_batches(codec_dirs):
    with pytest.raises(EmobenchError, match="not causal"):
        CodecUpstream(model=str(codec_dirs["dac"]), batch_mode="masked")


def test_pad_to_seconds_gives_every_utterance_the_same_frames(codec_dirs):
    up = CodecUpstream(model=str(codec_dirs["encodec"]), pad_to_s=0.5)  # 2000 samples = 50 frames
    assert {f.shape for f in up.extract(waves([HOP * 10, HOP * 30 + 3]))} == {(1, 50, 16)}
    assert up.identity()["pad_to_samples"] == 2000


def test_loading_errors_are_one_clear_line(tmp_path, codec_dirs):
    with pytest.raises(EmobenchError, match="does not exist"):
        load_codec(str(tmp_path / "missing"))
    with pytest.raises(CodecError, match="holds a dac codec"):
        load_codec(str(codec_dirs["dac"]), family="mimi")
    from transformers import WavLMConfig, WavLMModel

    WavLMModel(WavLMConfig(hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32,
                           conv_dim=(8, 8), conv_stride=(5, 4), conv_kernel=(10, 8), num_conv_pos_embeddings=8,
                           num_conv_pos_embedding_groups=2)).save_pretrained(tmp_path / "wavlm")
    with pytest.raises(CodecError, match="not a codec"):
        load_codec(str(tmp_path / "wavlm"))


# -- the codec's own RVQ as a quantizer ------------------------------------------------------------------
@pytest.fixture(scope="module")
def fitted(codec_dirs):
    out = {}
    for family in FAMILIES:
        up = CodecUpstream(model=str(codec_dirs[family]))
        frames = up.extract(waves(LENGTHS))
        q = CodecRVQ(model=str(codec_dirs[family])).fit(np.concatenate([f[0] for f in frames]))
        out[family] = (up, q)
    return out


@pytest.mark.parametrize("family", FAMILIES)
def test_codes_and_prefix_decoding_equal_the_codecs_own(fitted, family):
    up, q = fitted[family]
    wave = waves(LENGTHS)[1]
    X = up.extract([wave])[0][0]  # [T, D]
    codes = q.encode(X)  # [T, n_codebooks]
    assert codes.shape == (len(X), q.n_stages) and len(np.unique(codes[:, 0])) > 1
    for d in q.depths:
        own_codes, _ = own_codes_and_audio(up.codec, wave, d)
        assert own_codes.shape[0] == d  # the codec itself used d codebooks
        np.testing.assert_array_equal(codes[:, :d], own_codes.T.numpy())
        with torch.no_grad():
            own_latent = up.codec.quantizer.module  # the codec's dequantizer, called the codec's own way
            if family == "encodec":
                ref = own_latent.decode(own_codes[:, None])[0].T
            elif family == "dac":
                ref = own_latent.from_codes(own_codes[None])[0][0].T
            else:
                ref = own_latent.decode(own_codes[None])[0].T
        np.testing.assert_allclose(q.decode(codes, depth=d), ref.numpy(), atol=1e-5)


@pytest.mark.parametrize("family", FAMILIES)
def test_depth_d_decodes_exactly_d_codebooks(fitted, family):
    _, q = fitted[family]
    rng = np.random.default_rng(0)
    codes = rng.integers(0, q.codebook_size, size=(30, q.n_stages))
    for d in q.depths:
        base = q.decode(codes, depth=d)
        changed_inside = codes.copy()
        changed_inside[:, d - 1] = (codes[:, d - 1] + 1) % q.codebook_size
        assert not np.allclose(q.decode(changed_inside, depth=d), base)  # codebook d is used
        if d < q.n_stages:
            changed_outside = codes.copy()
            changed_outside[:, d:] = (codes[:, d:] + 1) % q.codebook_size
            np.testing.assert_array_equal(q.decode(changed_outside, depth=d), base)  # codebook d+1 is not


def test_codec_rvq_bits_are_the_codecs_bandwidth(fitted):
    _, q = fitted["encodec"]  # tiny EnCodec: 100 Hz x 4 bits, target bandwidths 0.8 / 1.6 / 3.2 kbps
    assert q.depths == [2, 4, 8]
    assert [q.bitrate_bps(d) for d in q.depths] == [800.0, 1600.0, 3200.0]
    with pytest.raises(QuantizerError, match="decodes 2, 4, 8 codebooks"):
        q.decode(np.zeros((3, 8), dtype=np.int64), depth=3)
    _, dac = fitted["dac"]
    assert dac.depths == list(range(1, 7)) and dac.bits_per_frame(5) == 20.0


def test_codec_rvq_refuses_frames_of_another_width(codec_dirs):
    with pytest.raises(QuantizerError, match="quantizes 32-d encoder latents, but the frames are 16-d"):
        CodecRVQ(model=str(codec_dirs["dac"])).fit(np.zeros((50, 16), np.float32))


@pytest.mark.parametrize("family", FAMILIES)
def test_saved_codec_rvq_loads_without_the_checkpoint(fitted, tmp_path, family):
    up, q = fitted[family]
    q.fitted_on = {"upstream": up.identity(), "layer": 0}
    q.save(tmp_path / "q")
    back = load_quantizer(tmp_path / "q", expect={"layer": 0})  # rebuilt from the saved config and codebooks
    X = up.extract(waves([30 * HOP], seed=5))[0][0]
    codes = q.encode(X)
    np.testing.assert_array_equal(back.encode(X), codes)
    for d in q.depths:
        np.testing.assert_array_equal(back.decode(codes, d), q.decode(codes, d))
        assert back.bits_per_frame(d) == q.bits_per_frame(d)


# -- resynthesis -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("family", FAMILIES)
def test_resynthesis_equals_the_codecs_own_encode_and_decode(fitted, family):
    up, q = fitted[family]
    wave = waves(LENGTHS)[3]
    ours = resynthesize_depths(up.codec, wave, q.depths)
    for d in q.depths:
        _, own_audio = own_codes_and_audio(up.codec, wave, d)
        own = own_audio.numpy()[: len(wave)]
        assert ours[d].shape == wave.shape and ours[d].dtype == np.float32
        np.testing.assert_allclose(ours[d][: len(own)], own, atol=1e-5)
    assert not np.allclose(ours[q.depths[0]], ours[q.depths[-1]])  # more codebooks, another signal


def test_resynthesis_bandwidth_must_be_offered(fitted):
    codec = fitted["encodec"][0].codec
    wave = waves([20 * HOP])[0]
    np.testing.assert_array_equal(resynthesize(codec, wave, kbps=1.6), resynthesize(codec, wave, n_codebooks=4))
    with pytest.raises(CodecError, match="offers 0.8, 1.6, 3.2 kbps, not 1 kbps"):
        resynthesize(codec, wave, kbps=1.0)
    with pytest.raises(CodecError, match="trained to decode 2, 4, 8 codebooks, not 3"):
        resynthesize(codec, wave, n_codebooks=3)


def test_resynthesis_cache_is_keyed_by_codec_depth_and_content(fitted, tmp_path):
    codec = fitted["dac"][0].codec
    cache = ResynthCache(tmp_path)
    a, b = waves([20 * HOP, 20 * HOP], seed=9)
    first = cache.get(codec, a, [1, 6])
    files = sorted(p.relative_to(tmp_path).as_posix() for p in (tmp_path / "resynth").rglob("*.npy"))
    assert len(files) == 2 and {f.split("/")[2] for f in files} == {"d1", "d6"}
    np.testing.assert_array_equal(first[6], resynthesize(codec, a, n_codebooks=6))
    cached = cache.path(codec, 6, a)
    np.save(cached, np.full(len(a), 0.25, np.float32), allow_pickle=False)  # what is on disk is what is served
    assert (cache.get(codec, a, [6])[6] == 0.25).all()
    assert cache.path(codec, 6, b) != cached and not cache.path(codec, 6, b).exists()
    np.save(cached, np.zeros(3, np.float32), allow_pickle=False)
    with pytest.raises(EmobenchError, match="expected float32"):
        cache.get(codec, a, [6])

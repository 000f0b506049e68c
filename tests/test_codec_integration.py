"""Codec entries through the catalogue and the feature cache, as the harness uses them; the extras' errors."""

from __future__ import annotations

import importlib.util
import math

import numpy as np
import pytest
from codec_fixtures import HOP, SR, save_tiny_codec
from tiny_models import write_wavs

from emobench.cache import FeatureCache
from emobench.codecs.layout import layout_from_config
from emobench.errors import MissingExtraError
from emobench.quantizers.base import load_quantizer
from emobench.registries import quantizers, upstreams


def test_codec_specs_match_the_real_configs():
    from transformers import DacConfig, EncodecConfig, MimiConfig

    real = {"encodec": EncodecConfig(), "mimi": MimiConfig(),
            "dac": DacConfig(downsampling_ratios=[2, 4, 5, 8], n_codebooks=12, sampling_rate=16_000)}
    for name, config in real.items():
        spec, layout = upstreams.get(name).spec, layout_from_config(config)
        assert (spec.dim, spec.frame_rate_hz, spec.sample_rate) == (layout.latent_dim, layout.frame_rate_hz,
                                                                    layout.sample_rate)
        assert quantizers.get(f"{name}-rvq").params["model"] == upstreams.get(name).params["model"]
    from emobench.codecs.speechtokenizer import layout_from_st_config

    # SpeechTokenizer's published config (config/spt_base_cfg.json): no package import needed for the layout
    st = layout_from_st_config({"strides": [8, 5, 4, 2], "dimension": 1024, "codebook_size": 1024, "n_q": 8,
                                "sample_rate": 16000, "bidirectional": True})
    spec = upstreams.get("speechtokenizer").spec
    assert (spec.dim, spec.frame_rate_hz, spec.sample_rate) == (st.latent_dim, st.frame_rate_hz, st.sample_rate)
    assert st.bitrate_bps(8) == 4000.0 and not st.causal


def test_catalogue_codec_through_the_feature_cache(tmp_path):
    model = str(save_tiny_codec(tmp_path / "encodec", "encodec"))
    utts = write_wavs(tmp_path / "wavs", [0.5, 0.73, 0.5], sr=16_000)  # the cache resamples to the codec's 4 kHz
    up = upstreams.create("encodec", model=model)
    fs = FeatureCache(tmp_path / "cache").features(up, utts, layers=[0])
    assert list(fs.lengths) == [math.ceil(d * SR / HOP) for d in (0.5, 0.73, 0.5)]
    q = quantizers.create("encodec-rvq", model=model)
    q.fit(fs.frame_source(0))  # how TaskContext.fit_quantizer fits: a FrameSource over the cached shards
    q.fitted_on = {"upstream": up.identity(), "layer": 0}
    q.save(tmp_path / "q")
    back = load_quantizer(tmp_path / "q", expect={"upstream": up.identity()})
    frames = fs.frames(0, 1)
    np.testing.assert_array_equal(back.encode(frames), q.encode(frames))
    assert [q.bitrate_bps(d) for d in q.depths] == [800.0, 1600.0, 3200.0]
    again = FeatureCache(tmp_path / "cache").features(up, utts, layers=[0])  # read back, not recomputed
    np.testing.assert_array_equal(again.frames(0, 1), frames)


@pytest.mark.skipif(importlib.util.find_spec("speechtokenizer") is not None, reason="speechtokenizer is installed")
def test_speechtokenizer_without_its_extra_says_what_to_install(tmp_path):
    folder = tmp_path / "st"
    folder.mkdir()
    (folder / "config.json").write_text('{"strides": [8, 5, 4, 2], "sample_rate": 16000}')
    (folder / "SpeechTokenizer.pt").write_bytes(b"")
    with pytest.raises(MissingExtraError, match=r"SpeechTokenizer.*torchaudio.*'speechtokenizer' extra"):
        upstreams.create("speechtokenizer", model=str(folder))


def _speechbrain_imports() -> bool:
    try:
        import speechbrain  # noqa: F401
    except Exception:
        return False
    return True


@pytest.mark.skipif(_speechbrain_imports(), reason="speechbrain imports here")
def test_xvector_without_its_extra_says_what_to_install():
    with pytest.raises(MissingExtraError, match=r"x-vector upstream.*torchaudio.*'xvector' extra"):
        upstreams.create("xvector")


def test_a_codecs_own_rvq_reads_the_checkpoint_given_to_the_upstream(tmp_path, monkeypatch):
    """-U model=DIR alone binds encodec-rvq to DIR too (else it would reach for the hub's checkpoint);
    the quantizer's own -Q model=... still wins; the registry name is never fingerprinted as a path."""
    from emobench.config import RunConfig
    from emobench.resolve import resolve

    local = tmp_path / "my-encodec"
    local.mkdir()
    run = resolve(RunConfig(upstream="encodec", upstream_params={"model": str(local)}, quantizer="encodec-rvq",
                            task="rq1"))
    assert run.roles["system"].params["model"] == str(local)
    other = resolve(RunConfig(upstream="encodec", upstream_params={"model": str(local)}, quantizer="encodec-rvq",
                              quantizer_params={"": {"model": "facebook/encodec_24khz"}}, task="rq1"))
    assert other.roles["system"].params["model"] == "facebook/encodec_24khz"
    assert resolve(RunConfig(upstream="encodec", quantizer="encodec-rvq", task="rq1")).roles["system"].params[
        "model"] == "facebook/encodec_24khz"
    (tmp_path / "encodec").mkdir()
    monkeypatch.chdir(tmp_path)
    assert not [k for k in resolve(RunConfig(upstream="encodec", task="rq1")).local_files if k.endswith(".name")]

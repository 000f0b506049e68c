"""s3prl's wavlm_local hub entry on a tiny checkpoint; torchaudio-dependent entries fail clearly."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from emobench.errors import EmobenchError, MissingExtraError


def _waves(lengths, seed=0):
    rng = np.random.default_rng(seed)
    return [(0.1 * rng.standard_normal(n)).astype(np.float32) for n in lengths]


@pytest.mark.parametrize("mode", ["layer_norm", "default"])
def test_wavlm_local_batched_equals_single(tmp_path, mode):
    pytest.importorskip("s3prl")
    from tiny_models import save_tiny_s3prl_wavlm

    from emobench.upstreams.s3prl_hub import S3PRLHubUpstream

    up = S3PRLHubUpstream(model=str(save_tiny_s3prl_wavlm(tmp_path / "w.pt", extractor_mode=mode)))
    assert (up.n_layers, up.dim, up.frame_rate_hz, up.min_samples) == (3, 32, 50.0, 400)
    waves = _waves([400, 8000, 16000, 16000, 5000])
    for wave, feats in zip(waves, up.extract(waves), strict=True):
        assert feats.shape == (3, up.n_frames(len(wave)), 32)
        assert np.abs(feats - up.extract([wave])[0]).max() < 1e-4
    with pytest.raises(EmobenchError, match="not a file"):
        S3PRLHubUpstream(model=str(tmp_path / "missing.pt"))
    (tmp_path / "junk.pt").write_bytes(b"junk")
    with pytest.raises(EmobenchError, match="cannot load"):
        S3PRLHubUpstream(model=str(tmp_path / "junk.pt"))


def test_torchaudio_entries_name_a_working_pairing(tmp_path):
    if importlib.util.find_spec("s3prl") is None:
        from emobench.upstreams.s3prl_hub import S3PRLHubUpstream

        with pytest.raises(MissingExtraError, match=r"emobench\[s3prl\]"):
            S3PRLHubUpstream(model=str(tmp_path / "x.pt"), entry="wavlm_local")
        return
    try:
        import torchaudio  # noqa: F401

        pytest.skip("torchaudio loads here; the hubert entry would import")
    except Exception:
        pass
    from emobench.upstreams.s3prl_hub import S3PRLHubUpstream

    with pytest.raises(EmobenchError, match=r"torch==2\.11"):
        S3PRLHubUpstream(model=str(tmp_path / "x.pt"), entry="hubert_local")

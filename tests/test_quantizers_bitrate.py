"""Bitrate and storage accounting against the paper's numbers and scipy's entropy."""

from __future__ import annotations

import numpy as np
import pytest

from emobench.quantizers import bitrate as br
from emobench.quantizers.emoq import EmoQ
from emobench.quantizers.grouped import GroupedResidualVQ
from emobench.quantizers.rvq import ResidualVQ


def test_paper_numbers():
    assert br.continuous_bps(768, 50) == pytest.approx(1.2288e6)  # "about 1.2 Mbps"
    assert br.bitrate_bps(br.bits_per_frame(8, 32), 50) == 2000.0  # 8 x 32 at 50 Hz = 2 kbps
    assert br.continuous_bps(768, 50) / 2000.0 > 500  # "over a 500x reduction"
    assert br.bits_per_frame(24, 1024) == 240 and br.bits_per_frame(24, 2) == 24
    assert br.bits_per_frame(3, 128, codes_per_stage=12) == 252
    # Emo-Q 8x32 with four 768-dim fp32 codebooks: 4 x 8 x 32 x 768 x 4 bytes = 3.1 MB
    assert br.codebook_storage_bytes(4 * 8 * 32, 768) == 3_145_728


def test_entropy_usage_and_dead_codewords():
    from scipy.stats import entropy

    rng = np.random.default_rng(0)
    codes = np.stack([rng.integers(0, 8, 5000), rng.integers(0, 2, 5000), np.zeros(5000, int)], 1)
    h = br.stage_entropy_bits(codes, 8)
    for col in range(3):
        p = np.bincount(codes[:, col], minlength=8) / 5000
        assert h[col] == pytest.approx(entropy(p, base=2), abs=1e-9)
    assert br.dead_codewords(codes, 8).tolist() == [0, 6, 7]
    hn = br.normalized_entropy(codes, 8)
    assert hn[0] == pytest.approx(1.0, abs=0.01) and hn[2] == 0.0
    with pytest.raises(ValueError, match="outside 0..7"):
        br.code_usage(codes + 8, 8)


def test_report_for_fitted_quantizers():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2000, 16)).astype(np.float32)
    q = ResidualVQ(n_stages=4, codebook_size=8, n_iter=5).fit(x)
    rep = br.bitrate_report(q, q.encode(x), frame_rate_hz=50, depth=2)
    assert rep.bits_per_frame == 6 and rep.bitrate_bps == 300
    assert rep.entropy_coded_bps <= rep.bitrate_bps + 1e-9
    assert rep.continuous_bps == 16 * 32 * 50 and rep.storage_bytes == 4 * 8 * 16 * 4
    assert len(rep.dead_codewords) == 2 and rep.to_dict()["depth"] == 2

    g = GroupedResidualVQ(n_groups=4, n_stages=2, codebook_size=4, n_iter=3).fit(x)
    assert (
        g.bits_per_frame(1) == 8
        and len(br.bitrate_report(g, g.encode(x), frame_rate_hz=50).dead_codewords) == 8
    )

    e = EmoQ(n_stages=2, codebook_size=4, n_iter=3).fit({k: x[i::2] for i, k in enumerate("ab")})
    rep = br.bitrate_report(e, e.encode(x), frame_rate_hz=100, depth=1)
    assert rep.bits_per_frame == 2 and e.route_bits == 1.0 and len(rep.normalized_entropy) == 1

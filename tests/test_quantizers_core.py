"""k-means and residual VQ: correctness against scikit-learn, prefix decoding, seeds, bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from emobench.frames import ArrayFrameSource
from emobench.quantizers.base import CodebookMismatchError, QuantizerError, load_quantizer
from emobench.quantizers.kmeans import kmeans, nearest
from emobench.quantizers.rvq import ResidualVQ


def mixture(n=3000, d=8, k=12, seed=0, spread=4.0):
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(k, d)) * spread
    return (centers[rng.integers(0, k, n)] + rng.normal(size=(n, d))).astype(np.float32)


def inertia(x, centroids):
    _, d2 = nearest(torch.as_tensor(x), torch.as_tensor(centroids))
    return float(d2.mean())


def test_kmeans_matches_sklearn_inertia():
    from sklearn.cluster import KMeans

    x = mixture()
    sk = KMeans(12, n_init=3, random_state=0).fit(x)
    ours = min(
        inertia(x, kmeans(x, 12, n_iter=50, max_points_per_centroid=None, seed=s).centroids) for s in range(3)
    )
    assert ours <= sk.inertia_ / len(x) * 1.03


def test_nearest_matches_brute_force():
    rng = np.random.default_rng(1)
    x, c = torch.as_tensor(rng.normal(size=(500, 6)), dtype=torch.float32), torch.randn(17, 6)
    idx, d2 = nearest(x, c, chunk=64)
    brute = torch.cdist(x, c) ** 2
    assert torch.equal(idx, brute.argmin(1))
    assert torch.allclose(d2, brute.min(1).values, atol=1e-4)


def test_kmeans_streams_a_frame_source_without_sampling():
    x = mixture(n=5000)
    res = kmeans(ArrayFrameSource(x), 8, n_iter=10, max_points_per_centroid=None, seed=0)
    assert res.n_train == 5000 and res.centroids.shape == (8, 8)
    sampled = kmeans(ArrayFrameSource(x), 8, n_iter=10, max_points_per_centroid=32, seed=0)
    assert sampled.n_train == 8 * 32


def test_kmeans_finds_tight_clusters_and_reports_dead_codewords():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(m, 0.1, size=(300, 2)) for m in (-10, 0, 10)]).astype(np.float32)
    res = kmeans(x, 6, n_iter=30, max_points_per_centroid=None, seed=0)
    assert res.n_dead == 0 and inertia(x, res.centroids) < 0.05
    # 3 distinct points for 6 codewords: splits are tried, the codewords that stay empty are reported
    dup = kmeans(np.repeat(x[:3], 50, axis=0), 6, n_iter=5, max_points_per_centroid=None, seed=0)
    assert dup.n_reseeded > 0 and dup.n_dead == 3


def test_dead_codewords_are_reseeded_by_splitting_the_largest_cluster():
    from emobench.quantizers.kmeans import _split_largest

    centroids = torch.tensor([[0.0, 0.0], [5.0, 5.0], [9.0, 9.0]])
    counts, sse = torch.tensor([100.0, 0.0, 10.0]), torch.tensor([200.0, 0.0, 10.0])
    assert _split_largest(centroids, counts, sse, torch.Generator().manual_seed(0)) == 1
    # the empty codeword now sits beside the largest cluster's centroid, mirrored around its old place
    assert torch.allclose(centroids[0] + centroids[1], torch.zeros(2), atol=1e-6)
    assert 0 < float(centroids[1].norm()) < 3 and torch.equal(centroids[2], torch.tensor([9.0, 9.0]))


def test_rvq_error_decreases_with_depth_and_prefix_decoding():
    x = mixture(n=4000, d=16)
    q = ResidualVQ(n_stages=5, codebook_size=16, n_iter=15).fit(x)
    codes = q.encode(x)
    assert codes.dtype == np.int64 and codes.shape == (4000, 5)
    errs = [float(((x - q.decode(codes, depth)) ** 2).sum(1).mean()) for depth in range(1, 6)]
    assert all(a > b for a, b in zip(errs, errs[1:]))
    # stage-wise training: the first 3 stages of a 5-stage fit are a 3-stage fit with the same seed
    q3 = ResidualVQ(n_stages=3, codebook_size=16, n_iter=15).fit(x)
    assert np.array_equal(q3.encode(x), codes[:, :3])
    assert np.allclose(q3.decode(q3.encode(x)), q.decode(codes, 3), atol=1e-5)


def test_rvq_streaming_training_is_exact_residual_kmeans():
    x = mixture(n=3000, d=8)
    q = ResidualVQ(n_stages=2, codebook_size=8, max_points_per_centroid=None, n_iter=10).fit(
        ArrayFrameSource(x)
    )
    assert [s["n_train"] for s in q.fit_info["stages"]] == [3000, 3000]
    err = ((x - q.reconstruct(x)) ** 2).sum(1).mean()
    assert err < ((x - q.reconstruct(x, depth=1)) ** 2).sum(1).mean()


def test_torch_in_torch_out_and_batched_equals_single():
    x = mixture(n=600, d=8)
    q = ResidualVQ(n_stages=3, codebook_size=8).fit(torch.as_tensor(x))
    out = q.encode(torch.as_tensor(x))
    assert isinstance(out, torch.Tensor) and out.dtype == torch.int64
    q.encode_chunk = 7
    one_by_one = np.concatenate([q.encode(x[i : i + 1]) for i in range(50)])
    assert np.array_equal(one_by_one, out.numpy()[:50])
    assert isinstance(q.reconstruct(x), np.ndarray)


def test_seeded_reproducibility():
    x = mixture(n=2000, d=8)
    a = ResidualVQ(n_stages=3, codebook_size=8, max_points_per_centroid=64, min_train_frames=0).fit(x, seed=3)
    b = ResidualVQ(n_stages=3, codebook_size=8, max_points_per_centroid=64, min_train_frames=0).fit(x, seed=3)
    c = ResidualVQ(n_stages=3, codebook_size=8, max_points_per_centroid=64, min_train_frames=0).fit(x, seed=4)
    assert torch.equal(a.codebooks, b.codebooks)
    assert not torch.equal(a.codebooks, c.codebooks)


def test_bad_input_is_a_clear_error(tmp_path):
    x = mixture(n=300, d=8)
    with pytest.raises(QuantizerError, match="300 training frame.*4096 codewords"):
        ResidualVQ(n_stages=1, codebook_size=4096).fit(x)
    bad = x.copy()
    bad[5, 2] = np.nan
    with pytest.raises(QuantizerError, match="NaN or inf"):
        ResidualVQ(n_stages=1, codebook_size=4).fit(bad)
    q = ResidualVQ(n_stages=2, codebook_size=4).fit(x)
    with pytest.raises(QuantizerError, match="NaN or inf"):
        q.encode(np.full((2, 8), np.inf, dtype=np.float32))
    with pytest.raises(QuantizerError, match="8-dim.*but the features are 5-dim"):
        q.encode(x[:, :5])
    with pytest.raises(QuantizerError, match="depth must be in 1..2"):
        q.decode(q.encode(x), depth=3)
    with pytest.raises(QuantizerError, match="not fitted"):
        ResidualVQ(n_stages=1, codebook_size=4).encode(x)


def test_codebook_from_another_upstream_is_refused(tmp_path):
    q = ResidualVQ(n_stages=2, codebook_size=4).fit(mixture(n=300, d=8))
    q.fitted_on = {"upstream": "wavlm@abc", "layer": 12}
    q.save(tmp_path / "cb")
    assert load_quantizer(tmp_path / "cb", expect={"upstream": "wavlm@abc"}).fitted_on["layer"] == 12
    with pytest.raises(CodebookMismatchError, match="upstream='wavlm@abc'.*'hubert@def'"):
        load_quantizer(tmp_path / "cb", expect={"upstream": "hubert@def"})


def test_load_refuses_unknown_classes(tmp_path):
    import json

    q = ResidualVQ(n_stages=1, codebook_size=4).fit(mixture(n=300, d=8))
    q.save(tmp_path / "cb")
    cfg = json.loads((tmp_path / "cb" / "config.json").read_text())
    cfg["class"] = "os:system"
    (tmp_path / "cb" / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(QuantizerError, match="refuses to import 'os:system'"):
        load_quantizer(tmp_path / "cb")


def test_balanced_frame_source_samples_equal_frames_per_emotion():
    from emobench.frames import ArrayFrameSource, BalancedFrameSource

    groups = {"long": ArrayFrameSource(np.zeros((900, 3))), "short": ArrayFrameSource(np.ones((100, 3))),
              "tiny": ArrayFrameSource(np.full((10, 3), 2.0))}
    src = BalancedFrameSource(groups)
    assert (src.n_frames, src.dim) == (1010, 3)
    got = src.sample(300, np.random.default_rng(0))
    counts = {v: int((got[:, 0] == v).sum()) for v in (0.0, 1.0, 2.0)}
    assert counts == {0.0: 190, 1.0: 100, 2.0: 10}  # 100 each asked; tiny gives its 10, the longest the rest
    got = src.sample(90, np.random.default_rng(0))
    assert {v: int((got[:, 0] == v).sum()) for v in (0.0, 1.0, 2.0)} == {0.0: 50, 1.0: 30, 2.0: 10}
    assert sum(len(c) for c in src.iter_chunks(64)) == 1010

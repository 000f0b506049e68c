"""No CPU-only assumption in the k-means, residual VQ, Emo-Q, probe and extraction paths: each
runs with ``device="meta"`` (tensors with shapes and devices but no data), where any tensor left on the CPU
and mixed with a device tensor raises, as it would on a GPU. Host reads (``float(t)``, ``t.cpu()``) are
the only stubbed part: they return fixed placeholder values, so control flow takes its common branch."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode

aten = torch.ops.aten


class MetaHost(TorchDispatchMode):
    """Meta device computation; reads back to the host give placeholders (True, 0, 1.0, zeros)."""

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func is aten._local_scalar_dense.default and args[0].device.type == "meta":
            t = args[0]
            return True if t.dtype == torch.bool else (1.0 if t.dtype.is_floating_point else 0)
        if func in (aten._to_copy.default, aten.to.dtype_layout) and args[0].device.type == "meta" and \
                torch.device(kwargs.get("device") or "meta").type == "cpu":  # (inference mode: to.dtype_layout)
            return torch.zeros(args[0].shape, dtype=kwargs.get("dtype") or args[0].dtype)
        return func(*args, **kwargs)


def frames(n=600, d=8, seed=0):
    return np.random.default_rng(seed).normal(size=(n, d)).astype(np.float32)


def test_the_stub_catches_a_cpu_tensor_mixed_with_device_tensors():
    with MetaHost(), pytest.raises(RuntimeError, match="device"):
        torch.zeros(4, device="meta") + torch.ones(4)  # what a forgotten device= would do on a GPU


def test_kmeans_and_residual_vq_run_on_the_device():
    from emobench.quantizers.kmeans import kmeans
    from emobench.quantizers.rvq import ResidualVQ

    with MetaHost():
        res = kmeans(frames(), 5, n_iter=3, device="meta", seed=0)
        assert res.centroids.device.type == "meta" and res.centroids.shape == (5, 8)
        streamed = kmeans(frames(), 5, n_iter=2, device="meta", max_points_per_centroid=None, seed=0)
        assert streamed.centroids.device.type == "meta"
        q = ResidualVQ(n_stages=3, codebook_size=4, n_iter=3).fit(frames(), device="meta", seed=0)
        assert q.codebooks.device.type == "meta" and q.codebooks.shape == (3, 4, 8)
        codes = q.encode(torch.as_tensor(frames(), device="meta"))
        assert codes.device.type == "meta" and codes.shape == (600, 3)
        prefixes = dict(q.decode_prefixes(codes, [1, 3]))
        assert {d: r.device.type for d, r in prefixes.items()} == {1: "meta", 3: "meta"}
        assert q.decode(codes, 2).device.type == "meta"


def test_emoq_books_fit_and_encode_on_the_device():
    from emobench.quantizers.emoq import EmoQ

    books = {e: frames(seed=i) for i, e in enumerate(("angry", "happy", "neutral", "sad"))}
    with MetaHost():
        q = EmoQ(n_stages=2, codebook_size=4, n_iter=2).fit(books, device="meta", seed=0)
        assert {b.codebooks.device.type for b in q.books.values()} == {"meta"}
        codes = q.encode(torch.as_tensor(frames(60), device="meta"), emotion="sad")
        assert codes.device.type == "meta" and codes.shape == (60, 3)


def test_a_probe_trains_and_predicts_on_the_device():
    from emobench.probes.linear import LinearProbe

    y = np.arange(200) % 4
    with MetaHost():
        probe = LinearProbe().fit(frames(200), y, frames(40), y[:40], n_classes=4, device="meta")
        assert {p.device.type for p in probe.model.parameters()} == {"meta"}
        assert probe.predict_proba(frames(10)).shape == (10, 4)


def test_feature_extraction_runs_on_the_device():
    from emobench.upstreams.fbank import LogMelFbank

    up = LogMelFbank()
    waves = [np.random.default_rng(k).normal(size=16000 + 800 * k).astype(np.float32) * 0.1 for k in range(3)]
    with MetaHost():
        up.to("meta")
        feats = up.extract(waves)
    assert [f.shape for f in feats] == [(1, up.n_frames(len(w)), up.dim) for w in waves]

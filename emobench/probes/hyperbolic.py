"""Poincaré-ball maps of HYFuse (Phukan et al., equations 1-3): exp_0, Möbius addition, log_0.

The ball is the open unit ball. The paper writes

  exp_0(x) = tanh(kappa ||x||) x / ||x||            (eq. 1; 0 at x = 0)
  x (+) y  = ((1 + 2<x,y> + ||y||^2) x + (1 - ||x||^2) y) / (1 + 2<x,y> + ||x||^2 ||y||^2)   (eq. 2)
  log_0(y) = 2 artanh(||y||) y / ||y||              (eq. 3; 0 at y = 0, needs ||y|| < 1)

so ``||log_0(y)||`` is the Poincaré distance from the origin, and ``log_0(exp_0(x)) = 2 kappa x``: the
two maps are exact inverses at ``kappa = 1/2`` (the Riemannian exp/log at the origin in orthonormal
coordinates) and a rescaling otherwise. We keep the paper's equations as written.

Numerics: every map runs in float32 (half-precision inputs are upcast and the result cast back; to chain
the maps in half precision use ``poincare_fuse``, which never stores a ball point in float16), norms
are floored at ``NORM_FLOOR`` so ``x / ||x||`` and its gradient stay finite at 0 (the limits
``tanh(k n)/n -> k`` and ``artanh(n)/n -> 1`` are taken there), and points are clipped to
``||y|| <= 1 - BALL_EPS`` before ``artanh``. ``BALL_EPS = 1e-5`` keeps ``artanh`` below 6.1 (so
``||log_0|| <= 12.2``, finite in fp16) while staying far above float32's spacing just below 1 (6e-8).
Möbius addition uses ``1 + 2<x,y> + ||x||^2||y||^2 = (1 + <x,y>)^2 + (||x||^2||y||^2 - <x,y>^2)``, a
sum of two non-negative terms, so the denominator cannot cancel to zero or go negative.
"""

from __future__ import annotations

import torch

BALL_EPS = 1e-5  # points are kept at ||y|| <= 1 - BALL_EPS
NORM_FLOOR = 1e-15  # norms below this count as zero (x / ||x|| -> 0, with the maps' limits)


def _upcast(x: torch.Tensor) -> torch.Tensor:
    return x.float() if x.dtype in (torch.float16, torch.bfloat16) else x


def _norm(x: torch.Tensor) -> torch.Tensor:
    """||x|| over the last axis, floored (a smooth, finite gradient everywhere)."""
    return torch.sqrt(torch.clamp((x * x).sum(-1, keepdim=True), min=NORM_FLOOR * NORM_FLOOR))


def _project(y: torch.Tensor, eps: float) -> torch.Tensor:
    return y * torch.clamp((1.0 - eps) / _norm(y), max=1.0)


def _exp0(x: torch.Tensor, kappa: float, eps: float) -> torch.Tensor:
    n = _norm(x)
    return x * (torch.clamp(torch.tanh(kappa * n), max=1.0 - eps) / n)


def _log0(y: torch.Tensor, eps: float) -> torch.Tensor:
    n = torch.clamp(_norm(y), max=1.0 - eps)
    return _project(y, eps) * (2.0 * torch.atanh(n) / n)


def _mobius_add(a: torch.Tensor, b: torch.Tensor, eps: float) -> torch.Tensor:
    xy = (a * b).sum(-1, keepdim=True)
    xx = (a * a).sum(-1, keepdim=True)
    yy = (b * b).sum(-1, keepdim=True)
    coef_x = (1.0 + xy) + ((a + b) * b).sum(-1, keepdim=True)  # 1 + 2<x,y> + ||y||^2, accurate at y ~ -x
    coef_y = 1.0 - xx
    denom = (1.0 + xy) ** 2 + torch.clamp(xx * yy - xy * xy, min=0.0)
    return _project((coef_x * a + coef_y * b) / torch.clamp(denom, min=NORM_FLOOR), eps)


def _check_kappa(kappa: float) -> None:
    if not kappa > 0:
        raise ValueError(f"kappa must be > 0 (the paper's curvature), got {kappa}")


def project(y: torch.Tensor, eps: float = BALL_EPS) -> torch.Tensor:
    """Radially clip points to ``||y|| <= 1 - eps`` (points inside are unchanged)."""
    return _project(_upcast(y), eps).to(y.dtype)


def exp0(x: torch.Tensor, kappa: float = 1.0, eps: float = BALL_EPS) -> torch.Tensor:
    """Eq. 1 over the last axis: ``[..., D]`` Euclidean -> ``[..., D]`` in the ball (clipped)."""
    _check_kappa(kappa)
    return _exp0(_upcast(x), kappa, eps).to(x.dtype)


def log0(y: torch.Tensor, eps: float = BALL_EPS) -> torch.Tensor:
    """Eq. 3 over the last axis: ``[..., D]`` in the ball -> Euclidean, after clipping to the ball."""
    return _log0(_upcast(y), eps).to(y.dtype)


def mobius_add(x: torch.Tensor, y: torch.Tensor, eps: float = BALL_EPS) -> torch.Tensor:
    """Eq. 2 over the last axis (not commutative: HYFuse adds the CBR point to the RLR point)."""
    out = _mobius_add(_upcast(x), _upcast(y), eps)
    return out.to(torch.promote_types(x.dtype, y.dtype))


def poincare_fuse(x: torch.Tensor, y: torch.Tensor, kappa: float = 1.0, eps: float = BALL_EPS) -> torch.Tensor:
    """HYFuse's fusion ``log_0(exp_0(x) (+) exp_0(y))`` with the ball points kept in float32 throughout.

    Chaining the single maps in float16 would store ball points in float16, which has no value between
    ``1 - 2^-11`` and 1: points near the boundary round onto it and ``artanh``'s gradient overflows. Here
    only the Euclidean input and output have the caller's dtype."""
    _check_kappa(kappa)
    a, b = _upcast(x), _upcast(y)
    out = _log0(_mobius_add(_exp0(a, kappa, eps), _exp0(b, kappa, eps), eps), eps)
    return out.to(torch.promote_types(x.dtype, y.dtype))

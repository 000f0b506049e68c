"""Discrete index tokens and the four masking strategies of section 2.2.

Codes ``x_q`` ``[batch, T, D']`` are cut into non-overlapping ``(t x d)`` patches: a grid of
``n_t = T / t`` time steps by ``n_d = D' / d`` frequency bands, flattened time-major (token
``i * n_d + j`` is time step i, band j), each token holding ``t * d`` indices (time-major inside).

Strategies (True = masked), with the same number of masked tokens in every row of a batch:
  * ``patch-tf``: random tokens anywhere on the grid;
  * ``patch-t``: random time steps, every band of each (whole grid columns);
  * ``patch-f``: random frequency bands, every time step of each (whole grid rows);
  * ``frame``: random whole discrete frames of x_q; tokens must span all D' positions (n_d = 1), as
    the ``vqmaes-12-frame`` preset's (t=1, d=D') tokens do.
The realised ratio is ``round(ratio * units) / units`` over the strategy's units (tokens, steps or
bands), kept within 1..units-1 so that something is both visible and masked.
"""

from __future__ import annotations

import torch

from emobench.errors import EmobenchError
from emobench.vqmaes.config import MASKINGS


def patchify(codes: torch.Tensor, t: int, d: int) -> torch.Tensor:
    """[batch, n_t * t, n_d * d] -> tokens [batch, n_t * n_d, t * d]."""
    b, T, D = codes.shape
    if T % t or D % d:
        raise EmobenchError(f"codes of shape {tuple(codes.shape)} do not split into ({t} x {d}) patches")
    x = codes.reshape(b, T // t, t, D // d, d).permute(0, 1, 3, 2, 4)  # [b, n_t, n_d, t, d]
    return x.reshape(b, (T // t) * (D // d), t * d)


def unpatchify(tokens: torch.Tensor, n_t: int, n_d: int, t: int, d: int) -> torch.Tensor:
    """Inverse of ``patchify``: tokens [batch, n_t * n_d, t * d, ...] -> [batch, n_t * t, n_d * d, ...]."""
    b, rest = tokens.shape[0], tokens.shape[3:]
    x = tokens.reshape(b, n_t, n_d, t, d, *rest).transpose(2, 3)  # [b, n_t, t, n_d, d, ...]
    return x.reshape(b, n_t * t, n_d * d, *rest)


def n_masked(strategy: str, n_t: int, n_d: int, ratio: float) -> int:
    """Masked tokens per example for a strategy on an (n_t x n_d) grid."""
    units = {"patch-tf": n_t * n_d, "patch-t": n_t, "patch-f": n_d, "frame": n_t}[
        check_strategy(strategy, n_d)
    ]
    if units < 2:
        raise EmobenchError(f"{strategy} masking needs at least 2 units to mask, the grid is {n_t} x {n_d}")
    masked_units = min(max(round(ratio * units), 1), units - 1)
    per_unit = {"patch-tf": 1, "patch-t": n_d, "patch-f": n_t, "frame": n_d}[strategy]
    return masked_units * per_unit


def check_strategy(strategy: str, n_d: int) -> str:
    if strategy not in MASKINGS:
        raise EmobenchError(f"unknown masking {strategy!r}; use one of {', '.join(MASKINGS)}")
    if strategy == "frame" and n_d != 1:
        raise EmobenchError(
            f"frame masking hides whole discrete frames, but tokens cover 1/{n_d} of a frame; "
            "use tokens spanning all latent positions (patch_d = D', e.g. config vqmaes-12-frame)"
        )
    return strategy


def make_mask(
    strategy: str, n_t: int, n_d: int, ratio: float, *, batch: int, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Boolean mask [batch, n_t * n_d], True where a token is masked (on CPU; move it as needed)."""
    check_strategy(strategy, n_d)
    m = n_masked(strategy, n_t, n_d, ratio)
    if strategy == "patch-t":
        units, k = n_t, m // n_d
    elif strategy == "patch-f":
        units, k = n_d, m // n_t
    else:
        units, k = n_t * n_d, m
    order = torch.rand(batch, units, generator=generator).argsort(dim=1)
    chosen = torch.zeros(batch, units, dtype=torch.bool)
    chosen.scatter_(1, order[:, :k], True)  # [batch, units]
    if strategy == "patch-t":  # whole columns: step i masks tokens i * n_d .. i * n_d + n_d - 1
        return chosen[:, :, None].expand(batch, n_t, n_d).reshape(batch, -1)
    if strategy == "patch-f":  # whole rows: band j masks tokens j, n_d + j, ...
        return chosen[:, None, :].expand(batch, n_t, n_d).reshape(batch, -1)
    return chosen


def split_visible(mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Token positions (ascending) of the visible [batch, V] and masked [batch, M] tokens."""
    n_visible = int((~mask[0]).sum())
    order = torch.argsort(mask.to(torch.int8), dim=1, stable=True)  # visible first, each group in order
    return order[:, :n_visible], order[:, n_visible:]

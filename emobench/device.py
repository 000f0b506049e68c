"""Device and dtype choice: ``--device auto`` uses CUDA when present; half precision only on a GPU."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import torch

from emobench.errors import EmobenchError

_DTYPES = {
    "fp32": torch.float32, "float32": torch.float32, "float": torch.float32,
    "fp16": torch.float16, "float16": torch.float16, "half": torch.float16,
    "bf16": torch.bfloat16, "bfloat16": torch.bfloat16,
}


def resolve_device(device: Any = "auto") -> torch.device:
    """"auto" | "cpu" | "cuda" | "cuda:N" | "mps" | torch.device -> torch.device, checked to exist."""
    spec = str(device) if isinstance(device, torch.device) else str(device or "auto").strip().lower()
    if spec == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(spec)
    except RuntimeError as exc:
        raise EmobenchError(f"unknown device {device!r}; use auto, cpu, cuda or cuda:N") from exc
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise EmobenchError(
                f"device {spec!r} requested but CUDA is not available to this torch ({torch.__version__}); "
                "use --device cpu or install a CUDA build of torch"
            )
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise EmobenchError(
                f"device {spec!r} requested but only {torch.cuda.device_count()} CUDA device(s) exist; "
                f"use cuda:0..cuda:{torch.cuda.device_count() - 1}"
            )
    elif dev.type == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise EmobenchError("device 'mps' requested but it is not available; use --device cpu")
    return dev


def placement(device: Any, gpus_available: float) -> tuple[str, float]:
    """(device string for a unit running on an executor's worker, GPUs the unit asks for) for ``--device``.

    A worker sees only the GPU it was given (as cuda:0), so any CUDA request becomes ``cuda`` with one GPU;
    ``auto`` asks for a GPU when the executor has any, else runs on the CPU."""
    spec = str(device or "auto").strip().lower()
    if spec == "auto":
        return ("cuda", 1.0) if gpus_available >= 1 else ("cpu", 0.0)
    try:
        kind = torch.device(spec).type
    except RuntimeError as exc:
        raise EmobenchError(f"unknown device {device!r}; use auto, cpu, cuda or cuda:N") from exc
    if kind != "cuda":
        return spec, 0.0
    if gpus_available < 1:
        raise EmobenchError(f"device {spec!r} requested but the executor has no GPU; use --device cpu or auto")
    return "cuda", 1.0


def resolve_dtype(dtype: Any, device: torch.device) -> torch.dtype:
    """"fp32" | "fp16" | "bf16" | torch.dtype | None -> torch.dtype; half precision is refused on CPU."""
    if dtype is None:
        return torch.float32
    if isinstance(dtype, torch.dtype):
        resolved = dtype
    else:
        try:
            resolved = _DTYPES[str(dtype).strip().lower()]
        except KeyError:
            raise EmobenchError(f"unknown dtype {dtype!r}; use fp32, fp16 or bf16") from None
    if resolved != torch.float32 and device.type == "cpu":
        raise EmobenchError(
            f"dtype {dtype_name(resolved)} is only supported on a GPU (device is cpu); use fp32 on CPU"
        )
    return resolved


def dtype_name(dtype: torch.dtype) -> str:
    return {torch.float32: "fp32", torch.float16: "fp16", torch.bfloat16: "bf16"}.get(dtype, str(dtype))


def generator(device: Any, seed: int) -> torch.Generator:
    """A seeded generator on ``device`` when it has one (CPU, CUDA, MPS), else on the CPU (the meta device
    that tests device placement); callers draw with ``device=gen.device`` and move the result."""
    dev = torch.device(device)
    return torch.Generator(device=dev if dev.type in ("cpu", "cuda", "mps") else "cpu").manual_seed(int(seed))


@contextlib.contextmanager
def one_cpu_thread(device: torch.device) -> Iterator[None]:
    """Run tiny sequential ops (probe minibatches, k-means++ steps) on one CPU thread, then restore.

    Waking OpenMP threads for each small op costs more than the op; on a busy 2-core machine it made
    probe training 15-50x and k-means++ initialisation ~10x slower than one thread."""
    if device.type != "cpu":
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


SMALL_WORK = 1 << 27  # multiply-adds per op below which one thread beats many (see ``threads_for``)


@contextlib.contextmanager
def threads_for(work: float, device: torch.device) -> Iterator[None]:
    """One CPU thread when each op of a loop is small (``work`` multiply-adds, e.g. rows x K x dim),
    torch's threads otherwise. Waking OpenMP threads for a small op costs more than the op, and on a busy
    machine the spinning threads of oversubscribed pools starve each other: a 128 x 2 RVQ fit on 2,500
    frames took 59 s with 2 threads and 2.6 s with one on a loaded 2-core machine."""
    if device.type != "cpu" or work >= SMALL_WORK:
        yield
        return
    with one_cpu_thread(device):
        yield

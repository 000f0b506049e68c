"""Where a plan's work runs: in this process, one unit after another (``local``, the default), or as tasks
on a Ray cluster (``ray``, the ``ray`` extra), sharing the cache folder.

The abstraction is one method: ``Executor.map(works)`` runs ``Work`` units (a module-level function of
plain data, the resources it needs and a label) and returns one ``Outcome`` per unit, in order. A unit that
raises an ``EmobenchError`` is an outcome with that error (the plan decides what it means); any other
exception is a bug and propagates. ``emobench.executors.plan`` turns a reproduction into such units:
feature-extraction shards, then runs.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from emobench.errors import EmobenchError

EXECUTORS = ("local", "ray")


@dataclass(frozen=True, eq=False)  # identity: two works with equal arguments are still two units
class Work:
    """One unit of work: ``fn(*args)``; ``fn`` must be importable (it travels to workers by name)."""

    fn: Callable[..., Any]
    args: tuple
    label: str
    cpus: float = 1.0
    gpus: float = 0.0


@dataclass
class Outcome:
    work: Work
    value: Any = None
    error: EmobenchError | None = None
    finished_s: float = 0.0  # seconds from the start of ``map`` until this unit's result came back

    @property
    def ok(self) -> bool:
        return self.error is None


class Executor:
    """Runs works here, in order (the local executor)."""

    name = "local"
    cpus_per_task = 0.0  # units run in this process: they claim no CPUs and keep torch's thread setting

    @property
    def workers(self) -> int:
        """How many units run at once (sizes the extraction shards)."""
        return 1

    @property
    def gpus(self) -> float:
        """GPUs the executor can hand to units (0: give units none)."""
        import torch

        return float(torch.cuda.device_count())

    def map(self, works: Sequence[Work], *, on_done: Callable[[Outcome], None] | None = None) -> list[Outcome]:
        out, start = [], time.perf_counter()
        for work in works:
            try:
                outcome = Outcome(work, value=work.fn(*work.args))
            except EmobenchError as exc:
                outcome = Outcome(work, error=exc)
            outcome.finished_s = time.perf_counter() - start
            out.append(outcome)
            if on_done is not None:
                on_done(outcome)
        return out

    def close(self) -> None:
        """Release what the executor started (nothing, here)."""


def make_executor(name: str = "local", *, address: str | None = None, **options: Any) -> Executor:
    """``local`` or ``ray`` (``address``: None starts a local Ray instance; ``auto`` or ``HOST:PORT`` joins a
    running cluster). ``options`` go to the Ray executor (``max_retries``, ``cpus_per_task``, ``num_cpus``)."""
    if name == "local":
        if address:
            raise EmobenchError("--address is for --executor ray; the local executor runs in this process")
        return Executor()
    if name == "ray":
        from emobench.executors.ray_executor import RayExecutor

        return RayExecutor(address=address, **options)
    raise EmobenchError(f"unknown executor {name!r}; use one of {', '.join(EXECUTORS)}")

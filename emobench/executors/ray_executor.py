"""Works as Ray tasks: declared CPUs/GPUs, retried when their worker dies, results gathered by the driver.

A task that raises an ``EmobenchError`` (bad input: not worth retrying) comes back as that error; a task
whose worker process dies (SIGKILL, out of memory, a lost node) is re-run by Ray up to ``max_retries``
times. That is safe because every unit writes only content-keyed, atomically committed cache entries
(feature shards, codebooks, probes): a retried unit finds what its first attempt finished and redoes the
rest, and two attempts writing the same entry leave one valid copy. Result files are written by the driver.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from emobench.errors import EmobenchError, require_extra
from emobench.executors import Executor, Outcome, Work


class RayExecutor(Executor):
    """``RayExecutor(address=None)`` starts a local Ray instance (``num_cpus`` of them, default all);
    ``address="auto"`` or ``"HOST:PORT"`` joins a running cluster. Units ask for ``Work.cpus``/``gpus``."""

    name = "ray"

    def __init__(self, *, address: str | None = None, num_cpus: int | None = None, max_retries: int = 3,
                 cpus_per_task: float = 1.0):
        self.ray = require_extra("ray", "ray", "--executor ray")
        self.max_retries, self.cpus_per_task = int(max_retries), float(cpus_per_task)
        self._owned = not self.ray.is_initialized()
        if self._owned:
            try:
                self.ray.init(address=address or None, num_cpus=num_cpus if not address else None,
                              include_dashboard=False, logging_level="WARNING")
            except (ConnectionError, RuntimeError, ValueError) as exc:
                where = f"the Ray cluster at {address}" if address else "a local Ray instance"
                raise EmobenchError(f"cannot start or reach {where}: {exc}; start one with `ray start --head` "
                                    "and pass --address auto, or leave --address out") from exc
        self._remote: dict[Callable, Any] = {}

    @property
    def workers(self) -> int:
        return max(1, int(self.ray.cluster_resources().get("CPU", 1) // self.cpus_per_task))

    @property
    def gpus(self) -> float:
        return float(self.ray.cluster_resources().get("GPU", 0))

    def map(self, works: Sequence[Work], *, on_done: Callable[[Outcome], None] | None = None) -> list[Outcome]:
        ray = self.ray
        started = time.perf_counter()
        refs = {}
        for i, work in enumerate(works):
            fn = self._remote.setdefault(work.fn, ray.remote(work.fn))
            ref = fn.options(num_cpus=work.cpus, num_gpus=work.gpus, max_retries=self.max_retries,
                             retry_exceptions=False, name=f"{work.fn.__name__}[{work.label}]").remote(*work.args)
            refs[ref] = i
        out: list[Outcome | None] = [None] * len(works)
        pending = list(refs)
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            i = refs[done[0]]
            outcome = Outcome(works[i], finished_s=time.perf_counter() - started)
            try:
                outcome.value = ray.get(done[0])
            except ray.exceptions.RayTaskError as exc:
                cause = getattr(exc, "cause", None)
                if not isinstance(cause, EmobenchError):
                    for ref in pending:
                        ray.cancel(ref, force=True)
                    raise (cause if isinstance(cause, BaseException) else exc) from exc
                outcome.error = cause
            except (ray.exceptions.WorkerCrashedError, ray.exceptions.NodeDiedError,
                    ray.exceptions.TaskUnschedulableError, ray.exceptions.OutOfMemoryError) as exc:
                outcome.error = EmobenchError(f"{works[i].label}: its Ray worker died {self.max_retries + 1} "
                                              f"time(s) ({type(exc).__name__}); see the Ray logs")
            out[i] = outcome
            if on_done is not None:
                on_done(outcome)
        return [o for o in out if o is not None]

    def close(self) -> None:
        if self._owned and self.ray.is_initialized():
            self.ray.shutdown()

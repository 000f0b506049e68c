"""The task plugin contract: a Task receives TaskInputs (everything resolved) and returns a TaskOutput.

A task holds one protocol of a paper; it composes splits, the feature cache, quantizers by role, the
probe and metrics, and never reimplements them. Its constructor parameters are its settings (validated
before any work); its spec (``emobench/catalogue/tasks/<name>.yaml``) holds everything shown about it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from emobench.corpora.base import Corpus
from emobench.errors import EmobenchError
from emobench.tasks.inputs import TaskInputs


@dataclass
class TaskOutput:
    """What a task hands back; the runner adds units, identity and provenance and writes the result."""

    metrics: list[dict[str, Any]]  # records from ``emobench.tasks.records.rec`` (no unit/direction: the spec's)
    protocol: dict[str, Any]
    corpora_roles: dict[str, str]  # corpus -> "train", "eval", "train+eval", "held-out", "ood"
    predictions: Any = None  # pandas DataFrame, one row per (utterance, condition)
    notes: list[str] = field(default_factory=list)
    # The system evaluated, when it is not the run's ``-u`` x quantizer (HYFuse's RLR+CBR pair, an
    # upstream reading a codec's resynthesized audio): names the run and its leaderboard row.
    system: str | None = None


class Task:
    """Base class. Subclasses implement ``run``; ``check`` fails before any expensive work."""

    name: str = "task"
    needs_soft_labels: bool = False
    min_utterances_per_label: int = 2
    # What the task's probe calls can feed (``inputs.probes.proba`` and the depth sweep feed all three);
    # a task that hands its probe pooled arrays itself declares ("pooled",) and resolve refuses the rest.
    probe_inputs: tuple[str, ...] = ("pooled", "frames", "layers")  # () : trains its own models, no --probe

    def check(self, corpora: dict[str, Corpus]) -> None:
        for corpus in corpora.values():
            if not corpus.utterances:
                raise EmobenchError(f"corpus {corpus.name!r} at {corpus.root} has no usable utterances")
            counts = {lab: 0 for lab in corpus.label_set}
            for u in corpus.utterances:
                counts[u.label] = counts.get(u.label, 0) + 1
            thin = {lab: n for lab, n in counts.items() if n < self.min_utterances_per_label}
            if thin:
                raise EmobenchError(
                    f"task {self.name}: corpus {corpus.name!r} has too few utterances of {thin} "
                    f"(needs {self.min_utterances_per_label} per emotion); use a larger --limit or another label set"
                )

    def run(self, inputs: TaskInputs) -> TaskOutput:  # pragma: no cover - abstract
        raise NotImplementedError

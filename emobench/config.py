"""RunConfig: what a user asks for, by name. ``emobench.resolve`` turns it into a validated ResolvedRun."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from emobench.errors import EmobenchError

DEFAULT_UPSTREAM = "fbank"
DEFAULT_TASK = "rq1"
DEFAULT_CORPUS = "demo"


@dataclass
class RunConfig:
    """One benchmark run: an upstream, a task with its quantizer roles, corpora and a probe.

    ``quantizer`` sets the task's first role (``--quantizer NAME``); ``quantizers`` sets named roles
    (``--quantizer ROLE=NAME``); roles left unset take the task spec's preset for the upstream.
    ``corpora`` maps corpus names to roots (None: looked up; see the README). ``probe`` None takes the
    upstream spec's ``default_probe`` (emotion2vec: its own head), else ``linear``. ``seed`` draws splits
    and bootstrap resamples; ``seeds`` (default ``[seed]``) are the codebook/probe training seeds, one
    task run each, summarised as mean, sd and per-seed values.
    """

    upstream: str = DEFAULT_UPSTREAM
    task: str = DEFAULT_TASK
    quantizer: str | None = None
    quantizers: dict[str, str] = field(default_factory=dict)
    corpora: dict[str, str | None] = field(default_factory=lambda: {DEFAULT_CORPUS: None})
    probe: str | None = None
    layer: int | None = None  # None: the upstream's default (the paper's) layer
    seed: int = 0
    seeds: list[int] | None = None
    limit: int | None = None  # keep the first N utterances per split (smoke runs)
    upstream_params: dict[str, Any] = field(default_factory=dict)
    quantizer_params: dict[str, dict[str, Any]] = field(default_factory=dict)  # role ("*": all) -> overrides
    task_params: dict[str, Any] = field(default_factory=dict)
    probe_params: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return json.loads(json.dumps(asdict(self), default=str))


def parse_assignments(items: list[str] | None, what: str) -> dict[str, Any]:
    """Parse ``KEY=VALUE`` CLI items; values are read as YAML scalars (8 -> int, true -> bool, [a, b] -> list)."""
    import yaml

    out: dict[str, Any] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise EmobenchError(f"{what} {item!r} must look like KEY=VALUE")
        try:
            out[key] = yaml.safe_load(value) if value else None
        except yaml.YAMLError as exc:
            first = str(exc).splitlines()[0]
            raise EmobenchError(f"{what} {item!r}: the value is not a plain YAML value ({first}); quote it") from None
    return out


def parse_role_assignments(items: list[str] | None, what: str) -> dict[str, dict[str, Any]]:
    """``-Q KEY=VALUE`` (the first role), ``-Q ROLE.KEY=VALUE`` or ``-Q '*.KEY=VALUE'`` (every role)."""
    out: dict[str, dict[str, Any]] = {}
    for key, value in parse_assignments(items, what).items():
        role, dot, name = key.rpartition(".")
        out.setdefault(role if dot else "", {})[name] = value
    return out

"""RunConfig: everything that determines a run's numbers, and its hash."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any

DEFAULT_UPSTREAM = "fbank"
DEFAULT_QUANTIZER = "rvq-demo"
DEFAULT_TASK = "rq1"
DEFAULT_CORPUS = "demo"


@dataclass
class RunConfig:
    """One benchmark run: upstream x quantizer x task on some corpora.

    ``corpora`` maps corpus names to roots (None: looked up by the corpus loader; see README).
    ``*_params`` override fields of the named catalogue specs, e.g. ``{"n_stages": 8}``.
    """

    upstream: str = DEFAULT_UPSTREAM
    quantizer: str = DEFAULT_QUANTIZER
    task: str = DEFAULT_TASK
    corpora: dict[str, str | None] = field(default_factory=lambda: {DEFAULT_CORPUS: None})
    probe: str = "linear"
    layer: int | None = None  # None: the upstream's default (the paper's) layer
    seed: int = 0
    limit: int | None = None  # keep the first N utterances per split (smoke runs)
    upstream_params: dict[str, Any] = field(default_factory=dict)
    quantizer_params: dict[str, Any] = field(default_factory=dict)
    task_params: dict[str, Any] = field(default_factory=dict)
    probe_params: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return json.loads(json.dumps(asdict(self), default=str))

    @property
    def hash(self) -> str:
        """Stable over dict ordering; roots are excluded (same corpus elsewhere = same config)."""
        d = self.to_dict()
        d["corpora"] = sorted(d["corpora"])
        return hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()[:16]


def parse_assignments(items: list[str] | None, what: str) -> dict[str, Any]:
    """Parse ``KEY=VALUE`` CLI items; values are read as YAML scalars (8 -> int, true -> bool)."""
    import yaml

    from emobench.errors import EmobenchError

    out: dict[str, Any] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise EmobenchError(f"{what} {item!r} must look like KEY=VALUE")
        out[key.strip()] = yaml.safe_load(value) if value else None
    return out

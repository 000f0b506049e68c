"""Complete metric records (with unit and direction) for code that writes results by hand, such as the
synthetic results of ``emobench.leaderboard.synthetic``. Units and directions come from the catalogue's
metric definitions (``emobench/catalogue/metrics.yaml``), the one place that defines them; tasks write
records without them (``emobench.tasks.records.rec``) and the runner adds their spec's."""

from __future__ import annotations

from typing import Any

from emobench.tasks.records import rec


def metric(name: str, value: float | None, *, unit: str | None = None, direction: str | None = None,
           **fields: Any) -> dict[str, Any]:
    from emobench.catalogue import shared_metrics

    known = shared_metrics().get(name)
    r = rec(name, value, **fields)
    return {"name": r["name"], "value": r["value"], "unit": unit if unit is not None else (known.unit if known else ""),
            "direction": direction if direction is not None else (known.direction if known else "none"),
            **{k: v for k, v in r.items() if k not in ("name", "value")}}

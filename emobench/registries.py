"""The registry instances, one per kind. Importing this module imports no torch: every entry is a
catalogue spec (``emobench/catalogue/<kind>/<name>.yaml``) or an entry point, resolved lazily."""

from __future__ import annotations

from emobench.registry import Registry

upstreams = Registry("upstreams")
quantizers = Registry("quantizers")
tasks = Registry("tasks")
corpora = Registry("corpora", singular="corpus")
probes = Registry("probes")

ALL = {r.kind: r for r in (upstreams, quantizers, tasks, corpora, probes)}


def reload() -> None:
    """Re-read the catalogue (its folder, ``EMOBENCH_CATALOGUE`` included) and entry points on the next lookup,
    after they changed in this process (tests that edit a copy of the catalogue, notebooks)."""
    from emobench import catalogue

    catalogue.catalogue_root.cache_clear()
    catalogue.shared_metrics.cache_clear()
    for registry in ALL.values():
        registry.reload()

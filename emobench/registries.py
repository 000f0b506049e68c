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

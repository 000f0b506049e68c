"""Resolve a RunConfig into one validated, hashed description of a run, before any work.

Every name is looked up, every spec's params merged with the overrides and checked against the
constructor that takes them (``emobench.params``), every quantizer role of the task bound to a preset.
A typo fails here, in milliseconds. The resolved description, plus the corpora's content fingerprints,
is what a run's identity hash covers: the hash names its result, keys ``reproduce``'s resume, and the
whole description is recorded in the result.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emobench.config import RunConfig
from emobench.errors import EmobenchError
from emobench.params import accepted, build, defaults, validate

IDENTITY_VERSION = 2  # bump when what a run hash covers changes


@dataclass(frozen=True)
class Component:
    """One named thing, resolved: its spec, its validated params and its implementation."""

    kind: str
    name: str
    spec: Any
    params: dict[str, Any]
    impl: Callable
    source: str

    @property
    def where(self) -> str:
        return f"{self.kind} {self.name!r}"

    def build(self, **runtime: Any) -> Any:
        return build(self.impl, self.params, where=self.where, **runtime)

    def with_params(self, **overrides: Any) -> Component:
        params = validate(self.impl, {**self.params, **overrides}, where=self.where)
        return Component(self.kind, self.name, self.spec, params, self.impl, self.source)

    def record(self) -> dict[str, Any]:
        return {"name": self.name, "impl": self.spec.impl, "params": _jsonable(self.params)}


@dataclass(frozen=True)
class ResolvedRun:
    config: RunConfig
    task: Component
    upstream: Component
    probe: Component
    roles: dict[str, Component]  # quantizers by task role, in the task spec's order
    corpora: dict[str, Component]  # loaders; params hold the root
    layer: int | None
    seed: int
    seeds: tuple[int, ...]
    limit: int | None
    local_files: dict[str, str] = field(default_factory=dict)  # param -> fingerprint of a local path
    extra_upstreams: dict[str, Component] = field(default_factory=dict)  # task param -> upstream (HYFuse's cbr)

    def description(self) -> dict[str, Any]:
        """Everything that determines the numbers, except the corpora's content (added by ``run_hash``)."""
        from emobench import __version__

        return {
            "identity_version": IDENTITY_VERSION, "emobench": __version__,
            "task": self.task.record(), "upstream": self.upstream.record(), "probe": self.probe.record(),
            "extra_upstreams": {k: c.record() for k, c in self.extra_upstreams.items()},
            "roles": {r: c.record() for r, c in self.roles.items()},
            "corpora": {n: {"name": n, "params": _jsonable({k: v for k, v in c.params.items() if k != "root"})}
                        for n, c in self.corpora.items()},
            "layer": self.layer, "seed": self.seed, "seeds": list(self.seeds), "limit": self.limit,
            "local_files": dict(sorted(self.local_files.items())),
        }

    def run_hash(self, fingerprints: Mapping[str, str]) -> str:
        payload = {**self.description(), "corpus_fingerprints": dict(sorted(fingerprints.items()))}
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


def _jsonable(obj: Any) -> Any:
    return json.loads(json.dumps(obj, default=str))


def _path_fingerprint(value: str) -> str | None:
    """Names, sizes and mtimes of a local file or folder (cheap: no reading); None if not a path."""
    p = Path(value).expanduser()
    if not value or len(value) > 4096 or not p.exists():
        return None
    files = [p] if p.is_file() else sorted(x for x in p.rglob("*") if x.is_file())[:10_000]
    h = hashlib.sha256()
    for f in files:
        st = f.stat()
        h.update(f"{f.relative_to(p) if f != p else f.name}|{st.st_size}|{st.st_mtime_ns}\n".encode())
    return h.hexdigest()[:16]


def _component(registry, name: str, overrides: Mapping[str, Any], *, extra: Mapping[str, Any] | None = None):
    entry = registry.get(name)
    impl = registry.load_entry(entry)
    params = {**(extra or {}), **registry.params_for(entry, dict(overrides))}
    where = f"{registry.singular} {name!r}"
    return Component(registry.singular, name, entry.spec, validate(impl, params, where=where), impl, entry.source)


def _check_roles(given: Mapping[str, Any], roles: list[str], task: str, what: str) -> None:
    unknown = [r for r in given if r not in ("", "*", *roles)]
    if unknown:
        raise EmobenchError(f"{what} names role(s) {unknown} that task {task!r} does not have; its roles: "
                            f"{', '.join(roles) or 'none'} (`emobench list tasks --long`)")


def resolve(config: RunConfig) -> ResolvedRun:
    """Validate ``config`` completely (names, keys, types, ranges, roles); no data is read."""
    from emobench.registries import corpora, probes, quantizers, tasks, upstreams

    task = _component(tasks, config.task, config.task_params)
    up_entry = upstreams.get(config.upstream)
    up_impl = upstreams.load_entry(up_entry)
    named, _, _ = accepted(up_impl)
    upstream = _component(upstreams, config.upstream, config.upstream_params,
                          extra={"name": config.upstream} if "name" in named else None)
    roles = list(task.spec.roles)
    if (config.quantizer or config.quantizer_params.get("")) and not roles:
        raise EmobenchError(f"task {config.task!r} uses no quantizer; drop --quantizer/-Q")
    _check_roles(config.quantizers, roles, config.task, "--quantizer")
    _check_roles(config.quantizer_params, roles, config.task, "-Q/--set-quantizer")
    bound: dict[str, Component] = {}
    for i, role in enumerate(roles):
        role_spec = task.spec.roles[role]
        preset = config.quantizers.get(role) or (config.quantizer if i == 0 else None) \
            or role_spec.preset_for(config.upstream)
        overrides = {**config.quantizer_params.get("*", {}), **(config.quantizer_params.get("", {}) if i == 0 else {}),
                     **config.quantizer_params.get(role, {})}
        # A quantizer that is part of the upstream's checkpoint (a codec's own RVQ) takes the checkpoint the
        # user gave the upstream (-U model=DIR), unless given its own: else it would load the hub's.
        follows = [k for k in getattr(quantizers.load_entry(quantizers.get(preset)), "follows_upstream", ())
                   if k in config.upstream_params and k not in overrides]
        comp = _component(quantizers, preset, {**{k: config.upstream_params[k] for k in follows}, **overrides})
        comp.build()  # constructors check ranges and combinations; cheap (nothing is fitted)
        if role_spec.router:
            from emobench.quantizers.routing import is_router

            if not is_router(comp.impl):
                raise EmobenchError(f"task {config.task!r} role {role!r} routes utterances between emotion "
                                    f"codebooks, but quantizer {preset!r} cannot route; use an Emo-Q preset "
                                    f"(e.g. {role_spec.preset_for(config.upstream)})")
        bound[role] = comp
    extra_upstreams = {}
    task_values = {**defaults(task.impl), **task.params}
    for param in task.spec.upstream_params:
        name = task_values.get(param)
        if name:
            entry = upstreams.get(name)
            takes_name = "name" in accepted(upstreams.load_entry(entry))[0]
            extra_upstreams[param] = _component(upstreams, name, dict(task_values.get(f"{param}_params") or {}),
                                                extra={"name": name} if takes_name else None)
    probe_name = config.probe or up_entry.spec.default_probe or "linear"
    probe = _component(probes, probe_name, config.probe_params)
    feeds = tuple(getattr(task.impl, "probe_inputs", ("pooled",)))  # what the task's probe calls can feed
    if not feeds and config.probe:
        raise EmobenchError(f"task {config.task!r} trains its own models and uses no --probe; drop --probe "
                            f"(its models are task parameters: emobench list tasks --long)")
    if feeds and probe.spec.input not in feeds:
        reads = {"layers": "several layers per utterance", "frames": "each utterance's frames"}[probe.spec.input]
        raise EmobenchError(f"probe {probe_name!r} reads {reads}, but task {config.task!r} feeds its probe "
                            f"{' or '.join(feeds)} features only; use --probe linear or mlp with it, or this "
                            "probe with a task that feeds it (crossling-ser)")
    label_set = task_values.get("label_set")  # the task's own default too (crossling-ser: each corpus' full set)
    loaders = {}
    for name, root in config.corpora.items():
        entry = corpora.get(name)
        loader_args = accepted(corpora.load_entry(entry))[0]
        extra = {"label_set": label_set} if label_set is not None and "label_set" in loader_args else {}
        loaders[name] = _component(corpora, name, {"root": root, **extra})
    _check_limits(config)
    local = {f"{c.kind}.{c.name}.{k}": fp for c in (upstream, probe, *bound.values(), *extra_upstreams.values())
             for k, v in c.params.items()  # "name" is the registry name, never a path (a folder "encodec" in cwd)
             if k != "name" and isinstance(v, (str, os.PathLike)) and (fp := _path_fingerprint(str(v)))}
    return ResolvedRun(
        config=config, task=task, upstream=upstream, probe=probe, roles=bound, corpora=loaders, layer=config.layer,
        seed=int(config.seed), seeds=tuple(int(s) for s in (config.seeds or [config.seed])), limit=config.limit,
        local_files=local, extra_upstreams=extra_upstreams,
    )


def _check_limits(config: RunConfig) -> None:
    if config.seed < 0 or any(s < 0 for s in config.seeds or []):
        raise EmobenchError(f"seeds must be non-negative integers, got {config.seeds or config.seed}")
    if config.seeds is not None and len(set(config.seeds)) != len(config.seeds):
        raise EmobenchError(f"--seeds lists a seed twice: {config.seeds}")
    if config.limit is not None and config.limit < 1:
        raise EmobenchError(f"--limit must be a positive number of utterances per split, got {config.limit}")
    if config.layer is not None and config.layer < 0:
        raise EmobenchError(f"--layer must be >= 0, got {config.layer}")

"""One registry type for every kind of plugin: upstreams, quantizers, tasks, corpora, probes.

Entries come from two sources and are merged lazily on first use:
  * catalogue specs: one YAML file per named thing in ``emobench/catalogue/<kind>/``, validated into the
    kind's typed spec (``emobench.specs``); ``impl`` is a ``"module:Attr"`` string imported only when used;
  * third-party entry points in the group ``emobench.<kind>``: the object may carry a ``spec`` attribute
    (a spec of the kind, or a mapping of its fields); otherwise a minimal spec is made from its docstring.
Two sources claiming one name is an error naming both; an unknown name suggests close ones.
"""

from __future__ import annotations

import difflib
import importlib
import importlib.metadata as importlib_metadata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from emobench.catalogue import SECTIONS, iter_specs, typed_spec
from emobench.errors import RegistryError


@dataclass(frozen=True)
class Entry:
    """A named registry entry: its typed spec, where it came from, and (for code entries) the object."""

    spec: Any  # emobench.specs.Spec subclass
    kind: str
    source: str  # shown in errors and `emobench list --sources`
    obj: Callable | None = None  # registered in code, or an entry point loaded lazily

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def description(self) -> str:
        return self.spec.description

    @property
    def impl(self) -> str:
        return self.spec.impl

    @property
    def params(self) -> dict[str, Any]:
        return dict(self.spec.params)


def import_object(target: str, *, context: str) -> Any:
    """Import ``"package.module:Attr"``; failures become a RegistryError that says who asked."""
    module_name, _, attr = target.partition(":")
    if not attr:
        raise RegistryError(f"{context}: implementation {target!r} must look like 'package.module:Attr'")
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:
        raise RegistryError(f"{context}: cannot import {module_name!r} ({type(exc).__name__}: {exc})") from exc
    obj = module
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError as exc:
            raise RegistryError(f"{context}: module {module_name!r} has no attribute {attr!r}") from exc
    return obj


MODEL_PARAMS = ("model", "checkpoint", "entry", "root")  # upstream params that swap the model a spec describes
MODEL_FACTS = ("default_layer",)  # upstream spec params that describe that model


def _first_line(obj: Any) -> str:
    doc = (getattr(obj, "__doc__", None) or "").strip()
    return doc.splitlines()[0] if doc else ""


class Registry:
    """Name -> Entry for one kind of plugin."""

    def __init__(self, kind: str, *, singular: str | None = None):
        self.kind = kind
        self.singular = singular or kind.removesuffix("s")
        self.group = f"emobench.{kind}"
        self._entries: dict[str, Entry] | None = None
        self._extra: list[Entry] = []

    # -- collecting ---------------------------------------------------------------------------
    def _spec(self, data: dict[str, Any], where: str):
        if self.kind in SECTIONS:
            return typed_spec(self.kind, data, where=where)
        from emobench.specs import Spec

        return Spec.model_validate(data)

    def _entry_point(self, ep) -> Entry:
        dist = ep.dist.name if ep.dist is not None else "unknown distribution"
        source = f"entry point {ep.name} = {ep.value} (group {self.group}, package {dist})"
        return Entry(self._spec({"name": ep.name, "description": f"plugin from {dist}", "impl": ep.value}, source),
                     self.kind, source)

    def _collect(self) -> dict[str, Entry]:
        found: dict[str, Entry] = {}

        def add(entry: Entry) -> None:
            if entry.name in found:
                other = found[entry.name]
                raise RegistryError(
                    f"two {self.kind} claim the name {entry.name!r}: {other.source} and {entry.source}; "
                    "rename or uninstall one of them"
                )
            found[entry.name] = entry

        for path, spec in iter_specs(self.kind) if self.kind in SECTIONS else ():
            add(Entry(spec, self.kind, f"catalogue spec {path}"))
        for ep in importlib_metadata.entry_points(group=self.group):
            add(self._entry_point(ep))
        for entry in self._extra:
            add(entry)
        return found

    def reload(self) -> None:
        """Forget the collected entries: the next lookup re-reads specs and entry points (entries registered
        in code stay)."""
        self._entries = None

    def entries(self) -> dict[str, Entry]:
        if self._entries is None:
            self._entries = self._collect()
        return self._entries

    def names(self) -> list[str]:
        return sorted(self.entries())

    def register(self, name: str, impl: str | Callable, description: str = "", **fields: Any) -> Entry:
        """Add an entry from code (tests, notebooks): ``impl`` is a "module:Attr" or the object itself;
        ``fields`` are spec fields (``params={...}``, ...). Same duplicate rules as the other sources."""
        obj = None if isinstance(impl, str) else impl
        module = str(getattr(impl, "__module__", None) or "code")
        target = impl if isinstance(impl, str) else f"{module}:{getattr(impl, '__name__', 'obj')}"
        spec = self._spec({"name": name, "description": description or _first_line(obj) or name, "impl": target,
                           **fields}, where=f"{self.singular} {name!r} registered in code")
        entry = Entry(spec, self.kind, "registered in code", obj)
        self._extra = [e for e in self._extra if e.name != name] + [entry]
        self.reload()
        try:
            self.entries()
        except RegistryError:
            self._extra.remove(entry)
            self.reload()
            raise
        return entry

    def unregister(self, name: str) -> None:
        self._extra = [e for e in self._extra if e.name != name]
        self.reload()

    # -- resolving ----------------------------------------------------------------------------
    def get(self, name: str) -> Entry:
        entries = self.entries()
        if name in entries:
            return entries[name]
        close = difflib.get_close_matches(str(name), list(entries), n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise RegistryError(
            f"unknown {self.singular} {name!r}{hint} "
            f"(`emobench list {self.kind}` shows all {len(entries)})"
        )

    def load(self, name: str) -> Any:
        """The implementation object (class or factory) behind a name."""
        return self.load_entry(self.get(name))

    def load_entry(self, entry: Entry) -> Any:
        if entry.obj is not None:
            return entry.obj
        return import_object(entry.impl, context=f"{self.kind} {entry.name!r} from {entry.source}")

    def params_for(self, entry: Entry, overrides: dict[str, Any]) -> dict[str, Any]:
        """The spec's params merged with ``overrides``. A spec's facts about its model (an upstream's
        ``default_layer``) are dropped when the overrides swap the model (``model=DIR``, ...)."""
        spec_params = dict(entry.params)
        if self.kind == "upstreams" and any(k in overrides for k in MODEL_PARAMS):
            spec_params = {k: v for k, v in spec_params.items() if k not in MODEL_FACTS}
        return {**spec_params, **overrides}

    def create(self, name: str, **overrides: Any) -> Any:
        """Instantiate an entry with its spec's params plus ``overrides``, validated first
        (an unknown key lists the valid ones; see ``emobench.params``)."""
        from emobench.params import build

        entry = self.get(name)
        return build(self.load_entry(entry), self.params_for(entry, overrides),
                     where=f"{self.singular} {name!r} ({entry.source})")

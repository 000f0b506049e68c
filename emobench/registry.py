"""One registry type for every kind of plugin: upstreams, quantizers, tasks, corpora, probes.

Entries come from two sources and are merged lazily on first use:
  * catalogue specs: one YAML file per named thing in ``emobench/catalogue/<kind>/``, whose ``impl``
    is a ``"module:Attr"`` string (nothing is imported until used) and whose ``params`` configure it;
  * third-party entry points in the group ``emobench.<kind>``.
Two sources claiming one name is an error naming both; an unknown name suggests close ones.
"""

from __future__ import annotations

import difflib
import importlib
import importlib.metadata as importlib_metadata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from emobench.catalogue import SECTIONS, iter_specs
from emobench.errors import RegistryError


@dataclass(frozen=True)
class Entry:
    """A named, not yet imported, registry entry."""

    name: str
    kind: str
    description: str
    impl: str | Callable  # "module:Attr", or an object registered programmatically
    source: str  # where the entry came from, shown in errors and `emobench list`
    params: Mapping[str, Any] = field(default_factory=dict)
    meta: Mapping[str, Any] = field(default_factory=dict)  # other spec fields: license, trained_on, ...


def import_object(target: str, *, context: str) -> Any:
    """Import ``"package.module:Attr"``; failures become a RegistryError that says who asked."""
    module_name, _, attr = target.partition(":")
    if not attr:
        raise RegistryError(f"{context}: implementation {target!r} must look like 'package.module:Attr'")
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:
        raise RegistryError(f"{context}: cannot import {module_name!r} ({type(exc).__name__}: {exc})") from exc
    try:
        return getattr(module, attr)
    except AttributeError as exc:
        raise RegistryError(f"{context}: module {module_name!r} has no attribute {attr!r}") from exc


class Registry:
    """Name -> Entry for one kind of plugin."""

    def __init__(self, kind: str, *, singular: str | None = None):
        self.kind = kind
        self.singular = singular or kind.removesuffix("s")
        self.group = f"emobench.{kind}"
        self._entries: dict[str, Entry] | None = None
        self._extra: dict[str, Entry] = {}

    # -- collecting ---------------------------------------------------------------------------
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
            meta = {k: v for k, v in spec.items() if k not in ("name", "impl", "description", "params")}
            add(
                Entry(
                    spec["name"], self.kind, str(spec["description"]).strip(), spec["impl"],
                    source=f"catalogue spec {path}", params=dict(spec.get("params") or {}), meta=meta,
                )
            )
        for ep in importlib_metadata.entry_points(group=self.group):
            dist = ep.dist.name if ep.dist is not None else "unknown distribution"
            add(
                Entry(
                    ep.name, self.kind, f"plugin from {dist}", ep.value,
                    source=f"entry point {ep.name} = {ep.value} (group {self.group}, package {dist})",
                )
            )
        for entry in self._extra.values():
            add(entry)
        return found

    def entries(self) -> dict[str, Entry]:
        if self._entries is None:
            self._entries = self._collect()
        return self._entries

    def names(self) -> list[str]:
        return sorted(self.entries())

    def register(self, name: str, impl: str | Callable, description: str = "", **params: Any) -> None:
        """Add an entry from code (tests, notebooks). Same duplicate rules as the other sources."""
        self._extra[name] = Entry(name, self.kind, description, impl, source="registered in code", params=params)
        self._entries = None
        self.entries()

    def unregister(self, name: str) -> None:
        self._extra.pop(name, None)
        self._entries = None

    # -- resolving ----------------------------------------------------------------------------
    def get(self, name: str) -> Entry:
        entries = self.entries()
        if name in entries:
            return entries[name]
        close = difflib.get_close_matches(name, list(entries), n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise RegistryError(
            f"unknown {self.singular} {name!r}{hint} "
            f"(`emobench list {self.kind}` shows all {len(entries)})"
        )

    def load(self, name: str) -> Any:
        """The implementation object (class or factory) behind a name."""
        entry = self.get(name)
        return self.load_entry(entry)

    def load_entry(self, entry: Entry) -> Any:
        if callable(entry.impl):
            return entry.impl
        return import_object(entry.impl, context=f"{self.kind} {entry.name!r} from {entry.source}")

    def create(self, name: str, **overrides: Any) -> Any:
        """Instantiate an entry: its implementation called with the spec's params plus overrides."""
        entry = self.get(name)
        factory = self.load_entry(entry)
        params = {**entry.params, **overrides}
        try:
            return factory(**params)
        except TypeError as exc:
            raise RegistryError(f"{self.kind} {name!r} from {entry.source}: bad parameters {params}: {exc}") from exc

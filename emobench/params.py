"""Parameters checked against the constructor that takes them, before any work.

A spec's ``params`` merged with command-line overrides are validated against the implementation's
signature: an unknown key lists the valid ones (with a close match), and every value is checked against
its annotation with pydantic (``n_stages: int`` refuses 2.5; ``Annotated[int, Ge(1)]`` refuses 0). The
constructor's own checks then run too, and their errors become one line naming the entry. Parameters are
declared once, in the constructor; a class taking ``**kwargs`` names the dataclass of the extra keys in
``extra_params`` (e.g. the probes' training settings).
"""

from __future__ import annotations

import dataclasses
import difflib
import inspect
import typing
from collections.abc import Callable, Mapping
from typing import Any

from emobench.errors import EmobenchError, RegistryError

RUNTIME_ONLY = ("progress",)  # passed by the harness, never set from a spec or the command line


class ParamError(RegistryError, ValueError):
    """An unknown parameter, or a value of the wrong type or out of range."""


def _hints(target: Callable) -> dict[str, Any]:
    fn = target.__init__ if inspect.isclass(target) else target
    try:
        return typing.get_type_hints(fn, include_extras=True)
    except Exception:  # an annotation that does not evaluate: fall back to no type checks
        return {}


def accepted(target: Callable) -> tuple[dict[str, inspect.Parameter], dict[str, Any], bool]:
    """(named parameters, their type hints, whether other keys are accepted too)."""
    sig = inspect.signature(target)
    named = {k: p for k, p in sig.parameters.items()
             if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD) and k not in ("self", *RUNTIME_ONLY)}
    hints = {k: v for k, v in _hints(target).items() if k in named}
    open_ended = any(p.kind == p.VAR_KEYWORD for p in sig.parameters.values())
    extra = getattr(target, "extra_params", None)
    if open_ended and extra is not None and dataclasses.is_dataclass(extra):
        extra_hints = typing.get_type_hints(extra, include_extras=True)
        for f in dataclasses.fields(extra):
            default = f.default if f.default is not dataclasses.MISSING else inspect.Parameter.empty
            named[f.name] = inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY, default=default)
            hints[f.name] = extra_hints.get(f.name, Any)
        open_ended = False
    elif open_ended and callable(extra):  # a composite passing the rest through to an inner class
        inner, inner_hints, open_ended = accepted(extra)
        for k, p in inner.items():
            if k not in named:
                named[k], hints[k] = p, inner_hints.get(k, Any)
    return named, hints, open_ended


def _check_value(key: str, annotation: Any, value: Any) -> Any:
    from pydantic import TypeAdapter, ValidationError

    adapter = TypeAdapter(annotation)
    try:
        if isinstance(value, bool):  # YAML's true/false is no number: only a bool annotation takes it
            return adapter.validate_python(value, strict=True)
        return adapter.validate_python(value)
    except ValidationError as exc:
        raise ParamError(f"{key}={value!r}: {exc.errors()[0]['msg']}") from None
    except Exception:  # an annotation pydantic cannot build a validator for: accept as is
        return value


def validate(target: Callable, params: Mapping[str, Any], *, where: str) -> dict[str, Any]:
    """``params`` checked against ``target``'s signature; returns them with values coerced to their types."""
    named, hints, open_ended = accepted(target)
    out: dict[str, Any] = {}
    for key, value in params.items():
        if key not in named and not open_ended:
            close = difflib.get_close_matches(key, list(named), n=1, cutoff=0.6)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise ParamError(f"{where} has no parameter {key!r}; {hint}valid: {', '.join(sorted(named)) or 'none'}")
        try:
            out[key] = _check_value(key, hints[key], value) if key in hints else value
        except ParamError as exc:
            raise ParamError(f"{where}: {exc}") from None
    missing = [k for k, p in named.items() if p.default is inspect.Parameter.empty and k not in out]
    if missing:
        raise ParamError(f"{where} needs {', '.join(f'{k}=...' for k in missing)} (e.g. -U/-Q/-T/-P KEY=VALUE)")
    return out


def build(target: Callable, params: Mapping[str, Any], *, where: str, **runtime: Any) -> Any:
    """Validate, then call ``target(**params, **runtime)``; the constructor's own ValueErrors become
    one-line ParamErrors naming ``where``."""
    checked = validate(target, params, where=where)
    try:
        return target(**checked, **runtime)
    except EmobenchError:
        raise
    except (ValueError, TypeError) as exc:
        raise ParamError(f"{where}: {exc}") from exc


def defaults(target: Callable) -> dict[str, Any]:
    """The constructor's default values (what a spec that sets nothing gets)."""
    named, _, _ = accepted(target)
    return {k: p.default for k, p in named.items() if p.default is not inspect.Parameter.empty}

"""User-facing errors: one line saying what went wrong, where, and how to fix it."""

from __future__ import annotations


class EmobenchError(Exception):
    """An error caused by input or environment, shown to users without a traceback (unless --debug)."""


class RegistryError(EmobenchError):
    """Unknown, duplicate or broken registry entry."""


class MissingExtraError(EmobenchError):
    """An optional backend is not installed."""

    def __init__(self, extra: str, what: str, cause: BaseException | None = None):
        detail = f" ({type(cause).__name__}: {cause})" if cause else ""
        super().__init__(f"{what} needs the '{extra}' extra: pip install 'emobench[{extra}]'{detail}")
        self.extra = extra


class CorpusError(EmobenchError):
    """A corpus root, file or label that cannot be used."""


class AudioError(EmobenchError):
    """Audio that cannot be decoded or is unusable (empty, silent, corrupt)."""


class CacheError(EmobenchError):
    """A cache entry that is missing, corrupt or was written for something else."""


class SchemaError(EmobenchError):
    """A result file that does not follow the result schema."""


class SplitLeakError(EmobenchError):
    """Evaluation data (utterances or speakers) found in data used for fitting."""


def require_extra(module: str, extra: str, what: str):
    """Import an optional backend or raise a MissingExtraError naming the extra to install."""
    import importlib

    try:
        return importlib.import_module(module)
    except Exception as exc:  # ImportError, or a broken install that fails while importing
        raise MissingExtraError(extra, what, exc) from exc

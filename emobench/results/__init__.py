"""Result files: the versioned schema, and reading/writing JSON + CSV + prediction sidecars."""

from emobench.results.io import read_result, write_result
from emobench.results.schema import SCHEMA_VERSION, validate_result

__all__ = ["SCHEMA_VERSION", "read_result", "validate_result", "write_result"]

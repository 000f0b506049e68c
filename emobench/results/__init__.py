"""Result files: the versioned schema, writing/reading JSON + sidecars, and the tidy metrics table."""

from emobench.results.io import read_result, write_result
from emobench.results.schema import SCHEMA_VERSION, validate_result
from emobench.results.table import load, tidy

__all__ = ["SCHEMA_VERSION", "load", "read_result", "tidy", "validate_result", "write_result"]

"""Quantizers: the plugin API (``base``), the shared k-means, and the built-in quantizer families.

Import the concrete modules directly (``emobench.quantizers.rvq`` ...); this package imports nothing
heavy so that listing the registry stays torch-free.
"""

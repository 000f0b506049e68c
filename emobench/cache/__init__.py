"""Resumable on-disk feature cache (no torch imported here; ``emobench cache`` lists it cheaply)."""

from emobench.cache.feature_cache import FeatureCache
from emobench.cache.featureset import FeatureSet, ShardFrameSource
from emobench.cache.keys import FEATURE_FORMAT_VERSION

__all__ = ["FEATURE_FORMAT_VERSION", "FeatureCache", "FeatureSet", "ShardFrameSource"]

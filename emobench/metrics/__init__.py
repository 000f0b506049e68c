"""Metrics: pure functions of numpy arrays (no torch), each checked against scikit-learn/scipy or a
hand-computed case in tests/test_metrics.py."""

from emobench.metrics.classification import (
    accuracy,
    confusion,
    f1_per_class,
    macro_f1,
    recall_per_class,
    uar,
)
from emobench.metrics.distribution import js_divergence, normalized_entropy, top2_set_accuracy, top2_sets
from emobench.metrics.similarity import (
    agreement,
    cosine_similarity,
    frame_cosine,
    segment_mean,
    utterance_cosine,
)
from emobench.metrics.stats import bootstrap_ci, bootstrap_metric, mean_over_seeds

__all__ = [
    "accuracy", "agreement", "bootstrap_ci", "bootstrap_metric", "confusion", "cosine_similarity",
    "f1_per_class", "frame_cosine", "js_divergence", "macro_f1", "mean_over_seeds", "normalized_entropy",
    "recall_per_class", "segment_mean", "top2_set_accuracy", "top2_sets", "uar", "utterance_cosine",
]

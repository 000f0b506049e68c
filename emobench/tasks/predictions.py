"""Per-utterance prediction tables (the ``<run>.predictions.csv`` sidecar): every number of a result
can be recomputed from them. Long format: one row per utterance and condition; the continuous baseline
is ``condition=continuous`` with an empty depth, as in the metrics table."""

from __future__ import annotations

from typing import Any

import numpy as np

from emobench.corpora.base import Utterance


def frame(utts: list[Utterance], labels, probs: np.ndarray | None, *, pred: np.ndarray | None = None,
          **columns: Any):
    """One row per utterance: id, speaker, label, prediction and its probabilities, plus ``columns``."""
    import pandas as pd

    if pred is None and probs is not None:
        pred = probs.argmax(1)
    data: dict[str, Any] = {"utt_id": [u.id for u in utts], "speaker": [u.speaker for u in utts],
                            "label": [u.label for u in utts]}
    data.update({k: v for k, v in columns.items() if v is not None})
    if pred is not None:
        data["pred"] = [labels[i] for i in pred]
    if probs is not None:
        data.update({f"p_{lab}": probs[:, i] for i, lab in enumerate(labels)})
    return pd.DataFrame(data)


def depth_frame(utts: list[Utterance], labels, cont_probs: np.ndarray, ev, **extra: Any):
    """The continuous predictions, then every depth's (with fidelity, and the route for routers)."""
    import pandas as pd

    parts = [frame(utts, labels, cont_probs, condition="continuous", **extra)]
    for d in ev.depths:
        route = ev.route.get(d)
        parts.append(frame(utts, labels, ev.probs[d], condition="quantized", depth=d,
                           cosine_frame=ev.cos_frame[d], cosine_utterance=ev.cos_utt[d],
                           route=None if route is None else [list(ev.books)[i] for i in route], **extra))
    return pd.concat(parts, ignore_index=True)

"""Merging training seeds: a condition keeps records apart, a protocol's choice (``chosen``) does not."""

from __future__ import annotations

import numpy as np
import pytest

from emobench.results.document import merge_seeds
from emobench.tasks.records import rec


def test_records_at_a_depth_each_seed_chose_merge_into_one():
    per_seed = [[rec("macro_f1_delta", v, ci=(v - 0.1, v + 0.1), layout="8x32", depth=d, chosen=("depth",)),
                 rec("macro_f1", 0.5 + v, layout="8x32", depth=d, condition="selection")]
                for v, d in ((0.1, 4), (-0.05, 2), (-0.08, 2))]
    merged = merge_seeds(per_seed, [0, 1, 2])
    chosen = [m for m in merged if m["name"] == "macro_f1_delta"]
    assert len(chosen) == 1  # one record, whatever depth each seed picked
    assert chosen[0]["per_seed"] == [0.1, -0.05, -0.08] and chosen[0]["value"] == pytest.approx(np.mean([0.1, -0.05, -0.08]))
    assert "depth" not in chosen[0]["breakdown"] and chosen[0]["breakdown"]["layout"] == "8x32"
    assert chosen[0]["ci_low"] == pytest.approx(np.mean([0.0, -0.15, -0.18]))
    # depth as a condition (the selection curve) keeps one record per depth
    curve = {m["breakdown"]["depth"]: m for m in merged if m["name"] == "macro_f1"}
    assert sorted(curve) == [2, 4] and len(curve[2]["breakdown"]) == 3 and "per_seed" not in curve[4]


def test_a_choice_every_seed_agrees_on_is_kept():
    per_seed = [[rec("bitrate", 1000.0 + s, depth=2, corpus="mean", chosen=("depth",))] for s in range(3)]
    (merged,) = merge_seeds(per_seed, [0, 1, 2])
    assert merged["breakdown"] == {"depth": 2, "corpus": "mean"} and merged["value"] == pytest.approx(1001.0)

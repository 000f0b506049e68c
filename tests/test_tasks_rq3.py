"""RQ3 on synthetic features: soft-label fidelity per scheme and stratum; clear errors before work."""

from __future__ import annotations

import pytest
from test_tasks_helpers import make_context, one_thread, records, register_quantizer, synthetic_corpus, value

from emobench.errors import EmobenchError
from emobench.tasks.rq3 import RQ3

pytestmark = pytest.mark.usefixtures("one_thread")
__all__ = ["one_thread"]


@pytest.fixture
def rvq_tiny():
    undo = register_quantizer("test-rvq-3x2", n_stages=3, codebook_size=2, n_iter=10)
    yield "test-rvq-3x2"
    undo()


def test_rq3_specific_codebooks_keep_soft_labels_better(tmp_path, rvq_tiny):
    corpora = {"a": synthetic_corpus("a", seed=0), "held": synthetic_corpus("held", seed=5, soft=True)}
    ctx = make_context(tmp_path, corpora, quantizer=rvq_tiny, task="rq3")
    task = RQ3(held_out="held", n_boot=30)
    task.check(ctx.corpora)
    out = task.run(ctx)
    js = {s: value(out.metrics, "js_divergence", depth=1, scheme=s, stratum="all") for s in task.schemes}
    assert js["100+0"] < js["balanced"] and js["99+1"] < js["balanced"], js
    assert all(0 <= v <= 1 for v in js.values())
    cont = records(out.metrics, "top2_accuracy", scheme="continuous")
    assert {m["breakdown"]["stratum"] for m in cont} == {"all", "low", "high"}
    assert out.corpora_roles == {"a": "train", "held": "held-out"}
    assert len(out.predictions) == len(out.predictions[out.predictions.scheme == "continuous"]) * (1 + 4 * 3)
    # label-free routing runs too and is scored the same way
    out2 = RQ3(held_out="held", routing="emoq", n_boot=10, schemes={"balanced": 0, "100+0": 1.0}).run(ctx)
    assert records(out2.metrics, "js_divergence", scheme="100+0", stratum="all", depth=3)


def test_rq3_needs_soft_labels_on_the_held_out_corpus(tmp_path, rvq_tiny):
    corpora = {"a": synthetic_corpus("a", seed=0), "b": synthetic_corpus("b", seed=1)}
    with pytest.raises(EmobenchError, match="soft labels"):
        RQ3(held_out="b").check({c: v[0] for c, v in corpora.items()})
    with pytest.raises(EmobenchError, match="not among the loaded corpora"):
        RQ3(held_out="iemocap").check({c: v[0] for c, v in corpora.items()})

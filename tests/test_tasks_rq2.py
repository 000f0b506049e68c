"""RQ2 on synthetic features with known structure: emotion-specific codebooks beat balanced ones when
matched at low depth, and pay for it with attraction."""

from __future__ import annotations

import pytest
from test_tasks_helpers import (
    LABELS,
    make_context,
    one_thread,
    records,
    register_quantizer,
    synthetic_corpus,
    value,
)

from emobench.errors import EmobenchError
from emobench.results.schema import validate_result
from emobench.tasks.rq2 import RQ2

pytestmark = pytest.mark.usefixtures("one_thread")
__all__ = ["one_thread"]


@pytest.fixture
def rvq_tiny():
    undo = register_quantizer("test-rvq-2x2", n_stages=3, codebook_size=2, n_iter=10)
    yield "test-rvq-2x2"
    undo()


def test_rq2_specific_beats_balanced_when_matched(tmp_path, rvq_tiny):
    corpora = {"a": synthetic_corpus("a", seed=0), "b": synthetic_corpus("b", seed=1)}
    ctx = make_context(tmp_path, corpora, quantizer=rvq_tiny, task="rq2")
    task = RQ2(n_boot=50)
    task.check(ctx.corpora)
    out = task.run(ctx)
    for corpus in ("a", "b"):
        spec = value(out.metrics, "matched_recall", depth=1, emotion=None, codebook="specific", corpus=corpus)
        bal = value(out.metrics, "matched_recall", depth=1, emotion=None, codebook="balanced", corpus=corpus)
        assert spec > bal + 0.2, (corpus, spec, bal)
        assert spec > 0.8
        # the price: other emotions are pulled towards the codebook's emotion
        att_spec = value(out.metrics, "attraction", depth=1, emotion=None, codebook="specific", corpus=corpus)
        att_bal = value(out.metrics, "attraction", depth=1, emotion=None, codebook="balanced", corpus=corpus)
        assert att_spec > att_bal
    # every record has what the leaderboard needs; entropies are fractions per stage
    ent = records(out.metrics, "normalized_entropy", codebook="specific", condition="matched")
    assert {m["breakdown"]["stage"] for m in ent} == {1, 2, 3}
    assert all(0.0 <= m["value"] <= 1.0 for m in ent)
    assert {m["breakdown"].get("emotion") for m in records(out.metrics, "attraction")} == {*LABELS, None}
    assert out.protocol["per_corpus"]["a"]["utterances_per_codebook"] == 12
    assert set(out.predictions["codebook"]) == {"balanced", *(f"specific-{lab}" for lab in LABELS)}
    doc = _doc(out)
    validate_result(doc)


def test_rq2_too_few_utterances_fails_before_work(tmp_path, rvq_tiny):
    corpora = {"a": synthetic_corpus("a", n_per_label=6)}
    ctx = make_context(tmp_path, corpora, quantizer=rvq_tiny, task="rq2")
    with pytest.raises(EmobenchError, match="n_train"):
        RQ2(n_train=50, n_boot=10).run(ctx)
    assert not (tmp_path / "codebooks").exists()


def _doc(out):
    return {
        "schema_version": 1, "run_id": "t", "created_at": "now", "task": "rq2", "config": {},
        "config_hash": "0123456789abcdef", "upstream": {"name": "s", "layer": 0, "frame_rate_hz": 50.0, "dim": 16},
        "quantizer": out.quantizer_info, "corpora": [], "protocol": out.protocol,
        "provenance": {"emobench_version": "0", "packages": {}, "machine": {}, "device": "cpu", "dtype": "float32",
                       "seeds": [0], "timings_s": {}},
        "metrics": out.metrics,
    }


def test_rq2_with_an_emoq_preset_uses_its_books_and_an_rvq_of_the_same_layout(tmp_path):
    from emobench.registries import quantizers

    quantizers.register("test-emoq-rq2", "emobench.quantizers.emoq:EmoQ", "t", n_stages=2, codebook_size=2, n_iter=5)
    try:
        ctx = make_context(tmp_path, {"a": synthetic_corpus("a", seed=0, n_per_label=12)}, quantizer="test-emoq-rq2",
                           task="rq2")
        out = RQ2(n_boot=10).run(ctx)
    finally:
        quantizers.unregister("test-emoq-rq2")
    assert out.quantizer_info["layout"] == "2x2" and out.quantizer_info["kind"] == "ResidualVQ"
    folders = sorted(p.name.rsplit("-", 1)[0] for p in (tmp_path / "codebooks").iterdir())
    assert folders == ["rq2-a-balanced", "rq2-a-specific"]  # one Emo-Q fit holds the four books
    assert records(out.metrics, "matched_recall", depth=2, codebook="specific", emotion="sad")

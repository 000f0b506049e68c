"""RQ4 and OOD SER on synthetic features: Emo-Q routes almost perfectly where emotion is a clean
cluster; depth selection, deltas and bitrates are recorded; non-routing quantizers fail before work."""

from __future__ import annotations

import pytest
from test_tasks_helpers import make_context, one_thread, records, register_quantizer, synthetic_corpus, value

from emobench.errors import EmobenchError
from emobench.tasks.ood import OODSER, candidate_depths, select_depth
from emobench.tasks.rq4 import RQ4

pytestmark = pytest.mark.usefixtures("one_thread")
__all__ = ["one_thread"]


@pytest.fixture
def presets():
    from emobench.registries import quantizers

    undo = register_quantizer("test-rvq-3x4", n_stages=3, codebook_size=4, n_iter=10)
    quantizers.register("test-emoq", "emobench.quantizers.emoq:EmoQ", "test preset", n_stages=3, codebook_size=4,
                        n_iter=10, max_points_per_centroid=64)
    yield
    undo()
    quantizers.unregister("test-emoq")


def corpora(nuisance: float = 1.5):
    """Two training corpora and an OOD one (other seed: other nuisance draws)."""
    return {"a": synthetic_corpus("a", seed=0, nuisance=nuisance), "b": synthetic_corpus("b", seed=1, nuisance=nuisance),
            "ood1": synthetic_corpus("ood1", seed=7, n_per_label=12, nuisance=nuisance)}


def test_rq4_emoq_routes_almost_perfectly(tmp_path, presets):
    ctx = make_context(tmp_path, corpora(), quantizer="test-emoq", task="rq4")
    task = RQ4(layouts=["3x4", "2x2"], ood=["ood1"], n_boot=20)
    out = task.run(ctx)
    for layout in ("3x4", "2x2"):
        bal = value(out.metrics, "macro_f1", corpus="ood1", condition="quantized", layout=layout, method="Bal")
        for method in ("Emo-Q(100)", "Emo-Q(99)"):
            f1 = value(out.metrics, "macro_f1", corpus="ood1", condition="quantized", layout=layout, method=method)
            assert f1 > 0.9 and f1 > bal, (layout, method, f1, bal)
        depth = value(out.metrics, "selected_depth", layout=layout, method="Bal")
        bps = value(out.metrics, "bitrate", layout=layout, method="Bal")
        size = int(layout.split("x")[1])
        assert bps == pytest.approx(depth * (size.bit_length() - 1) * 50.0)
        mean = value(out.metrics, "macro_f1_delta", corpus="mean", layout=layout, method="Emo-Q(100)")
        assert mean == pytest.approx(value(out.metrics, "macro_f1_delta", corpus="ood1", layout=layout,
                                           method="Emo-Q(100)"))
    assert out.corpora_roles == {"a": "train", "b": "train", "ood1": "ood"}
    assert any(n.startswith("paper Emo-Q(99)") for n in out.notes)
    assert set(out.predictions["condition"]) == {"continuous", "quantized"}


def test_rq4_refuses_a_quantizer_that_cannot_route(tmp_path, presets):
    ctx = make_context(tmp_path, corpora(), quantizer="test-rvq-3x4", task="rq4")
    with pytest.raises(EmobenchError, match="cannot route"):
        RQ4(layouts=["2x2"], ood=["ood1"]).run(ctx)
    with pytest.raises(EmobenchError, match="STAGESxENTRIES"):
        RQ4(layouts=["8by32"])


def test_ood_ser_with_rvq_and_pseudo_ood(tmp_path, presets):
    ctx = make_context(tmp_path, corpora(), quantizer="test-rvq-3x4", task="ood-ser")
    out = OODSER(ood=["ood1"], n_boot=20).run(ctx)
    sel = records(out.metrics, "macro_f1_delta", corpus="ood1", selected="cv")
    assert len(sel) == 1 and sel[0]["breakdown"]["method"] == "probe"
    assert len(records(out.metrics, "macro_f1", corpus="ood1", condition="quantized")) == 3
    # no OOD corpus loaded: held-out speakers stand in, and the result says so
    only = {"a": synthetic_corpus("a", seed=0)}
    ctx2 = make_context(tmp_path / "2", only, quantizer="test-emoq", task="ood-ser")
    out2 = OODSER(ood=["msp-podcast"], n_boot=10).run(ctx2)
    assert any("pseudo-OOD" in n for n in out2.notes)
    assert {m["breakdown"]["method"] for m in records(out2.metrics, "macro_f1", condition="quantized")} == {
        "probe", "routed"}


def test_depth_helpers():
    assert candidate_depths(8) == list(range(1, 9))
    grid = candidate_depths(128)
    assert grid[0] == 1 and grid[-1] == 128 and len(grid) <= 32
    assert select_depth({1: 0.5, 2: 0.7, 3: 0.7}) == 2


def test_routed_predictions_equal_emoq_route():
    import numpy as np

    from emobench.quantizers.emoq import EmoQ
    from emobench.tasks.ood import routed_predictions

    rng = np.random.default_rng(0)
    emotions = ["angry", "happy", "neutral", "sad"]
    q = EmoQ(n_stages=4, codebook_size=4, n_iter=5).fit(
        {e: (rng.normal(size=(200, 8)) + i).astype(np.float32) for i, e in enumerate(emotions)})
    X = (rng.normal(size=(40, 8)) + rng.integers(0, 4, 40)[:, None]).astype(np.float32)
    labels = ["sad", "angry", "happy", "neutral"]  # another order than the router's
    mine = routed_predictions(q, X, [1, 2, 4], labels)
    for d in (1, 2, 4):
        np.testing.assert_array_equal(mine[d], [labels.index(e) for e in q.predict(X, depth=d)])


def test_ood_ser_with_emotion2vec_head_from_the_upstream(tmp_path, presets):
    import numpy as np

    from emobench.probes.e2v_head import E2V_LABELS

    ctx = make_context(tmp_path, corpora(), quantizer="test-rvq-3x4", task="ood-ser", probe="e2v-head", probe_params={})
    weight = np.zeros((9, 16))
    for i, lab in enumerate(("angry", "happy", "neutral", "sad")):
        weight[E2V_LABELS.index(lab), i] = 5.0  # the synthetic emotion centres lie on the first axes
    ctx.upstream.emotion_head = lambda: (weight, np.zeros(9))
    out = OODSER(ood=["ood1"], n_boot=10).run(ctx)
    assert value(out.metrics, "macro_f1", corpus="ood1", condition="continuous") > 0.9

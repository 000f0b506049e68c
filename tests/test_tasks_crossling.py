"""crossling-ser on synthetic "languages" with known answers, and end to end through the CLI on fake
release trees of EMOVO and ShEMO (fbank stands in for Whisper: the weight-free floor)."""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

from emobench.registries import quantizers, tasks
from emobench.tasks.crossling import CrosslingSER
from emobench.testing import lingual_corpus, make_inputs, records, stack_layers, synthetic_corpus, value

FAST = {"epochs": 30, "lr": 0.01, "batch_size": 0, "min_steps": 0, "class_weight": None}
SPLIT = {"fractions": (0.6, 0.2, 0.2), "control_fractions": (0.6, 0.2, 0.2)}  # two test speakers of ten


@pytest.fixture(autouse=True)
def tiny_presets():
    quantizers.register("t-8x8", "emobench.quantizers.rvq:ResidualVQ", "test preset",
                        params={"n_stages": 8, "codebook_size": 8, "n_iter": 10, "min_train_frames": 0})
    quantizers.register("t-emoq", "emobench.quantizers.emoq:EmoQ", "test preset",
                        params={"n_stages": 2, "codebook_size": 4, "n_iter": 5, "min_train_frames": 0})
    yield
    quantizers.unregister("t-8x8")
    quantizers.unregister("t-emoq")


def run(tmp_path, corpora, *, probe="crossling-linear", quantizer="t-8x8", **params):
    inputs, _ = make_inputs(tmp_path, corpora, task="crossling-ser", quantizers={"system": quantizer}, probe=probe,
                            probe_params=FAST)
    return CrosslingSER(n_boot=100, **{**SPLIT, **params}).run(inputs), inputs


def f1_curve(out, corpus):
    return [value(out.metrics, "macro_f1", corpus=corpus, depth=d, condition="quantized") for d in range(1, 9)]


def test_an_under_served_languages_emotion_decays_under_a_shared_codebook(tmp_path):
    """Language bb's emotion lives in a subspace with a tenth of aa's variance: the shared codebook spends its
    entries on aa's emotion and the nuisance, so bb's emotion is lost at shallow depths and comes back only
    with the last stages, while aa's is kept at every depth; on continuous features both are recognised."""
    aa = lingual_corpus("aa-corpus", language="aa", emotion_dims=(0, 4), emo_scale=1.5, nuisance=1.0, n_speakers=10)
    bb = lingual_corpus("bb-corpus", language="bb", emotion_dims=(4, 8), emo_scale=0.5, nuisance=1.0, n_speakers=10,
                        seed=1)
    out, inputs = run(tmp_path, {"aa-corpus": aa, "bb-corpus": bb})
    cont = {c: value(out.metrics, "macro_f1", corpus=c, condition="continuous") for c in ("aa-corpus", "bb-corpus")}
    assert min(cont.values()) > 0.9, cont
    a, b = f1_curve(out, "aa-corpus"), f1_curve(out, "bb-corpus")
    assert min(a) > 0.7 and np.mean(a) > 0.9, a
    assert all(x - y > 0.5 for x, y in zip(a[:3], b[:3], strict=True)) and b[-1] > b[0] + 0.3, (a, b)
    delta = records(out.metrics, "macro_f1_delta", corpus="bb-corpus", depth=1)[0]
    assert delta["value"] < -0.6 and delta["ci_high"] < 0  # paired over the same utterances
    assert records(out.metrics, "macro_f1", corpus="bb-corpus", depth=1)[0]["breakdown"]["language"] == "bb"
    assert len(inputs.quantizers.fitted) == 1  # one shared codebook for both languages
    # the language control: both languages told apart on continuous and reconstructed features
    assert value(out.metrics, "language_accuracy", corpus="mean", condition="continuous") > 0.9
    # the mean over corpora weighs them equally (the paper's Table 2)
    mean = value(out.metrics, "macro_f1", corpus="mean", depth=1, condition="quantized")
    assert mean == pytest.approx((a[0] + b[0]) / 2)


@pytest.mark.parametrize(("speaker", "keeps_speaker"), [
    ({"nuisance": 0.3, "speaker_scale": 3.0}, True),  # speakers span the high-variance subspace: served first
    ({"nuisance": 3.0, "speaker_scale": 0.5, "speaker_dims": (4, 8)}, False),  # a low-variance one: lost too
])
def test_the_speaker_control_tells_a_token_keeping_the_speaker_from_one_losing_both(tmp_path, speaker, keeps_speaker):
    corpus = lingual_corpus("s", language="aa", emotion_dims=(0, 4), emo_scale=0.4, n_speakers=10, seed=2, **speaker)
    out, _ = run(tmp_path, {"s": corpus})
    emo_cont = value(out.metrics, "macro_f1", corpus="s", condition="continuous")
    emo_q = value(out.metrics, "macro_f1", corpus="s", depth=1, condition="quantized")
    spk_cont = value(out.metrics, "speaker_accuracy", corpus="s", condition="continuous")
    spk_q = value(out.metrics, "speaker_accuracy", corpus="s", depth=1, condition="quantized")
    assert emo_cont > 0.9 and emo_q < emo_cont - 0.5 and spk_cont >= 0.7, (emo_cont, emo_q, spk_cont)
    if keeps_speaker:
        assert spk_q >= 0.9, spk_q
    else:
        assert spk_q < spk_cont - 0.4, (spk_q, spk_cont)
    assert "language control skipped: the loaded corpora cover 1 language(s)" in out.notes


def test_the_papers_protocol_per_corpus_with_its_own_labels(tmp_path):
    three = ("angry", "happy", "sad")
    a = synthetic_corpus("a", n_speakers=10, labels=three, seed=0, language="aa")
    b = synthetic_corpus("b", n_speakers=10, seed=1, language="bb")
    out, inputs = run(tmp_path, {"a": a, "b": b}, probe="crossling-nonlinear", quantize=False,
                      fractions=(0.8, 0.1, 0.1))
    per = out.protocol["per_corpus"]
    assert per["a"]["labels"] == list(three) and len(per["b"]["labels"]) == 4
    assert per["a"]["speaker_independent"] and per["a"]["fractions"] == [0.8, 0.1, 0.1]
    assert not inputs.quantizers.fitted and not records(out.metrics, "macro_f1", condition="quantized")
    f1 = {c: value(out.metrics, "macro_f1", corpus=c, condition="continuous") for c in "ab"}
    assert value(out.metrics, "macro_f1", corpus="mean", condition="continuous") == pytest.approx(np.mean(list(f1.values())))
    confusion = records(out.metrics, "confusion", corpus="a")
    assert len(confusion) == 9  # its own three classes
    assert {m["breakdown"]["upstream_probe"] for m in out.metrics} == {"synthetic/crossling-nonlinear"}
    for c in "ab":  # a probe trained only on the corpus' train speakers, tested on unseen ones
        split = next(f for f in inputs.probes.trained if f["train"] == per[c]["sizes"]["train"])
        assert split["val"] == per[c]["sizes"]["val"]


@pytest.mark.parametrize(("protocol", "fits"), [("shared", 1), ("within", 2), ("loco", 2)])
def test_codebooks_never_see_what_they_reconstruct(tmp_path, protocol, fits):
    a = synthetic_corpus("a", n_speakers=10, seed=0, language="aa")
    b = synthetic_corpus("b", n_speakers=10, seed=1, language="bb")
    out, inputs = run(tmp_path, {"a": a, "b": b}, codebook_protocol=protocol, quantizer="rvq-demo")
    per = out.protocol["per_corpus"]
    own = {c: per[c]["sizes"]["train"] - per[c]["speaker_control"]["sizes"]["test"] for c in "ab"}
    sizes = [f["train_utterances"]["all"] for f in inputs.quantizers.fitted]
    assert len(sizes) == fits
    expected = {"shared": [own["a"] + own["b"]], "within": [own["a"], own["b"]], "loco": [own["b"], own["a"]]}
    assert sizes == expected[protocol]
    assert all(per[c]["speaker_control"]["sizes"]["test"] > 0 for c in "ab")


def test_the_multi_layer_probe_reports_its_layer_weights(tmp_path):
    corpus, feats = lingual_corpus("m", language="aa", emotion_dims=(0, 4), emo_scale=1.0, nuisance=1.0,
                                   n_speakers=10)
    layered = (corpus, stack_layers(feats, n_layers=4, informative={2: 1.0}))
    out, _ = run(tmp_path, {"m": layered}, probe="crossling-multilayer", quantizer="rvq-demo", controls=())
    w = {r["breakdown"]["layer"]: r["value"] for r in records(out.metrics, "layer_weight", corpus="m")}
    assert sorted(w) == [1, 2, 3] and sum(w.values()) == pytest.approx(1.0)  # the Transformer blocks, not 0
    assert max(w, key=w.get) == 2, w  # the layer that carries the emotion
    mean = {r["breakdown"]["layer"]: r["value"] for r in records(out.metrics, "layer_weight", corpus="mean")}
    assert mean == pytest.approx(w)
    assert any("layer 3 reconstructed, the other layers read continuous" in n for n in out.notes)
    assert records(out.metrics, "macro_f1", corpus="m", depth=1)  # quantized inputs reach it too
    # Figure 2 on the site: a grey-scale heat map, one row per corpus (and their mean), one cell per layer,
    # the informative layer the darkest
    import re

    from emobench.leaderboard.figures import Palette, build_group
    from emobench.leaderboard.render import template_env
    from emobench.results.document import task_info

    info = task_info(tasks.get("crossling-ser").spec)
    spec = next(f for f in info["figures"] if f["id"] == "layer-weights")
    group = build_group([{"metrics": out.metrics}], spec, info, fig_prefix="t", palette=Palette())
    html = template_env().from_string('{% from "_macros.html.j2" import plot %}{{ plot(fig) }}').render(
        fig=group.charts[0])
    rows = re.findall(r'<g class="series heat"[^>]*data-label="([^"]+)"', html)
    assert sorted(rows) == ["m", "mean"]
    shades = [float(v) for v in re.findall(r'class="pt cell"[^>]*fill-opacity="([0-9.]+)"', html)]
    assert len(shades) == 6 and 'data-n-points="6"' in html
    tips = re.findall(r'class="pt cell"[^>]*data-tip="([^"]+)"', html)
    assert "layer 2" in tips[shades.index(max(shades))], tips


def test_a_router_as_the_system(tmp_path):
    a = synthetic_corpus("a", n_speakers=10, seed=0, language="aa")
    out, inputs = run(tmp_path, {"a": a}, quantizer="t-emoq", controls=("speaker",))
    assert set(inputs.quantizers.fitted[0]["train_utterances"]) == {"angry", "happy", "neutral", "sad"}
    assert len(records(out.metrics, "macro_f1", corpus="a", condition="quantized")) == 2
    assert len(records(out.metrics, "speaker_accuracy", corpus="a", condition="quantized")) == 2


def test_the_spec_types_both_paper_tables_once():
    spec = tasks.get("crossling-ser").spec
    table3, table2 = spec.paper_tables
    corpora = ["aesdd", "cafe", "demos", "emodb", "emomatch", "emovo", "eyase", "oreau", "shemo"]
    assert list(table3.values) == corpora and table3.scale == 100 and table3.column_key == "upstream_probe"
    assert all(len(table3.values[c]) == 7 for c in corpora)  # Table 3: AST + six models at their best classifier
    assert len(table2.values) == 18 and table2.row_key == "upstream_probe"  # Table 2: six models x 3 classifiers
    assert all(list(v) == ["mean"] for v in table2.values.values())
    assert table3.values["oreau"]["whisper-medium/crossling-linear"] == 95.22
    assert table2.values["wav2vec2/crossling-multilayer"]["mean"] == 57.50
    ups = {k.split("/")[0] for row in table3.values.values() for k in row if k != "ast"} | {
        k.split("/")[0] for k in table2.values}
    from emobench.registries import upstreams

    assert {n: upstreams.get(n).spec.languages for n in sorted(ups)} == {
        "wav2vec2": ["en"], "wav2vec2-base": ["en"], "whisper-medium": ["multilingual"],
        "whisper-small": ["multilingual"], "whisper-small.en": ["en"], "xlsr": ["multilingual"]}
    assert set(spec.metrics) >= {"macro_f1", "speaker_accuracy", "language_accuracy", "layer_weight"}


# -- end to end: fake release trees through the CLI ------------------------------------------------------
def test_emobench_run_crossling_ser_on_fake_trees(tmp_path):
    from crossling_fixtures import make_trees

    from emobench.cli.main import app
    from emobench.results import read_result

    emovo, shemo = make_trees(tmp_path / "trees")
    out = tmp_path / "out"
    args = ["run", "-t", "crossling-ser", "-u", "fbank", "--probe", "crossling-linear", "-c", f"emovo={emovo}",
            "-c", f"shemo={shemo}", "--out", str(out), "--cache-dir", str(tmp_path / "cache"), "--no-site"]
    result = CliRunner().invoke(app, args, terminal_width=200)
    assert result.exit_code == 0, result.output
    (path,) = out.glob("*.json")
    doc = read_result(path)
    assert {c["name"]: len(c["label_set"]) for c in doc["corpora"]} == {"emovo": 7, "shemo": 6}  # full sets
    assert {c["name"]: c["language"] for c in doc["corpora"]} == {"emovo": "it", "shemo": "fa"}
    assert doc["probe"]["name"] == "crossling-linear" and doc["probe"]["input"] == "frames"
    f1 = [m for m in doc["metrics"] if m["name"] == "macro_f1" and m["breakdown"].get("condition") == "continuous"]
    assert {m["breakdown"]["corpus"] for m in f1} == {"emovo", "shemo", "mean"}
    assert {m["breakdown"]["upstream_probe"] for m in f1} == {"fbank/crossling-linear"}
    assert all(m["unit"] == "fraction" and 0 <= m["value"] <= 1 for m in f1)
    assert {m["breakdown"]["corpus"] for m in f1} - {"mean"} <= set(doc["task_info"]["paper_tables"][0]["values"])
    depths = {m["breakdown"]["depth"] for m in doc["metrics"] if m["name"] == "speaker_accuracy" and
              m["breakdown"].get("corpus") == "mean" and "depth" in m["breakdown"]}
    assert depths == set(range(1, 9))  # rvq-demo, the fbank preset: 8 stages
    assert doc["protocol"]["languages"] == ["fa", "it"]
    # the site's Table 3 reads our continuous records beside the paper's numbers (its where: continuous)
    from emobench.leaderboard.collect import Run
    from emobench.leaderboard.paper_table import paper_tables

    table3, table2 = paper_tables([Run(doc, path, doc["schema_version"])])
    cells = {(r["key"], c["column"]): c for r in table3["blocks"][0]["rows"] for c in r["cells"]}
    assert cells[("emovo", "fbank/crossling-linear")]["ours"] == pytest.approx(
        100 * next(m["value"] for m in f1 if m["breakdown"]["corpus"] == "emovo"))
    assert cells[("emovo", "whisper-small/crossling-linear")]["paper"] == 41.05
    assert not table3["signed"]  # absolute F1: no "+" signs
    means = {(r["key"], c["column"]): c for r in table2["blocks"][0]["rows"] for c in r["cells"]}
    assert means[("fbank/crossling-linear", "mean")]["ours"] is not None
    # the paper's protocol alone (no quantizer): the weight-free floor of Tables 2-3
    result = CliRunner().invoke(app, [*args, "-T", "quantize=false"], terminal_width=200)
    assert result.exit_code == 0, result.output
    doc = read_result(max(out.glob("*.json"), key=lambda p: p.stat().st_mtime))
    assert doc["protocol"]["quantize"] is False
    assert not [m for m in doc["metrics"] if "depth" in m["breakdown"]]

"""Adding a task takes three files (module, spec, test): written here into a copy of the catalogue and a
module on sys.path, it runs through `emobench run`, and its title, metrics and figure reach the terminal
summary, the result file and the site without any other change."""

from __future__ import annotations

import shutil
import textwrap

import pytest
from typer.testing import CliRunner

from emobench import catalogue
from emobench.cli.main import app
from emobench.registries import reload
from emobench.results import read_result

MODULE = '''
"""A toy task: the probe's UAR on continuous features and the codebook's frame cosine at each depth."""
from emobench.tasks.base import Task, TaskOutput
from emobench.tasks.protocol import per_corpus_splits
from emobench.tasks.records import bootstrap_for, label_indices, rec
from emobench.tasks.sweep import evaluate
from emobench.tasks.training import balanced


class Toy(Task):
    name = "toy"

    def __init__(self, *, n_boot: int = 20):
        self.n_boot = n_boot

    def run(self, inputs):
        labels = list(inputs.label_set)
        ((corpus, (s,)),) = per_corpus_splits(inputs, codebook_protocol="within", split="stratified",
                                               split_params={}, fractions=(0.5, 0.1, 0.4)).items()
        fs = inputs.features.get(s.train + s.val + s.test)
        q = inputs.quantizers.fit("codec", fs, balanced(inputs, s, labels), layer=inputs.layer)
        probe = inputs.probes.train(fs, s.train, s.val, labels)
        test = [u for u in s.test if u.id in fs]
        ev = evaluate(q, fs, test, inputs.layer, probe=probe)
        y = label_indices(test, labels)
        boot = bootstrap_for(test, kind="speaker", n_boot=self.n_boot, seed=inputs.seed)
        out = [rec("toy_fidelity", float(ev.cos_frame[d].mean()), ci=boot.mean(ev.cos_frame[d]), depth=d, corpus=corpus)
               for d in ev.depths]
        cont = probe.predict_proba(inputs.features.pooled(fs, test)[0]).argmax(1)
        out.append(rec("uar", float((cont == y).mean()), corpus=corpus, condition="continuous"))
        return TaskOutput(metrics=out, protocol={"name": "toy"}, corpora_roles={corpus: "train+eval"})
'''

SPEC = '''
description: A toy task added in three files.
impl: toy_task:Toy
title: Toy · three files
primary: toy_fidelity
metrics:
  uar:
  toy_fidelity: {unit: cosine, direction: higher, display: toy fidelity, definition: Mean frame cosine.}
summary: [toy_fidelity, uar]
roles:
  codec:
    description: the codebook under test
    presets: {"*": rvq-demo}
figures:
  - {id: fidelity, title: Toy fidelity vs depth, metric: toy_fidelity, x: depth}
'''


@pytest.fixture
def toy_catalogue(tmp_path, monkeypatch):
    copy = tmp_path / "catalogue"
    shutil.copytree(catalogue.catalogue_root(), copy)
    (copy / "tasks" / "toy.yaml").write_text(textwrap.dedent(SPEC))
    (tmp_path / "toy_task.py").write_text(textwrap.dedent(MODULE))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("EMOBENCH_CATALOGUE", str(copy))

    reload()
    yield
    monkeypatch.delenv("EMOBENCH_CATALOGUE")
    reload()


def test_a_new_task_shows_up_in_the_summary_the_result_and_the_site(toy_catalogue, tmp_path):
    out = tmp_path / "out"
    res = CliRunner().invoke(app, ["run", "-t", "toy", "--limit", "24", "--out", str(out), "--cache-dir",
                                   str(tmp_path / "cache")], terminal_width=200)
    assert res.exit_code == 0, res.output
    assert "Toy · three files" in res.output and "toy fidelity" in res.output  # the summary, from the spec
    doc = read_result(next(out.glob("toy-*.json")))
    assert doc["task_info"]["metrics"]["toy_fidelity"]["unit"] == "cosine"
    assert {m["unit"] for m in doc["metrics"] if m["name"] == "toy_fidelity"} == {"cosine"}
    pages = {p.name: p.read_text() for p in (out / "site").rglob("*.html")}
    assert any("Toy · three files" in text for text in pages.values())
    assert any("Toy fidelity vs depth" in text for text in pages.values())
    listed = CliRunner().invoke(app, ["list", "tasks", "--long"], terminal_width=200)
    assert "toy" in listed.output and "role codec" in listed.output

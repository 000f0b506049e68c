"""Label sets, root lookup, the manifest and Hugging Face loaders, the registry table, `corpus info`."""

from __future__ import annotations

import csv
import importlib
from pathlib import Path

import pytest
from corpora_fixtures import make_cremad, make_emodb, write_wav

from emobench.corpora.base import DEFAULT_LABELS
from emobench.corpora.labels import LabelMap, canonical, resolve_label_set
from emobench.corpora.manifest import ManifestCorpus
from emobench.corpora.roots import env_var, resolve_root
from emobench.errors import CorpusError
from emobench.registries import corpora


def test_label_sets_and_spellings():
    assert resolve_label_set("emo4") == DEFAULT_LABELS == resolve_label_set(None)
    assert resolve_label_set("crema6")[:3] == ("angry", "disgust", "fearful")
    assert resolve_label_set(["Anger", "happiness", "Neutral state"]) == ("angry", "happy", "neutral")
    assert resolve_label_set("angry,sad") == ("angry", "sad")
    assert canonical("Surprise") == "surprised"
    with pytest.raises(CorpusError, match="unknown label set 'emo5'"):
        resolve_label_set("emo5")
    with pytest.raises(CorpusError, match="unknown emotion 'grumpy'"):
        resolve_label_set(["grumpy"])


def test_label_map_merges_only_into_the_set():
    m = LabelMap("x", {"e": "excited", "h": "happy"}, "emo4", merges={"excited": "happy"})
    assert m.to_set("excited") == "happy"
    assert m.soft({"excited": 1, "happy": 1, "frustrated": 2}) == (0.0, 1.0, 0.0, 0.0)
    assert m.soft({"frustrated": 2}) is None
    keep = LabelMap("x", {"e": "excited"}, ["happy", "excited"], merges={"excited": "happy"})
    assert keep.to_set("excited") == "excited"


def test_root_lookup_order(tmp_path, monkeypatch):
    a, b, c = (tmp_path / n for n in "abc")
    for d in (a, b, c):
        d.mkdir()
    monkeypatch.setenv("EMOBENCH_CONFIG_DIR", str(tmp_path / "cfg"))
    monkeypatch.delenv(env_var("crema-d"), raising=False)
    with pytest.raises(CorpusError) as err:
        resolve_root("crema-d", None)
    msg = str(err.value)
    assert "--corpus crema-d=PATH" in msg and "EMOBENCH_CREMA_D_ROOT" in msg and "corpora.yaml" in msg
    (tmp_path / "cfg").mkdir()
    (tmp_path / "cfg" / "corpora.yaml").write_text(f"crema-d: {c}\n")
    assert resolve_root("crema-d", None) == c
    monkeypatch.setenv("EMOBENCH_CREMA_D_ROOT", str(b))
    assert resolve_root("crema-d", None) == b
    assert resolve_root("crema-d", a) == a
    monkeypatch.setenv("EMOBENCH_CREMA_D_ROOT", str(tmp_path / "nope"))
    with pytest.raises(CorpusError, match=r"root of corpus 'crema-d' from \$EMOBENCH_CREMA_D_ROOT is not a directory"):
        resolve_root("crema-d", None)


def test_every_registered_corpus_module_has_its_class():
    for name in corpora.names():
        entry = corpora.get(name)
        module, _, attr = entry.impl.partition(":")
        assert hasattr(importlib.import_module(module), attr), entry.impl


@pytest.mark.parametrize("name", ["ravdess", "crema-d", "iemocap", "esd", "msp-podcast", "emns", "enterface",
                                  "jl-corpus", "emodb"])
def test_native_loaders_via_registry_need_a_root(name, tmp_path, monkeypatch):
    monkeypatch.setenv("EMOBENCH_CONFIG_DIR", str(tmp_path))
    monkeypatch.delenv(env_var(name), raising=False)
    with pytest.raises(CorpusError, match=f"no root for corpus '{name}'"):
        corpora.create(name).load()
    empty = tmp_path / "empty"
    empty.mkdir(exist_ok=True)
    with pytest.raises(CorpusError, match=name):
        corpora.create(name, root=str(empty)).load()


def test_manifest_corpus(tmp_path):
    rows = [("a/x1.wav", "Anger", "01", "ravdess", "3", "1"), ("a/x2.wav", "happiness", "01", "emodb", "0", "4"),
            ("a/x3.wav", "fear", "02", "emodb", "", "")]
    for r in rows:
        write_wav(tmp_path / r[0])
    with open(tmp_path / "manifest.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["path", "emotion", "speaker", "corpus", "vote_angry", "vote_happy"])
        w.writerows(rows)
    c = ManifestCorpus(root=tmp_path / "manifest.csv", name="dev").load()
    ids = {u.id: u for u in c.utterances}
    assert set(ids) == {"dev/a/x1", "dev/a/x2"} and c.dropped == {"fearful": 1}
    assert ids["dev/a/x1"].speaker == "ravdess:01" and ids["dev/a/x2"].speaker == "emodb:01"
    assert ids["dev/a/x1"].soft_label == (0.75, 0.25, 0.0, 0.0)
    from emobench.cache.keys import sha256_file

    before = c.content_fingerprint(sha256_file)
    assert ManifestCorpus(root=tmp_path, name="dev").load().content_fingerprint(sha256_file) == before
    write_wav(Path(c.utterances[0].path), seconds=0.3)  # same names, new audio: another fingerprint
    assert ManifestCorpus(root=tmp_path, name="dev").load().content_fingerprint(sha256_file) != before
    text = (tmp_path / "manifest.csv").read_text().replace("Anger", "Grumpy")
    (tmp_path / "manifest.csv").write_text(text)
    with pytest.raises(CorpusError, match=r"dev: unknown emotion 'Grumpy'.* at .*manifest.csv line 2"):
        ManifestCorpus(root=tmp_path / "manifest.csv", name="dev").load()


def test_hf_corpus_from_saved_dataset(tmp_path, monkeypatch):
    datasets = pytest.importorskip("datasets")
    monkeypatch.setenv("EMOBENCH_CACHE", str(tmp_path / "cache"))
    paths = [str(write_wav(tmp_path / "src" / f"a{i}.wav")) for i in range(4)]
    ds = datasets.Dataset.from_dict({"audio": paths, "label": [0, 1, 2, 4], "speaker": ["s1", "s1", "s2", "s2"]})
    ds = ds.cast_column("audio", datasets.Audio(decode=False)).cast_column(
        "label", datasets.ClassLabel(names=["anger", "happiness", "neutral", "sadness", "fear"]))
    datasets.DatasetDict({"train": ds.select([0, 1, 2]), "test": ds.select([3])}).save_to_disk(str(tmp_path / "saved"))
    for p in paths:  # the saved dataset embeds the bytes: the loader must not need the originals
        (tmp_path / "src" / p.rsplit("/", 1)[1]).unlink()
    c = corpora.create("hf", root=str(tmp_path / "saved")).load()
    assert [u.label for u in c.utterances] == ["angry", "happy", "neutral"] and c.dropped == {"fearful": 1}
    assert {u.split for u in c.utterances} == {"train"}
    from emobench.audio import load_audio

    assert load_audio(c.utterances[0], 16000).shape == (4000,)


def test_corpus_info_cli(tmp_path):
    from typer.testing import CliRunner

    from emobench.cli.corpus import app

    make_cremad(tmp_path / "c")
    (tmp_path / "c" / "AudioWAV" / "1003_IEO_SAD_HI.wav").write_bytes(b"")  # zero-length file
    res = CliRunner().invoke(app, ["info", f"crema-d={tmp_path / 'c'}"], terminal_width=200)
    assert res.exit_code == 0, res.output
    out = res.output
    assert "per emotion" in out and "per speaker (3)" in out and "1002" in out
    assert "dropped disgust" in out and "23 utterances from processedResults" in out
    assert "cannot read audio header" in out and "1003_IEO_SAD_HI.wav" in out
    make_emodb(tmp_path / "e")
    res = CliRunner().invoke(app, ["info", "emodb", "--root", str(tmp_path / "e"), "--label-set", "emodb7",
                                   "--check-audio"], terminal_width=200)
    assert res.exit_code == 0, res.output
    assert "bored" in res.output and "no problems found" in res.output

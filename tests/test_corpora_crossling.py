"""The cross-lingual probing paper's nine corpora (D'Asaro et al. 2024, Table 1) from fake trees in their
release layouts: counts, labels, speakers, language, skips, label maps; the specs' documented counts."""

from __future__ import annotations

import unicodedata
from collections import Counter
from pathlib import Path

import pytest
import yaml
from corpora_fixtures import make_emodb, write_wav
from crossling_fixtures import (
    make_aesdd,
    make_cafe,
    make_demos,
    make_emomatch,
    make_emovo,
    make_eyase,
    make_oreau,
    make_shemo,
)

import emobench
from emobench.corpora.aesdd import AESDD
from emobench.corpora.cafe import CaFE
from emobench.corpora.demos import DEMoS
from emobench.corpora.emodb import EmoDB
from emobench.corpora.emomatch import EmoMatch
from emobench.corpora.emovo import EMOVO
from emobench.corpora.eyase import EYASE
from emobench.corpora.labels import LABEL_SETS, LabelMap
from emobench.corpora.oreau import Oreau
from emobench.corpora.shemo import ShEMO
from emobench.errors import CorpusError

SEVEN = ("angry", "disgust", "fearful", "happy", "neutral", "sad", "surprised")
EMODB_LABELS = ("angry", "bored", "disgust", "fearful", "happy", "neutral", "sad")
SHEMO_LABELS = ("angry", "fearful", "happy", "neutral", "sad", "surprised")
NOT_IN_FORMAT = "file name not in {} format"

# loader, tree maker, per-label counts under the full label set, speakers, skip reasons
CASES = {
    "aesdd": (AESDD, make_aesdd, {"angry": 4, "disgust": 4, "fearful": 5, "happy": 4, "sad": 4},
              {"1", "2"}, {NOT_IN_FORMAT.format("AESDD"): 1, "unknown emotion code 'x'": 1}),
    "cafe": (CaFE, make_cafe, {**dict.fromkeys(SEVEN, 12), "neutral": 6}, {"01", "02", "03"},
             {"emotional file without an intensity field": 1, "unknown emotion code 'X'": 1}),
    "demos": (DEMoS, make_demos, {**dict.fromkeys((*SEVEN, "guilt"), 6), "neutral": 3}, {"02", "23", "61"},
              {"NP/PR prefix on a neutral file, or none on an emotional one": 1,
               NOT_IN_FORMAT.format("DEMoS"): 1, "unknown emotion code 'xyz'": 1}),
    "emodb": (EmoDB, make_emodb, dict.fromkeys(EMODB_LABELS, 4), {"03", "08", "09", "10"}, {}),
    "emomatch": (EmoMatch, make_emomatch, {**dict.fromkeys(SEVEN, 6), "happy": 7}, {"01", "03", "12"},
                 {NOT_IN_FORMAT.format("EmoMatchSpanishDB"): 1, "unknown emotion code 'Enfado'": 1}),
    "emovo": (EMOVO, make_emovo, dict.fromkeys(SEVEN, 6), {"f1", "m2"},
              {NOT_IN_FORMAT.format("EMOVO"): 1, "unknown emotion code 'ans'": 1}),
    "eyase": (EYASE, make_eyase, {"angry": 6, "happy": 6, "neutral": 6, "sad": 7}, {"fm01", "ml02"},
              {NOT_IN_FORMAT.format("EYASE"): 1, "unknown emotion code 'fea'": 1}),
    "oreau": (Oreau, make_oreau, {**dict.fromkeys(SEVEN, 3), "surprised": 4}, {"07", "10", "11"},
              {NOT_IN_FORMAT.format("Oréau"): 1, "unknown emotion code 'X'": 1}),
    "shemo": (ShEMO, make_shemo, dict.fromkeys(SHEMO_LABELS, 6), {"F01", "F02", "M01"},
              {NOT_IN_FORMAT.format("ShEMO"): 1, "unknown emotion code 'X'": 1}),
}
LANGUAGES = {"aesdd": "el", "cafe": "fr-CA", "demos": "it", "emodb": "de", "emomatch": "es", "emovo": "it",
             "eyase": "ar-EG", "oreau": "fr", "shemo": "fa"}

# Documented totals, typed once here so that a typo in a catalogue spec fails. utterances and classes:
# the cross-lingual probing paper's Table 1 (it has no speaker column); speakers: each corpus' own
# documentation; release_* / v2_*: where the release differs from Table 1 (see each spec's comment).
DOCUMENTED = {
    "aesdd": {"utterances": 500, "speakers": 5, "classes": 5,
              "release_utterances": 604, "release_speakers": 6},
    "cafe": {"utterances": 936, "speakers": 12, "classes": 7},
    "demos": {"utterances": 9697, "speakers": 68, "classes": 7, "release_classes": 8},
    "emodb": {"utterances": 535, "speakers": 10, "classes": 7},
    "emomatch": {"utterances": 2020, "speakers": 50, "classes": 7},
    "emovo": {"utterances": 588, "speakers": 6, "classes": 7},
    "eyase": {"utterances": 579, "classes": 4},  # speaker count not confirmed by any source found
    "oreau": {"utterances": 502, "speakers": 32, "classes": 7, "v2_utterances": 434},
    "shemo": {"utterances": 3000, "speakers": 87, "classes": 6},
}


def spec(name: str) -> dict:
    path = Path(emobench.__file__).parent / "catalogue" / "corpora" / f"{name}.yaml"
    return yaml.safe_load(path.read_text("utf-8"))


@pytest.mark.parametrize("name", sorted(CASES))
def test_loader_reads_its_fake_release(tmp_path, name):
    loader, make, counts, speakers, skipped = CASES[name]
    root = make(tmp_path / name)
    c = loader(root=root, label_set=loader.full_label_set).load()
    assert c.name == name and loader.language == LANGUAGES[name]
    assert dict(Counter(u.label for u in c.utterances)) == counts and len(c) == sum(counts.values())
    assert {u.speaker for u in c.utterances} == speakers and not c.dropped
    assert c.skipped == skipped
    assert not c.problems
    assert all(u.meta["language"] == loader.language for u in c.utterances)
    assert all(Path(u.path).is_file() and u.id.startswith(f"{name}/") for u in c.utterances)


@pytest.mark.parametrize("name", sorted(CASES))
def test_full_label_set_is_the_native_one_and_emo4_drops_the_rest(tmp_path, name):
    loader, make, counts, _, _ = CASES[name]
    full = LABEL_SETS[loader.full_label_set]
    assert set(full) == set(loader.native_labels.values()) and len(full) == len(loader.native_labels)
    c4 = loader(root=make(tmp_path / name)).load()  # the default label set: emo4
    emo4 = ("angry", "happy", "neutral", "sad")
    assert dict(Counter(u.label for u in c4.utterances)) == {k: v for k, v in counts.items() if k in emo4}
    assert c4.dropped == {k: v for k, v in counts.items() if k not in emo4}
    assert set(c4.label_map) == set(loader.native_labels)  # every native code is met in the fake tree


def test_spec_counts_match_the_documented_totals():
    for name, documented in DOCUMENTED.items():
        s = spec(name)
        assert s["paper_counts"] == documented, name
        loader = CASES[name][0]
        assert s["language"] == loader.language and s["impl"] == f"{loader.__module__}:{loader.__name__}"
        n_native = len(LABEL_SETS[loader.full_label_set])
        assert documented.get("release_classes", documented["classes"]) == n_native, name


def test_unknown_codes_are_skipped_not_fatal(tmp_path):
    root = make_emodb(tmp_path / "e", speakers=("03",))
    write_wav(root / "wav" / "03a01Xa.wav")
    c = EmoDB(root=root, label_set="emodb7").load()
    assert len(c) == 7 and c.skipped == {"unknown emotion code 'X'": 1}
    with pytest.raises(CorpusError, match="unknown label 'X'"):  # the label map itself still refuses it
        LabelMap("emodb", EmoDB.native_labels, "emodb7").to_canonical("X", where="03a01Xa.wav")


def test_aesdd_ids_takes_and_speaker_spellings(tmp_path):
    c = AESDD(root=make_aesdd(tmp_path / "a"), label_set="aesdd5").load()
    by_id = {u.id: u for u in c.utterances}
    assert by_id["aesdd/d01_1"].speaker == "1" and by_id["aesdd/d01_1"].path.endswith("d01 (01).wav")
    assert by_id["aesdd/f02_2b"].meta["take"] == "b" and by_id["aesdd/f02_2"].meta["take"] == ""
    write_wav(tmp_path / "a" / "Acted Emotional Speech Dynamic Database" / "anger" / "h05 (2).wav")
    c = AESDD(root=tmp_path / "a", label_set="aesdd5").load()
    assert any("anger/ but its name says emotion 'h'" in p for p in c.problems)


def test_cafe_meta_both_releases_and_mojibake_folders(tmp_path):
    c = CaFE(root=make_cafe(tmp_path / "c"), label_set="cafe7").load()
    by_id = {u.id: u for u in c.utterances}
    hi = by_id["cafe/02-C-2-1"]  # read from the mojibake folder ColŠre/
    assert (hi.label, hi.meta["intensity"], hi.meta["sentence"]) == ("angry", "high", "1")
    assert hi.meta["gender"] == "female"
    low = by_id["cafe/01-P-1-2"]
    assert (low.meta["intensity"], low.meta["gender"]) == ("low", "male")
    neutral_48k, neutral_192k = by_id["cafe/01-N-1-2"], by_id["cafe/03-N-2"]
    assert neutral_48k.meta["intensity"] is None and neutral_48k.meta["sentence"] == "2"
    assert neutral_192k.path.endswith(".aiff") and neutral_192k.label == "neutral"


def test_demos_selection_and_genders(tmp_path):
    root = make_demos(tmp_path / "d")
    pr = DEMoS(root=root, label_set="demos8", selection="PR").load()
    assert len(pr) == 21 and {u.meta["selection"] for u in pr.utterances} == {"PR"}
    assert pr.skipped["not in the PR selection"] == 21 + 3  # the NP files and the neutral ones
    every = {u.id: u for u in DEMoS(root=root, label_set="demos8").load().utterances}
    assert every["demos/NP_f_61_col01b"].meta == {"native_label": "col", "selection": "NP", "take": "01b",
                                                  "gender": "female", "language": "it"}
    neutral = every["demos/m_23_neu00a"]
    assert neutral.meta["selection"] == "neutral" and neutral.label == "neutral"
    with pytest.raises(CorpusError, match="selection 'pr' must be one of all, PR, NP"):
        DEMoS(root=root, selection="pr")
    write_wav(root / "DEMoS" / "DEMOS" / "PR_f_02_rab05a.wav")  # speaker 02 is male everywhere else
    problems = DEMoS(root=root, label_set="demos8").load().problems
    assert any("speaker 02 is m in one file name, f" in p for p in problems)


def test_emomatch_accents_and_extension_case(tmp_path):
    c = EmoMatch(root=make_emomatch(tmp_path / "m"), label_set="emomatch7").load()
    by_id = {u.id: u for u in c.utterances}
    assert by_id["emomatch/12_Alegría_03"].meta["native_label"] == "Alegria"
    upper = by_id["emomatch/03_Alegria_02"]
    assert upper.path.endswith(".WAV") and upper.label == "happy"


def test_emovo_and_shemo_folder_checks(tmp_path):
    emovo_root = make_emovo(tmp_path / "v")
    write_wav(emovo_root / "EMOVO" / "m2" / "tri-f1-d1.wav")  # actor f1's file in m2/
    c = EMOVO(root=emovo_root, label_set="emovo7").load()
    assert [p for p in c.problems if "is in m2/ but its name says actor f1" in p]
    assert {u.meta["gender"] for u in c.utterances if u.speaker == "m2"} == {"male"}
    shemo_root = make_shemo(tmp_path / "s")
    write_wav(shemo_root / "female" / "M02H01.wav")
    c = ShEMO(root=shemo_root, label_set="shemo6").load()
    assert [p for p in c.problems if "is in female/ but its name says speaker M02" in p]
    assert {u.speaker for u in c.utterances} == {"F01", "F02", "M01", "M02"}  # F01 and M01 are two people


def test_oreau_versions_and_folder_names(tmp_path):
    root = make_oreau(tmp_path / "o")
    v1 = Oreau(root=root, label_set="oreau7").load()
    assert len(v1) == 22 and {u.meta["release_version"] for u in v1.utterances} == {"01"}
    by_id = {u.id: u for u in v1.utterances}
    z03 = by_id["oreau/07z03Sa"]
    assert (z03.meta["utterance"], z03.meta["gender"], z03.label) == ("z03", "male", "surprised")
    v2 = Oreau(root=root, label_set="oreau7", version="02").load()  # its folder name is NFD-encoded
    assert sorted(u.label for u in v2.utterances) == ["angry", "happy", "sad"]
    assert Path(v2.utterances[0].path).parts[-4] == unicodedata.normalize("NFD", "OréauFR_02")
    one = Oreau(root=root / "OréauFR_01", label_set="oreau7").load()  # a version folder as the root
    assert len(one) == 22 and not one.problems and one.utterances[0].meta["release_version"] == "01"
    with pytest.raises(CorpusError, match="version 02 asked for, but the root .* is version 01"):
        Oreau(root=root / "OréauFR_01", version="02").load()
    (tmp_path / "copy").mkdir()
    (root / "OréauFR_01").rename(tmp_path / "copy" / "oreau1")  # renamed: the version cannot be told
    unnamed = Oreau(root=tmp_path / "copy" / "oreau1", label_set="oreau7").load()
    assert any("does not say which version" in p for p in unnamed.problems)
    assert unnamed.utterances[0].meta["release_version"] is None
    make_oreau(root)  # write version 01 again
    with pytest.raises(CorpusError, match="no OréauFR_02/ folder"):
        Oreau(root=root / "OréauFR_01" / "m", version="02").load()
    with pytest.raises(CorpusError, match="version '3' must be one of 01, 02"):
        Oreau(root=root, version="3")
    write_wav(root / "OréauFR_01" / "f" / "sessj" / "10a09Ta.wav")
    problems = Oreau(root=root, label_set="oreau7").load().problems
    assert any("sessj/ but its name says emotion 'T'" in p for p in problems)


@pytest.mark.parametrize("name", sorted(CASES))
def test_corpus_info_cli(tmp_path, name):
    from typer.testing import CliRunner

    from emobench.cli.corpus import app

    loader, make, counts, speakers, _ = CASES[name]
    root = make(tmp_path / name)
    res = CliRunner().invoke(app, ["info", name, "--root", str(root), "--label-set", loader.full_label_set],
                             terminal_width=200)
    assert res.exit_code == 0, res.output
    assert f"corpus {name}" in res.output and f"per speaker ({len(speakers)})" in res.output
    assert str(sum(counts.values())) in res.output

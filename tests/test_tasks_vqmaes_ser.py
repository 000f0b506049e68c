"""The vqmaes-ser task through `emobench run -u vqmaes -U checkpoint=DIR -t vqmaes-ser`, with a tiny VQ-VAE
and VQ-MAE-S pre-trained by `emobench train` on a fake RAVDESS tree whose emotions are pitches shared by
every actor: held-out actors are then recognisable, and only fine-tuning the encoder finds them."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
from corpora_fixtures import make_emodb
from typer.testing import CliRunner

from emobench.corpora.ravdess import RAVDESS

SR = 16_000
F0 = {"01": 110.0, "02": 130.0, "03": 155.0, "04": 185.0, "05": 220.0, "06": 262.0, "07": 311.0, "08": 370.0}
SONG = ("01", "02", "03", "04", "05", "06")  # RAVDESS song has no disgust (07) nor surprise (08)


def write_ravdess(root, *, actors=range(1, 6), channel: str = "01", emotions=tuple(F0), seconds: float = 0.6):
    """Actor_XX/03-CC-EE-01-SS-01-XX.wav: harmonic tones at the emotion's pitch (2% higher per actor)."""
    rng = np.random.default_rng(0)
    t = np.arange(int(seconds * SR)) / SR
    for a in actors:
        for e in emotions:
            for stmt in ("01", "02"):
                f0 = F0[e] * (1 + 0.02 * (a - 3))
                w = sum(np.sin(2 * np.pi * f0 * h * t) / h for h in range(1, 6)) * (0.5 + 0.3 * np.sin(4 * np.pi * t))
                w = 0.4 * w / np.abs(w).max() + 0.01 * rng.standard_normal(t.size)
                path = root / f"Actor_{a:02d}" / f"03-{channel}-{e}-01-{stmt}-01-{a:02d}.wav"
                path.parent.mkdir(parents=True, exist_ok=True)
                sf.write(path, w.astype(np.float32), SR, subtype="PCM_16")
    return root


def cli(*args):
    from emobench.cli.main import app

    return CliRunner().invoke(app, list(args))


@pytest.fixture(scope="module")
def pretrained(tmp_path_factory):
    """RAVDESS speech + song trees, and a tiny VQ-VAE (40 steps) and VQ-MAE-S (30 steps) trained on the speech."""
    tmp = tmp_path_factory.mktemp("vqmaes-ser")
    root = write_ravdess(tmp / "ravdess")
    write_ravdess(root, channel="02", emotions=SONG)  # the song release's files, in the same Actor_XX folders
    common = ["-c", f"ravdess={root}", "--threads", "1"]
    for args in (["vqvae", "--config", "tiny", "--out", str(tmp / "vq"), "--steps", "40"],
                 ["vqmaes", "--vqvae", str(tmp / "vq"), "--out", str(tmp / "mae"), "--steps", "30"]):
        res = cli("train", *args, *common)
        assert res.exit_code == 0, res.output
    return tmp, root


def run(tmp, out: str, *args):
    res = cli("run", "-u", "vqmaes", "-U", f"checkpoint={tmp / 'mae'}", "-t", "vqmaes-ser", "--out", str(tmp / out),
              "--cache-dir", str(tmp / "cache"), "--no-site", "--device", "cpu", "-T", "n_boot=50",
              "-T", "cpu_threads=1", *args)
    assert res.exit_code == 0, res.output
    path = next((tmp / out).glob("*.json"))
    return json.loads(path.read_text()), pd.read_csv(path.with_name(path.stem + ".predictions.csv"))


def metric(doc, name, **where):
    found = [m for m in doc["metrics"] if m["name"] == name and all(m["breakdown"].get(k) == v for k, v in where.items())]
    assert len(found) == 1, (name, where, len(found))
    return found[0]


@pytest.fixture(scope="module")
def finetuned(pretrained):
    tmp, root = pretrained
    return run(tmp, "ft", "-c", f"ravdess={root}", "-T", "epochs=30")


def test_finetuning_recognises_held_out_actors(finetuned):
    doc, preds = finetuned
    assert doc["corpora"][0]["label_set"] == ["angry", "calm", "disgust", "fearful", "happy", "neutral", "sad",
                                              "surprised"]  # the paper's eight classes (ravdess8)
    mean = metric(doc, "accuracy", fold="mean", method="patch-tf", encoder="fine-tuned", corpus="ravdess")
    assert mean["value"] > 0.6 and mean["n"] == 5 and mean["std"] >= 0  # chance is 1/8
    assert (preds.groupby("speaker").fold.nunique() == 1).all()  # speaker-independent, as the paper
    assert len(preds) == 80 and preds.fold.nunique() == 5
    for k in range(5):
        fold = preds[preds.fold == k]
        assert metric(doc, "accuracy", fold=k)["value"] == pytest.approx(float((fold.pred == fold.label).mean()))
    assert doc["protocol"]["per_corpus"]["ravdess"]["steps"] == [30 * 64 // 8] * 5  # 30 epochs of 64, batch 8


def test_the_result_says_what_was_pretrained_on_what_and_for_how_long(finetuned):
    doc, _ = finetuned
    facts = doc["protocol"]["pretraining"]
    assert facts["vqmaes"]["steps"] == 30 and facts["vqvae"]["steps"] == 40
    assert facts["vqmaes"]["trained_on"]["corpora"] == {"ravdess": 80}  # read from the checkpoints' config.json
    pre = next(n for n in doc["notes"] if n.startswith("pre-training"))
    assert "30 steps" in pre and "40 steps" in pre and "ravdess (80 utterances)" in pre and "VoxCeleb2" in pre
    assert any("pre-trained (without labels) on 80 utterances of this corpus" in n for n in doc["notes"])
    acc, f1, table1 = doc["task_info"]["paper_tables"]
    assert acc["values"]["patch-tf"]["ravdess"] == 76.7 and f1["values"]["frame+query2emo"]["ravdess"] == 84.4
    assert table1["values"]["frozen"] == {"ravdess": 57.6} and acc["row_labels"] == f1["row_labels"]


def test_frozen_encoder_trails_and_finetuned_models_are_cached(pretrained, finetuned):
    tmp, root = pretrained
    doc, _ = finetuned
    store = sorted(p.name for p in (tmp / "cache" / "probes").iterdir())
    again, _ = run(tmp, "ft-again", "-c", f"ravdess={root}", "-T", "epochs=30")
    assert sorted(p.name for p in (tmp / "cache" / "probes").iterdir()) == store  # nothing fine-tuned twice
    assert [m["value"] for m in again["metrics"]] == [m["value"] for m in doc["metrics"]]
    assert not (tmp / "cache" / "vqmaes-ser-work").exists() or not any((tmp / "cache" / "vqmaes-ser-work").iterdir())
    frozen, _ = run(tmp, "frozen", "-c", f"ravdess={root}", "-T", "epochs=30", "-T", "freeze_encoder=true")
    acc = metric(frozen, "accuracy", fold="mean", encoder="frozen")["value"]
    assert acc < metric(doc, "accuracy", fold="mean", encoder="fine-tuned")["value"] - 0.2  # Table 1's direction


def test_ravdess_song_is_its_own_corpus_with_six_emotions(pretrained):
    tmp, root = pretrained
    song = RAVDESS(root=root, label_set="ravdess-song6", vocal_channel="song").load()
    assert song.name == "ravdess-song" and len(song.utterances) == 5 * 6 * 2
    assert all("-02-" in u.id and u.id.startswith("ravdess-song/") for u in song.utterances)
    assert song.skipped == {"speech (vocal channel 01)": 5 * 8 * 2}
    speech = RAVDESS(root=root).load()
    assert speech.skipped == {"song (vocal channel 02)": 5 * 6 * 2}
    doc, _ = run(tmp, "song", "-c", f"ravdess-song={root}", "-T", "label_set=ravdess-song6", "-T", "epochs=1")
    assert metric(doc, "accuracy", fold="mean", corpus="ravdess-song")["n"] == 5
    assert not any("differs from the paper's" in n for n in doc["notes"])


def test_wrong_upstream_checkpoint_or_classes_are_one_clear_line(pretrained, finetuned, tmp_path):
    tmp, root = pretrained
    res = cli("run", "-t", "vqmaes-ser", "-c", f"ravdess={root}", "--out", str(tmp_path / "o"), "--cache-dir",
              str(tmp_path / "c"), "--no-site")
    assert res.exit_code != 0 and "run it with -u vqmaes -U checkpoint=DIR" in res.output
    tuned = next((tmp / "cache" / "probes").iterdir())  # a fine-tuned (vqmaes-ser) checkpoint from the store
    res = cli("run", "-u", "vqmaes", "-U", f"checkpoint={tuned}", "-t", "vqmaes-ser", "-c", f"ravdess={root}",
              "--out", str(tmp_path / "o"), "--cache-dir", str(tmp_path / "c"), "--no-site")
    assert res.exit_code != 0 and "already fine-tuned" in res.output
    emodb = make_emodb(tmp_path / "emodb")
    res = cli("run", "-u", "vqmaes", "-U", f"checkpoint={tmp / 'mae'}", "-t", "vqmaes-ser", "-c", f"emodb={emodb}",
              "--out", str(tmp_path / "o"), "--cache-dir", str(tmp_path / "c"), "--no-site")
    assert res.exit_code != 0 and "-T label_set=emodb7" in res.output and "Traceback" not in res.output


def test_unusable_test_audio_is_left_out_and_named(pretrained, finetuned, tmp_path):
    from dataclasses import replace

    from emobench.errors import AudioError
    from emobench.vqmaes.load import predict_ser

    tmp, root = pretrained
    tuned = next((tmp / "cache" / "probes").iterdir())
    good = RAVDESS(root=root, label_set="ravdess8").load().utterances[0]
    silent = tmp_path / "silent.wav"
    sf.write(silent, np.zeros(SR, np.float32), SR)
    bad = replace(good, id="ravdess/silent", path=str(silent))
    with pytest.raises(AudioError, match="silent"):
        predict_ser(tuned, [good, bad])
    skipped: list = []
    labels, probs = predict_ser(tuned, [bad, good], skipped=skipped)
    assert probs.shape == (1, len(labels)) and [s[0] for s in skipped] == ["ravdess/silent"]
    np.testing.assert_allclose(probs[0].numpy(), predict_ser(tuned, [good])[1][0].numpy(), atol=1e-6)

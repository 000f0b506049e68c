"""VQ-MAE-S as an upstream (vqmaes), its spectrogram (vqvae-spec), its VQ-VAE as a quantizer, `train` CLI."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
import torch
from typer.testing import CliRunner
from vqmaes_corpus import LABELS, write_corpus

from emobench.errors import EmobenchError
from emobench.quantizers.base import QuantizerError, load_quantizer
from emobench.quantizers.vqvae import VqvaeQuantizer
from emobench.upstreams.vqmaes import VqmaesUpstream
from emobench.upstreams.vqvae_spec import VqvaeSpectrogramUpstream
from emobench.vqmaes import load as loading
from emobench.vqmaes.config import get_preset
from emobench.vqmaes.spectrogram import n_frames


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return write_corpus(tmp_path_factory.mktemp("corpus"))


@pytest.fixture(scope="module")
def cli_runs(tmp_path_factory, corpus):
    """The three `train` commands, run through the Typer app on the manifest corpus (as a user would)."""
    from emobench.cli.train import app

    out = tmp_path_factory.mktemp("runs")
    runner = CliRunner()
    common = ["-c", f"manifest={corpus}", "--threads", "1", "--seed", "1"]
    for args in (
        ["vqvae", "--config", "tiny", "--out", str(out / "vq"), "--steps", "30", "--checkpoint-every", "10"],
        [
            "vqmaes",
            "--vqvae",
            str(out / "vq"),
            "--out",
            str(out / "mae"),
            "--steps",
            "12",
            "--masking",
            "patch-t",
        ],
        [
            "vqmaes-ser",
            "--checkpoint",
            str(out / "mae"),
            "--out",
            str(out / "ser"),
            "--steps",
            "4",
            "--head",
            "query2emo",
            "--freeze",
        ],
    ):
        result = runner.invoke(app, [*args, *common])
        assert result.exit_code == 0, (args, result.output, result.exception)
        assert "checkpoint" in result.output
    return out


@pytest.fixture(scope="module")
def waves(corpus):
    return [sf.read(str(corpus.parent / "wavs" / f"u{i:02d}.wav"), dtype="float32")[0] for i in (0, 5, 9)]


# -- CLI ----------------------------------------------------------------------------------------------
def test_cli_outputs_and_settings(cli_runs):
    mae = loading.load(cli_runs / "mae")
    assert (
        mae.preset.mae.masking == "patch-t"
        and mae.config["step"] == 12
        and mae.config["identity"]["seed"] == 1
    )
    assert mae.config["trained_on"] == {"corpora": {"manifest": 16}, "n_utterances": 16}
    ser = loading.load(cli_runs / "ser")
    assert ser.preset.ser.head == "query2emo" and ser.preset.ser.freeze_encoder and ser.labels == LABELS
    assert sorted(p.name for p in (cli_runs / "vq").iterdir()) == ["LATEST", "step-0000020", "step-0000030"]


def test_cli_resume_continues_to_more_steps(cli_runs, corpus, tmp_path):
    from emobench.cli.train import app

    runner = CliRunner()
    base = [
        "vqvae",
        "-c",
        f"manifest={corpus}",
        "--config",
        "tiny",
        "--out",
        str(tmp_path / "vq"),
        "--threads",
        "1",
    ]
    assert runner.invoke(app, [*base, "--steps", "3"]).exit_code == 0
    again = runner.invoke(app, [*base, "--steps", "3"])
    assert again.exit_code != 0 and "--resume" in str(again.exception)
    more = runner.invoke(app, [*base, "--steps", "5", "--resume"])
    assert more.exit_code == 0 and "resumed at step 3" in more.output
    assert loading.load(tmp_path / "vq").config["step"] == 5


def test_cli_bad_corpus_is_one_clear_error(tmp_path):
    from emobench.cli.train import app

    result = CliRunner().invoke(
        app,
        ["vqvae", "-c", f"manifest={tmp_path / 'missing.csv'}", "--out", str(tmp_path / "o"), "--steps", "1"],
    )
    assert result.exit_code != 0 and isinstance(result.exception, EmobenchError)


# -- the vqmaes upstream --------------------------------------------------------------------------------
def test_upstream_frames_layers_and_batching(cli_runs, waves):
    up = VqmaesUpstream(checkpoint=str(cli_runs / "mae"))
    cfg = get_preset("tiny")
    assert (up.n_layers, up.dim, up.default_layer) == (3, 32, 2)  # embeddings + 2 blocks, width 2 x 4 x 4
    assert up.frame_rate_hz == pytest.approx(cfg.spectrogram.frame_rate_hz / cfg.mae.patch_t)
    long_wave = np.concatenate([waves[0]] * 8)  # ~4.8 s: several windows of 16 frames
    feats = up.extract([*waves, long_wave])
    for w, f in zip([*waves, long_wave], feats, strict=True):
        assert f.shape == (3, -(-n_frames(len(w), cfg.spectrogram) // 2), 32) and np.isfinite(f).all()
    for w, f in zip(waves, feats[:3], strict=True):  # batched equals one by one
        assert np.allclose(up.extract([w], layers=[0, 2])[0], f[[0, 2]], atol=1e-5)
    cls = up.utterance_vectors([waves[0], long_wave], layers=[1, 2])
    assert [c.shape for c in cls] == [(2, 32), (2, 32)]
    assert not np.allclose(cls[0], cls[1])
    stft = VqmaesUpstream(checkpoint=str(cli_runs / "mae"), frame_rate="stft")
    f2 = stft.extract([waves[0]], layers=[2])[0]
    assert f2.shape[1] == n_frames(len(waves[0]), cfg.spectrogram)
    assert np.allclose(f2[:, ::2], feats[0][[2]][:, : f2[:, ::2].shape[1]], atol=1e-5)  # each column repeated


def test_upstream_identity_follows_the_weights(cli_runs):
    a, b = VqmaesUpstream(checkpoint=str(cli_runs / "mae")), VqmaesUpstream(checkpoint=str(cli_runs / "ser"))
    assert a.identity()["weights_sha256"] != b.identity()["weights_sha256"]
    assert VqmaesUpstream(checkpoint=str(cli_runs / "mae")).identity() == a.identity()
    with pytest.raises(EmobenchError, match="checkpoint=DIR"):
        VqmaesUpstream()
    with pytest.raises(EmobenchError, match="expected vqmaes or vqmaes-ser"):
        VqmaesUpstream(checkpoint=str(cli_runs / "vq"))


def test_registry_builds_the_upstreams(cli_runs):
    from emobench.registries import upstreams

    up = upstreams.create("vqmaes", checkpoint=str(cli_runs / "mae"))
    assert isinstance(up, VqmaesUpstream)
    spec = upstreams.create("vqvae-spec")
    assert (spec.dim, spec.n_layers) == (513, 1) and spec.frame_rate_hz == pytest.approx(52.117, abs=1e-3)


# -- the vqvae quantizer over vqvae-spec frames ------------------------------------------------------------
def test_quantizer_from_a_trained_vqvae(cli_runs, waves, tmp_path):
    spec = VqvaeSpectrogramUpstream(checkpoint=str(cli_runs / "vq"))
    assert spec.dim == 129  # the tiny config's STFT, read from the checkpoint
    x = np.concatenate([f[0] for f in spec.extract(waves)])  # [frames, 129] log power
    q = VqvaeQuantizer(checkpoint=str(cli_runs / "vq")).fit(x)
    assert (q.n_stages, q.codes_per_stage, q.codebook_size) == (1, 16, 32)
    assert q.bits_per_frame() == 16 * 5.0  # D' x log2 k
    codes = q.encode(x)
    vq = loading.load(cli_runs / "vq").vqvae
    power = torch.from_numpy(np.exp(x) - 1e-10).clamp_min(0)
    assert np.array_equal(codes, vq.encode(power).numpy())  # the checkpoint's own codes
    recon = q.decode(codes)
    assert recon.shape == x.shape and np.allclose(
        recon, np.log(vq.decode(torch.from_numpy(codes)).numpy() + 1e-10)
    )
    q.fitted_on = {"upstream": "vqvae-spec"}
    back = load_quantizer(q.save(tmp_path / "q"), expect={"upstream": "vqvae-spec"})
    assert isinstance(back, VqvaeQuantizer) and back.params == q.params
    assert np.array_equal(back.encode(x), codes) and np.allclose(back.decode(codes), recon)
    assert back.bits_per_frame() == q.bits_per_frame()
    with pytest.raises(QuantizerError, match="vqvae-spec"):
        VqvaeQuantizer(checkpoint=str(cli_runs / "vq")).fit(x[:, :100])


def test_paper_shaped_quantizer_bitrate(tmp_path):
    rng = np.random.default_rng(0)
    x = np.log(rng.gamma(1.0, 10.0, size=(64, 513)) + 1e-10).astype(np.float32)
    q = VqvaeQuantizer(n_iter=2, batch_size=32).fit(x)  # trains a paper-shaped VQ-VAE for two steps
    assert q.codes_per_stage == 64 and q.bits_per_frame() == 512.0
    rate_hz = get_preset("vqmaes-12").spectrogram.frame_rate_hz
    assert q.bits_per_frame() * rate_hz / 1000 == pytest.approx(26.68, abs=0.01)  # kbit/s
    back = load_quantizer(q.save(tmp_path / "q"))
    assert np.array_equal(back.encode(x), q.encode(x))


def test_quantizer_input_scale_checks():
    q = VqvaeQuantizer(
        input_scale="power", n_iter=1, batch_size=8, codebook_size=8, code_dim=2, hidden=4, residual_hidden=4
    )
    with pytest.raises(QuantizerError, match="input_scale=log"):
        q.fit(np.random.default_rng(0).normal(size=(20, 33)).astype(np.float32))
    with pytest.raises(QuantizerError, match="input_scale"):
        VqvaeQuantizer(input_scale="db")


@pytest.mark.slow
def test_cli_resume_after_sigkill_matches_an_uninterrupted_run(corpus, tmp_path):
    """A real kill (SIGKILL, no clean-up) of `train vqvae` in a subprocess, then --resume: the steps after
    the last checkpoint have the losses an uninterrupted run has (tiny's VQ-VAE lr is constant, so the
    total --steps does not change the schedule)."""
    import json
    import os
    import signal
    import subprocess
    import sys
    import time

    def cmd(out, steps, *extra):
        code = "from emobench.cli.train import app; app()"
        return [
            sys.executable,
            "-c",
            code,
            "vqvae",
            "-c",
            f"manifest={corpus}",
            "--config",
            "tiny",
            "--out",
            str(out),
            "--steps",
            str(steps),
            "--threads",
            "1",
            "--checkpoint-every",
            "5",
            *extra,
        ]

    proc = subprocess.Popen(
        cmd(tmp_path / "killed", 100000), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    latest = tmp_path / "killed" / "LATEST"
    deadline = time.monotonic() + 120
    while (
        not (latest.is_file() and latest.read_text().strip() >= "step-0000010")
        and time.monotonic() < deadline
    ):
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    saved = int(latest.read_text().strip().split("-")[1])
    assert saved >= 10
    target = saved + 3
    subprocess.run(cmd(tmp_path / "killed", target, "--resume"), check=True, capture_output=True)
    subprocess.run(cmd(tmp_path / "straight", target), check=True, capture_output=True)

    def losses(out):
        history = json.loads((out / f"step-{target:07d}" / "config.json").read_text())["history"]
        return [h["loss"] for h in history if h["step"] > saved]

    assert len(losses(tmp_path / "killed")) == 3
    assert losses(tmp_path / "killed") == losses(tmp_path / "straight")

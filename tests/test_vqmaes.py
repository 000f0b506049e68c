"""VQ-MAE-S parts: spectrogram, VQ-VAE, masking, masked-only loss, overfitting, checkpoints, exact resume."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest
import torch
from vqmaes_corpus import load_utterances, write_corpus

from emobench.audio import load_audio
from emobench.errors import EmobenchError
from emobench.vqmaes import checkpoint as ckpt
from emobench.vqmaes import load as loading
from emobench.vqmaes.config import get_preset, preset_from_dict, with_overrides
from emobench.vqmaes.masking import make_mask, n_masked, patchify, split_visible, unpatchify
from emobench.vqmaes.model import VQMAES, masked_token_loss
from emobench.vqmaes.spectrogram import n_frames, power_spectrograms
from emobench.vqmaes.train import train_ser, train_vqmaes, train_vqvae
from emobench.vqmaes.vqvae import SpectrogramVQVAE, latent_length

TINY = get_preset("tiny")


@pytest.fixture(scope="module")
def utterances(tmp_path_factory):
    return load_utterances(write_corpus(tmp_path_factory.mktemp("corpus")))


@pytest.fixture(scope="module")
def trained(tmp_path_factory, utterances):
    """A tiny VQ-VAE and VQ-MAE-S trained once for the module."""
    out = tmp_path_factory.mktemp("trained")
    train_vqvae(utterances, out_dir=out / "vq", config="tiny", steps=30, cpu_threads=1)
    train_vqmaes(utterances, vqvae=out / "vq", out_dir=out / "mae", steps=10, cpu_threads=1)
    return out


# -- spectrogram and VQ-VAE -------------------------------------------------------------------------
def test_paper_spectrogram_settings_and_a_known_tone():
    cfg = get_preset("vqmaes-12").spectrogram
    assert (cfg.n_fft, cfg.win_length, cfg.n_bins) == (1024, 1024, 513)
    assert cfg.hop_length == round(0.3 * 1024)  # 70% overlap
    assert cfg.frame_rate_hz == pytest.approx(52.117, abs=1e-3)
    t = np.arange(16000) / 16000
    tone = np.sin(2 * np.pi * 1000.0 * t).astype(np.float32)  # 1 kHz = bin 1000 / (16000 / 1024) = 64
    power = power_spectrograms([tone], cfg)[0]
    assert power.shape == (n_frames(16000, cfg), 513) == (1 + (16000 - 1024) // 307, 513)
    assert set(power.argmax(1).tolist()) == {64}


def test_batched_spectrograms_equal_one_by_one():
    rng = np.random.default_rng(0)
    waves = [rng.standard_normal(n).astype(np.float32) for n in (300, 2000, 5000)]
    batched = power_spectrograms(waves, TINY.spectrogram)
    for w, b in zip(waves, batched, strict=True):
        single = power_spectrograms([w], TINY.spectrogram)[0]
        assert b.shape == single.shape == (n_frames(len(w), TINY.spectrogram), 129)
        assert torch.allclose(b, single, rtol=1e-5, atol=1e-4)


def test_vqvae_compresses_513_bins_to_64_codes_and_back():
    cfg = get_preset("vqmaes-12").vqvae
    assert (cfg.codebook_size, cfg.code_dim, latent_length(513)) == (256, 8, 64)
    model = SpectrogramVQVAE(cfg=cfg, n_bins=513).eval()
    codes = model.encode(torch.rand(5, 513) * 10)
    assert (
        codes.shape == (5, 64)
        and codes.dtype == torch.int64
        and 0 <= int(codes.min()) <= int(codes.max()) < 256
    )
    assert model.decode(codes).shape == (5, 513) and bool((model.decode(codes) > 0).all())


@pytest.mark.parametrize("update", ["ema", "straight-through"])
def test_codebook_updates(update):
    torch.manual_seed(0)
    model = SpectrogramVQVAE(cfg=with_overrides(TINY, vqvae={"update": update}).vqvae, n_bins=129)
    before = model.codebook.codes.detach().clone()
    out = model(torch.rand(32, 129) * 100)
    out.loss.backward()
    if update == "ema":  # moved by the forward pass itself, not a parameter
        assert not isinstance(model.codebook.codes, torch.nn.Parameter)
        assert not torch.equal(model.codebook.codes, before)
    else:  # a parameter learning from the codebook loss; EMA leaves nothing to move
        assert model.codebook.codes.grad is not None and model.codebook.codes.grad.abs().sum() > 0
        assert torch.equal(model.codebook.codes.detach(), before)
    assert model.encoder[0].weight.grad.abs().sum() > 0  # straight-through gradient reaches the encoder


def test_dead_codes_are_reseeded_on_batch_latents():
    torch.manual_seed(0)
    model = SpectrogramVQVAE(cfg=TINY.vqvae, n_bins=129)
    book = model.codebook
    book.codes[3] = 1e6  # far from every latent: never assigned
    out = model(torch.rand(64, 129) * 100)
    assert book.hits[3] == 0
    dead = int((book.hits < book.dead_share / book.codebook_size * book.hits.sum()).sum())
    n = book.reseed_dead(out.latents, torch.Generator().manual_seed(0))
    assert n == dead >= 1
    assert any(torch.allclose(book.codes[3], z) for z in out.latents)  # moved onto one of the batch's latents
    assert float(book.hits.sum()) == 0  # counting restarts


# -- tokens and masking --------------------------------------------------------------------------------
def test_patchify_round_trip_and_layout():
    codes = torch.arange(2 * 20 * 8).reshape(2, 20, 8)
    tokens = patchify(codes, 10, 4)  # n_t = 2, n_d = 2
    assert tokens.shape == (2, 4, 40)
    assert (
        tokens[0, 1].reshape(10, 4).tolist() == codes[0, :10, 4:8].tolist()
    )  # token 1 = time step 0, band 1
    assert torch.equal(unpatchify(tokens, 2, 2, 10, 4), codes)


@pytest.mark.parametrize(
    "strategy,n_t,n_d,ratio,expected",
    [
        ("patch-tf", 20, 16, 0.8, 256),  # the paper's 320 tokens: 80% = 256 masked
        ("patch-t", 20, 16, 0.8, 16 * 16),  # 16 of 20 time steps, whole columns
        ("patch-f", 20, 16, 0.8, 13 * 20),  # round(12.8) = 13 of 16 bands, whole rows
        ("frame", 200, 1, 0.8, 160),  # (t=1, d=D') tokens: 160 of 200 frames
        ("patch-tf", 20, 16, 0.5, 160),
    ],
)
def test_mask_shapes_and_ratios(strategy, n_t, n_d, ratio, expected):
    mask = make_mask(strategy, n_t, n_d, ratio, batch=4, generator=torch.Generator().manual_seed(1))
    assert mask.shape == (4, n_t * n_d) and mask.dtype == torch.bool
    assert mask.sum(1).tolist() == [expected] * 4 == [n_masked(strategy, n_t, n_d, ratio)] * 4
    grid = mask.reshape(4, n_t, n_d)
    if strategy == "patch-t":
        assert bool((grid == grid[:, :, :1]).all())  # a time step is masked in every band or none
    if strategy == "patch-f":
        assert bool((grid == grid[:, :1, :]).all())  # a band is masked at every time step or none
    assert not all(torch.equal(mask[0], m) for m in mask[1:])  # each example draws its own mask
    again = make_mask(strategy, n_t, n_d, ratio, batch=4, generator=torch.Generator().manual_seed(1))
    assert torch.equal(mask, again)
    keep, drop = split_visible(mask)
    assert keep.shape == (4, n_t * n_d - expected) and not bool(mask.gather(1, keep).any())
    assert bool(mask.gather(1, drop).all())


def test_frame_masking_needs_whole_frame_tokens():
    with pytest.raises(EmobenchError, match="patch_d = D'"):
        make_mask("frame", 20, 16, 0.8, batch=1)
    assert get_preset("vqmaes-12-frame").mae.patch_d == 64


# -- the loss counts masked tokens only ----------------------------------------------------------------
def _tiny_model(seed: int = 0) -> VQMAES:
    torch.manual_seed(seed)
    return VQMAES(cfg=TINY.mae, codebook_size=32, code_dim=4, latent_dim=16)


def test_loss_ignores_unmasked_logits():
    model = _tiny_model()
    codes = torch.randint(0, 32, (3, 16, 16))
    mask = make_mask("patch-tf", 8, 4, 0.8, batch=3, generator=torch.Generator().manual_seed(0))
    tokens = patchify(codes, 2, 4)
    logits = model(codes, mask).detach()
    loss = masked_token_loss(logits, tokens, mask)
    garbage = logits.clone()
    garbage[~mask] = torch.randn_like(garbage[~mask]) * 1e4
    assert torch.equal(masked_token_loss(garbage, tokens, mask), loss)
    changed = logits.clone()
    changed[mask] += torch.randn_like(changed[mask])
    assert not torch.allclose(masked_token_loss(changed, tokens, mask), loss)
    assert torch.allclose(model.pretrain_loss(codes, mask), loss, atol=1e-6)  # the training path agrees
    other = tokens.clone()
    other[~mask] = (other[~mask] + 1) % 32  # other targets where nothing is scored
    assert torch.equal(masked_token_loss(logits, other, mask), loss)


def test_paper_model_size():
    p = get_preset("vqmaes-12")
    model = VQMAES(cfg=p.mae, codebook_size=256, code_dim=8, latent_dim=64)
    assert model.width == 320 and len(model.blocks) == 12 and len(model.dec_blocks) == 4
    assert 19e6 < sum(x.numel() for x in model.parameters()) < 21e6  # Table 3/4: VQ-MAE-S-12 has ~20 M


def test_tiny_model_overfits_a_tiny_batch():
    model = _tiny_model()
    codes = torch.randint(0, 32, (4, 16, 16), generator=torch.Generator().manual_seed(0))
    mask = make_mask("patch-tf", 8, 4, 0.5, batch=4, generator=torch.Generator().manual_seed(0))
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2)
    threads, start = torch.get_num_threads(), time.perf_counter()
    torch.set_num_threads(1)
    try:
        first = float(model.pretrain_loss(codes, mask).detach())
        for _ in range(200):  # ~2 s on one CPU core
            loss = model.pretrain_loss(codes, mask)
            opt.zero_grad()
            loss.backward()
            opt.step()
    finally:
        torch.set_num_threads(threads)
    assert first > 3.0  # ~ln(32) at initialisation
    assert float(loss.detach()) < first / 10  # memorised: the loss falls by more than 10x
    assert time.perf_counter() - start < 60


# -- checkpoints and resume -----------------------------------------------------------------------------
def test_checkpoint_round_trip(trained):
    vq = loading.load(trained / "vq")
    mae = loading.load(trained / "mae")
    assert vq.kind == "vqvae" and mae.kind == "vqmaes" and mae.preset == TINY
    for k, v in vq.vqvae.state_dict().items():  # the VQ-VAE inside the VQ-MAE-S checkpoint is the one trained
        assert torch.equal(v, mae.vqvae.state_dict()[k])
    config = json.loads((ckpt.resolve(trained / "mae") / "config.json").read_text())
    assert config["step"] == 10 and config["trained_on"]["n_utterances"] == 16
    assert preset_from_dict(config["identity"]["preset"]).mae == TINY.mae
    files = {p.name for p in ckpt.resolve(trained / "mae").iterdir()}
    assert files == {"config.json", "model.safetensors", "optimizer.safetensors"}  # no pickle anywhere


class Killed(Exception):
    pass


def _kill_at(step):
    def progress(description, completed, total):
        if completed == step:
            raise Killed

    return progress


STAGES = {
    "vqvae": lambda u, out, t, **kw: train_vqvae(u, out_dir=out, config="tiny", **kw),
    "vqmaes": lambda u, out, t, **kw: train_vqmaes(u, vqvae=t / "vq", out_dir=out, **kw),
    "vqmaes-ser": lambda u, out, t, **kw: train_ser(
        u, checkpoint=t / "mae", out_dir=out, head="query2emo", **kw
    ),
}


@pytest.mark.parametrize("stage", list(STAGES))
def test_resume_after_a_kill_gives_identical_next_step_losses(stage, utterances, trained, tmp_path):
    run = STAGES[stage]
    common = {"steps": 6, "checkpoint_every": 3, "seed": 3, "cpu_threads": 1}
    straight = run(utterances, tmp_path / "a", trained, **common)
    with pytest.raises(
        Killed
    ):  # dies during step 5, after the step-3 checkpoint; nothing saved on the way out
        run(utterances, tmp_path / "b", trained, progress=_kill_at(5), **common)
    assert (tmp_path / "b" / "LATEST").read_text().strip() == "step-0000003"
    resumed = run(utterances, tmp_path / "b", trained, resume=True, **common)
    assert resumed.resumed_from == 3
    assert [h["loss"] for h in resumed.history] == [h["loss"] for h in straight.history[3:]]
    a, b = ckpt.load_checkpoint(tmp_path / "a"), ckpt.load_checkpoint(tmp_path / "b")
    assert a.weights.keys() == b.weights.keys()
    assert all(torch.equal(a.weights[k], b.weights[k]) for k in a.weights)


def test_resume_refuses_other_settings_and_a_fresh_run_refuses_an_old_folder(utterances, tmp_path):
    train_vqvae(utterances, out_dir=tmp_path / "vq", config="tiny", steps=2, cpu_threads=1)
    with pytest.raises(EmobenchError, match="--resume"):
        train_vqvae(utterances, out_dir=tmp_path / "vq", config="tiny", steps=2, cpu_threads=1)
    with pytest.raises(EmobenchError, match="'seed' was 0 but this run's is 1"):
        train_vqvae(
            utterances, out_dir=tmp_path / "vq", config="tiny", steps=4, seed=1, resume=True, cpu_threads=1
        )
    with pytest.raises(EmobenchError, match="no VQ-MAE-S checkpoint"):
        loading.load(tmp_path / "nothing-here")


def test_predict_ser_scores_whole_utterances(utterances, trained, tmp_path):
    from emobench.vqmaes.inference import pad_windows, windows_of

    out = train_ser(
        utterances,
        checkpoint=trained / "mae",
        out_dir=tmp_path / "ser",
        head="query2emo",
        steps=2,
        cpu_threads=1,
    ).out_dir
    labels, probs = loading.predict_ser(out, utterances[:5])
    assert labels == ("angry", "happy", "neutral", "sad") and probs.shape == (5, 4)
    assert torch.allclose(probs.sum(1), torch.ones(5))
    ser = loading.load(out)  # by hand: one utterance, its windows' logits weighted by their columns
    power = power_spectrograms([load_audio(utterances[4], 16000)], ser.preset.spectrogram)[0]
    silence = ser.vqvae.encode(torch.zeros(1, 129))[0]
    windows = windows_of(ser.vqvae.encode(power), ser.mae, silence)
    assert len(windows) > 1  # 1.3 s is longer than tiny's 16-frame windows
    tokens, n_valid = pad_windows(windows, ser.mae.n_d, torch.device("cpu"))
    logits = ser.ser(tokens, n_valid)
    cols = torch.tensor([float(w.n_cols) for w in windows])[:, None]
    expected = torch.softmax((logits * cols).sum(0) / cols.sum(), -1)
    assert torch.allclose(probs[4], expected, atol=1e-5)


def test_ser_freeze_trains_the_head_only(utterances, trained, tmp_path):
    before = loading.load(trained / "mae").mae.state_dict()
    res = train_ser(
        utterances,
        checkpoint=trained / "mae",
        out_dir=tmp_path / "ser",
        freeze_encoder=True,
        steps=3,
        cpu_threads=1,
    )
    after = loading.load(res.out_dir)
    assert after.kind == "vqmaes-ser" and after.labels == ("angry", "happy", "neutral", "sad")
    assert all(torch.equal(v, after.mae.state_dict()[k]) for k, v in before.items())
    unfrozen = loading.load(
        train_ser(
            utterances, checkpoint=trained / "mae", out_dir=tmp_path / "ser2", steps=3, cpu_threads=1
        ).out_dir
    )
    assert not torch.equal(
        unfrozen.mae.state_dict()["blocks.0.attn.qkv.weight"], before["blocks.0.attn.qkv.weight"]
    )


def test_schedule_and_amp_choice():
    from emobench.vqmaes.trainer import amp_dtype, lr_at

    paper = get_preset("vqmaes-12").mae_train
    assert paper.lr() == pytest.approx(2e-3)  # 1e-3 x 512 / 256 (linear scaling rule)
    lrs = [lr_at(s, 100, paper) for s in range(1, 101)]
    assert lrs[9] == pytest.approx(2e-3) and lrs[4] == pytest.approx(1e-3)  # 10% linear warm-up
    assert all(a >= b for a, b in zip(lrs[9:], lrs[10:], strict=False)) and 0 < lrs[-1] < 1e-5  # cosine decay
    assert lr_at(7, 100, TINY.vqvae_train) == TINY.vqvae_train.base_lr  # the VQ-VAE's constant Adam lr
    assert amp_dtype("auto", torch.device("cpu")) == torch.float32
    with pytest.raises(EmobenchError, match="only supported on a GPU"):
        amp_dtype("bf16", torch.device("cpu"))


def test_unusable_audio_is_skipped_and_named(tmp_path):
    import soundfile as sf

    manifest = write_corpus(tmp_path / "corpus", n=6)
    sf.write(tmp_path / "corpus" / "wavs" / "u02.wav", np.zeros(8000, dtype=np.float32), 16000)  # silent
    utts = load_utterances(manifest)
    res = train_vqvae(utts, out_dir=tmp_path / "vq", config="tiny", steps=4, cpu_threads=1)
    skipped = loading.load(res.out_dir).config["skipped_audio"]
    assert skipped["count"] == 1 and list(skipped["first"]) == ["tiny/wavs/u02"]
    assert "silent" in skipped["first"]["tiny/wavs/u02"]
    for u in utts:  # the rest all silent too: a clear error instead of training on nothing
        sf.write(u.path, np.zeros(8000, dtype=np.float32), 16000)
    with pytest.raises(EmobenchError, match="unusable"):
        train_vqvae(
            load_utterances(manifest), out_dir=tmp_path / "vq2", config="tiny", steps=2, cpu_threads=1
        )

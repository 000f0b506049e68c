"""VQ-MAE-S training throughput for the paper's config (vqmaes-12), with peak memory, on CPU or CUDA.

Each workload runs in a fresh subprocess (so peak memory is its own) on synthetic codes / frames:
  * ``vqvae``: one Adam step of the spectrogram VQ-VAE on 1024 power frames (the authors' batch);
  * ``mae-pretrain``: one AdamW step of VQ-MAE-S-12 pre-training (320 tokens, Patch-tf 80%: the encoder
    sees 64 + [CLS], the decoder 321);
  * ``mae-unmasked``: the same model with 10% masking (the encoder sees 288 + [CLS]): the peer that
    shows what masking saves (the paper's "quadratic complexity" argument, section 2.3);
  * ``ser-finetune``: one step of [CLS] + linear fine-tuning (all 320 tokens through the encoder);
  * ``frame-pretrain``: the Frame-masking variant (vqmaes-12-frame: 200 frame tokens of width 512);
  * the machine's fp32 matmul rate at the model's shape, to state how much of it the steps reach.
FLOPs are counted analytically (matmuls only, backward = 2x forward). The full pre-training estimate
multiplies the measured (or, without a GPU, FLOP-derived) step time by the paper's schedule.

    python benchmarks/vqmaes.py --batch 8 --threads 1 --out benchmarks/results/vqmaes-cpu-1thread.json
    python benchmarks/vqmaes.py --device cuda --batch 512 --out benchmarks/results/vqmaes-cuda.json

Not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

WORKLOADS = ("vqvae", "mae-pretrain", "mae-unmasked", "ser-finetune", "frame-pretrain")

# The paper's pre-training (section 3.1.1) and the authors' code (config_mae/config.yaml,
# dataset_voxceleb.py): ~1000 h of VoxCeleb2, batch 512, 100-epoch warm-up; the code's schedule is 2000
# epochs of len(files) // 10 random 200-frame clips. VoxCeleb2 dev averages 8.05 s per utterance (2442 h
# in 1,092,009), so ~447k files.
PAPER = {
    "hours": 1000.0,
    "batch": 512,
    "epochs": 2000,
    "files": round(1000 * 3600 / 8.05),
    "clip_frames": 200,
}


def sync(device: str) -> None:
    import torch

    if device.startswith("cuda"):
        torch.cuda.synchronize()


def mae_flops(
    width: int,
    enc_blocks: int,
    dec_blocks: int,
    n_tokens: int,
    n_visible: int,
    td: int,
    k: int,
    mlp: float = 4.0,
) -> float:
    """Forward matmul FLOPs of one pre-training example (attention projections, scores, MLP, head)."""

    def blocks(n_blocks: int, seq: int) -> float:
        return n_blocks * (2 * seq * width * width * (4 + 2 * mlp) + 4 * seq * seq * width)

    masked = n_tokens - n_visible
    return (
        blocks(enc_blocks, 1 + n_visible)
        + blocks(dec_blocks, 1 + n_tokens)
        + 2 * masked * td * (width // td) * k
    )


def worker(name: str, device: str, batch: int, steps: int, threads: int | None) -> dict:
    import resource

    import torch

    from emobench.vqmaes import load as loading
    from emobench.vqmaes.config import get_preset
    from emobench.vqmaes.heads import SerModel, ser_loss
    from emobench.vqmaes.masking import make_mask, patchify

    if threads:
        torch.set_num_threads(threads)
    dev = torch.device(device)
    preset = get_preset("vqmaes-12-frame" if name == "frame-pretrain" else "vqmaes-12")
    amp = torch.bfloat16 if dev.type == "cuda" else None
    torch.manual_seed(0)
    vq = loading.build_vqvae(preset)
    info: dict = {"workload": name, "config": preset.name}
    if name == "vqvae":
        model = vq.to(dev).train()
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        x = torch.rand(1024, 513, device=dev) * 100

        def step():
            out = model(x)
            out.loss.backward()
            opt.step()
            opt.zero_grad(set_to_none=True)

        info.update(batch=1024, unit="frames", items_per_step=1024, flops_per_step=None)
    else:
        mae = loading.build_mae(preset, vq).to(dev).train()
        cfg = preset.mae
        n_t, n_d = cfg.clip_frames // cfg.patch_t, mae.n_d
        n_tokens, td = n_t * n_d, cfg.patch_t * cfg.patch_d
        codes = torch.randint(0, 256, (batch, cfg.clip_frames, 64), device=dev)
        if name == "ser-finetune":
            model = SerModel(mae=mae, cfg=preset.ser, n_classes=8).to(dev)
            opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4)
            tokens, y = patchify(codes, cfg.patch_t, cfg.patch_d), torch.randint(0, 8, (batch,), device=dev)
            n_visible = n_tokens
            fwd = 2 * (1 + n_tokens) * mae.width * mae.width * 12 * cfg.encoder_blocks

            def loss_fn():
                return ser_loss(preset.ser, model(tokens), y)
        else:
            ratio = 0.1 if name == "mae-unmasked" else cfg.mask_ratio
            strategy = "patch-tf" if name == "mae-unmasked" else cfg.masking
            mask = make_mask(
                strategy, n_t, n_d, ratio, batch=batch, generator=torch.Generator().manual_seed(0)
            )
            mask = mask.to(dev)
            n_visible = int((~mask[0]).sum())
            opt = torch.optim.AdamW(mae.parameters(), lr=1e-3, betas=(0.9, 0.95), weight_decay=0.05)
            fwd = mae_flops(mae.width, cfg.encoder_blocks, cfg.decoder_blocks, n_tokens, n_visible, td, 256)

            def loss_fn():
                return mae.pretrain_loss(codes, mask)

        def step():
            with torch.autocast(dev.type, dtype=amp, enabled=amp is not None):
                loss = loss_fn()
            loss.backward()
            opt.step()
            opt.zero_grad(set_to_none=True)

        info.update(
            batch=batch,
            unit="clips",
            items_per_step=batch,
            tokens_per_item=n_tokens,
            encoder_tokens_per_item=n_visible + 1,
            flops_per_step=3 * fwd * batch,
            n_parameters=sum(p.numel() for p in mae.parameters()),
        )
    step()  # warm-up (allocations, kernels)
    sync(device)
    if dev.type == "cuda":
        torch.cuda.reset_peak_memory_stats(dev)
    times = []
    for _ in range(steps):
        t = time.perf_counter()
        step()
        sync(device)
        times.append(time.perf_counter() - t)
    step_s = statistics.median(times)
    info.update(
        step_s=step_s, step_s_all=times, steps_per_s=1 / step_s, items_per_s=info["items_per_step"] / step_s
    )
    if "tokens_per_item" in info:
        info["tokens_per_s"] = info["tokens_per_item"] * batch / step_s
        info["achieved_gflops"] = info["flops_per_step"] / step_s / 1e9
    info["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if dev.type == "cuda":
        info["peak_cuda_mib"] = torch.cuda.max_memory_allocated(dev) / 2**20
    info["amp"] = "bf16" if amp is not None else "fp32"
    info["torch_threads"] = torch.get_num_threads()
    return info


def matmul_gflops(device: str, rows: int = 16384, width: int = 320, reps: int = 5) -> float:
    """fp32 (bf16 on CUDA) GFLOP/s of [rows, W] x [W, 4W], the MLP shape of vqmaes-12."""
    import torch

    dtype = torch.bfloat16 if device.startswith("cuda") else torch.float32
    a = torch.randn(rows, width, device=device, dtype=dtype)
    b = torch.randn(width, 4 * width, device=device, dtype=dtype)
    a @ b
    sync(device)
    best = float("inf")
    for _ in range(reps):
        t = time.perf_counter()
        a @ b
        sync(device)
        best = min(best, time.perf_counter() - t)
    return 2 * rows * width * 4 * width / best / 1e9


def estimate(results: dict, device: str, gpu_peak_tflops: float, gpu_utilisation: float) -> dict:
    """Cost of the paper's pre-training from the measured step time (and, on CPU, a FLOP-based GPU guess)."""
    pre = results["mae-pretrain"]
    per_clip_s = pre["step_s"] / pre["batch"]
    clips_per_epoch = PAPER["files"] // 10
    steps = PAPER["epochs"] * clips_per_epoch // PAPER["batch"]
    one_pass_clips = PAPER["hours"] * 3600 / (PAPER["clip_frames"] * 307 / 16000)
    flops_per_step = pre["flops_per_step"] / pre["batch"] * PAPER["batch"]
    out = {
        "schedule": {
            **PAPER,
            "clips_per_epoch": clips_per_epoch,
            "steps": steps,
            "clips_seen": steps * PAPER["batch"],
            "one_pass_over_1000h_clips": round(one_pass_clips),
        },
        "flops_per_step_batch512": flops_per_step,
        "total_pflop": flops_per_step * steps / 1e15,
        f"{device}_measured_step_s_batch512": per_clip_s * PAPER["batch"],
        f"{device}_hours_full_schedule": per_clip_s * PAPER["batch"] * steps / 3600,
        f"{device}_hours_per_pass_over_1000h": per_clip_s * one_pass_clips / 3600,
    }
    if not device.startswith("cuda"):
        gpu_step = flops_per_step / (gpu_peak_tflops * 1e12 * gpu_utilisation)
        out["gpu_guess"] = {
            "assumption": f"{gpu_peak_tflops:g} TFLOP/s bf16 peak at {gpu_utilisation:.0%} utilisation "
            "(width-320 matmuls and short sequences rarely reach more); not a measurement",
            "step_s_batch512": gpu_step,
            "hours_full_schedule": gpu_step * steps / 3600,
            "hours_per_pass_over_1000h": gpu_step * one_pass_clips / PAPER["batch"] / 3600,
        }
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--batch", type=int, default=None, help="clips per step (default 8 on CPU, 512 on CUDA)")
    ap.add_argument("--steps", type=int, default=3, help="timed steps per workload (median reported)")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--quick", action="store_true", help="batch 4, 2 timed steps")
    ap.add_argument("--workloads", default=",".join(WORKLOADS))
    ap.add_argument(
        "--gpu-peak-tflops", type=float, default=790.0, help="for the CPU-run GPU guess (H200 bf16)"
    )
    ap.add_argument("--gpu-utilisation", type=float, default=0.2)
    ap.add_argument("--out", default=None)
    ap.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    import torch

    device = ("cuda" if torch.cuda.is_available() else "cpu") if args.device == "auto" else args.device
    batch = args.batch or (4 if args.quick else (512 if device.startswith("cuda") else 8))
    steps = 2 if args.quick else args.steps
    if args.worker:
        print(json.dumps(worker(args.worker, device, batch, steps, args.threads)))
        return
    from emobench.provenance import machine, package_versions

    results = {}
    for name in args.workloads.split(","):
        cmd = [
            sys.executable,
            __file__,
            "--worker",
            name,
            "--device",
            device,
            "--batch",
            str(batch),
            "--steps",
            str(steps),
        ] + (["--threads", str(args.threads)] if args.threads else [])
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode:
            raise SystemExit(f"{name} failed:\n{proc.stderr[-3000:]}")
        results[name] = json.loads(proc.stdout.strip().splitlines()[-1])
        print(
            f"{name}: {results[name]['step_s']:.3f} s/step, {results[name]['items_per_s']:.1f} "
            f"{results[name]['unit']}/s, peak RSS {results[name]['peak_rss_mib']:.0f} MiB",
            flush=True,
        )
    if args.threads:
        torch.set_num_threads(args.threads)
    peak = matmul_gflops(device)
    for r in results.values():
        if r.get("achieved_gflops"):
            r["fraction_of_matmul_peak"] = r["achieved_gflops"] / peak
    ratios = {}
    if {"mae-pretrain", "mae-unmasked"} <= set(results):
        ratios["unmasked_over_masked_step_time"] = (
            results["mae-unmasked"]["step_s"] / results["mae-pretrain"]["step_s"]
        )
    if {"mae-pretrain", "frame-pretrain"} <= set(results):
        ratios["frame_over_patch_tf_step_time"] = (
            results["frame-pretrain"]["step_s"] / results["mae-pretrain"]["step_s"]
        )
    report = {
        "schema_version": 1,
        "benchmark": "vqmaes",
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "device": device,
        "batch": batch,
        "timed_steps": steps,
        "machine": machine(),
        "packages": package_versions(),
        "load_average": list(os.getloadavg()),
        "matmul_gflops": peak,
        "results": results,
        "ratios": ratios,
    }
    if "mae-pretrain" in results:
        report["estimate"] = estimate(results, device, args.gpu_peak_tflops, args.gpu_utilisation)
    text = json.dumps(report, indent=2)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(text + "\n")
    print(json.dumps({"ratios": ratios, "estimate": report.get("estimate")}, indent=2))


if __name__ == "__main__":
    main()

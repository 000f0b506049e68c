"""Quantizer benchmark: emobench's residual VQ trainer vs the machine's matmul peak and vs faiss.

Synthetic Gaussian-mixture frames (D=1024 by default). Measured in one run:
  * matmul GFLOP/s of the machine (fp32, the trainer's own block shape [chunk, D] x [D, K]);
  * RVQ training: time, counted FLOPs (k-means++ Gram + Lloyd + final assignment per stage), effective
    GFLOP/s and its fraction of the matmul peak; reconstruction cosine on held-out frames;
  * faiss ResidualQuantizer (same data, stages, K, iterations, greedy beam) in subprocesses, once with
    OpenBLAS' own kernel choice and once per forced ``OPENBLAS_CORETYPE``: train time and cosine;
  * encode throughput (frames/s) of both;
  * peak memory training on N x D fp16 frames streamed from a memory-mapped .npy (a fresh subprocess;
    anonymous RSS, i.e. excluding the page cache of the mapped file, and total RSS).

    python benchmarks/quantizers.py --quick --out benchmarks/results/quantizers.json
    python benchmarks/quantizers.py --stages 24 --train-frames 262144 --memory-frames 2000000

Writes JSON with machine and library versions. Not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def mixture(n: int, dim: int, *, n_clusters: int = 256, seed: int = 0, dtype=np.float32) -> np.ndarray:
    """Gaussian mixture: random cluster centres plus isotropic noise, in chunks (bounded memory)."""
    rng = np.random.default_rng(seed)
    centers = np.random.default_rng(12345).normal(size=(n_clusters, dim)).astype(np.float32)
    out = np.empty((n, dim), dtype=dtype)
    for s in range(0, n, 65536):
        m = min(65536, n - s)
        block = centers[rng.integers(0, n_clusters, m)] + 0.7 * rng.standard_normal(
            (m, dim), dtype=np.float32
        )
        out[s : s + m] = block
    return out


def machine(device: str) -> dict:
    import torch

    info = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": _cpu_name(),
        "cpu_count": os.cpu_count(),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "torch_threads": torch.get_num_threads(),
        "device": device,
        "load_average_at_start": os.getloadavg(),
    }
    try:
        import importlib.metadata as md

        info["faiss"] = md.version("faiss-cpu")
    except Exception:
        info["faiss"] = None
    if device.startswith("cuda"):
        info["gpu"] = torch.cuda.get_device_name(device)
    return info


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def _sync(device: str) -> None:
    import torch

    if device.startswith("cuda"):
        torch.cuda.synchronize()


def matmul_gflops(dim: int, k: int, device: str, reps: int = 5) -> dict:
    """fp32 GFLOP/s for the trainer's distance block [chunk, D] x [D, K]: best of ``reps`` by wall
    clock, and per CPU-second (all threads) over the reps, which a loaded machine distorts less."""
    import torch

    from emobench.quantizers.kmeans import chunk_rows

    rows = chunk_rows(k, dim)
    a = torch.randn(rows, dim, device=device)
    b = torch.randn(k, dim, device=device)
    torch.mm(a, b.t())
    best, cpu = float("inf"), 0.0
    for _ in range(reps):
        _sync(device)
        t, c = time.perf_counter(), time.process_time()
        torch.mm(a, b.t())
        _sync(device)
        best, cpu = min(best, time.perf_counter() - t), cpu + time.process_time() - c
    flop = 2 * rows * dim * k
    return {"gflops": flop / best / 1e9, "gflop_per_cpu_s": reps * flop / cpu / 1e9}


def rvq_flops(fit_info: dict, k: int, dim: int) -> float:
    """FLOPs the trainer spends in matmuls: k-means++ Gram, Lloyd distances, final residual assignment."""
    total = 0.0
    for st in fit_info["stages"]:
        n = st["n_train"]
        m = min(n, max(4 * k, 256))
        total += 2.0 * m * m * dim + 2.0 * n * k * dim * (st["n_iter"] + 1)
    return total


def cosine(x: np.ndarray, y: np.ndarray) -> float:
    num = (x * y).sum(1)
    den = np.linalg.norm(x, axis=1) * np.linalg.norm(y, axis=1) + 1e-12
    return float((num / den).mean())


def bench_rvq(train: np.ndarray, test: np.ndarray, args, device: str) -> dict:
    import torch

    from emobench.quantizers.rvq import ResidualVQ

    q = ResidualVQ(
        n_stages=args.stages,
        codebook_size=args.codebook_size,
        n_iter=args.n_iter,
        max_points_per_centroid=len(train) // args.codebook_size,
        min_train_frames=0,
        tol=0.0,
    )
    _sync(device)
    t, c = time.perf_counter(), time.process_time()
    q.fit(train, device=device, seed=0)
    _sync(device)
    train_s, train_cpu_s = time.perf_counter() - t, time.process_time() - c
    flops = rvq_flops(q.fit_info, args.codebook_size, train.shape[1])
    test_t = torch.as_tensor(test, device=device)
    q.encode(test_t[:1024])
    _sync(device)
    t = time.perf_counter()
    codes = q.encode(test_t)
    _sync(device)
    enc_s = time.perf_counter() - t
    rec = q.decode(codes).cpu().numpy()
    return {
        "train_s": train_s,
        "train_cpu_s": train_cpu_s,
        "gflop": flops / 1e9,
        "effective_gflops": flops / train_s / 1e9,
        "effective_gflop_per_cpu_s": flops / train_cpu_s / 1e9,
        "cosine_test": cosine(test, rec),
        "encode_frames_per_s": len(test) / enc_s,
        "n_iter_per_stage": [s["n_iter"] for s in q.fit_info["stages"]],
    }


def faiss_worker(train_path: str, test_path: str, stages: int, k: int, n_iter: int) -> dict:
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import faiss

    train, test = np.load(train_path), np.load(test_path)
    rq = faiss.ResidualQuantizer(train.shape[1], stages, int(np.log2(k)))
    rq.train_type = faiss.ResidualQuantizer.Train_default  # plain k-means per stage, as ResidualVQ
    rq.max_beam_size = 1  # greedy encoding, as ResidualVQ
    rq.cp.niter = n_iter
    rq.cp.max_points_per_centroid = len(train) // k
    rq.cp.seed = 0
    t, c = time.perf_counter(), time.process_time()
    rq.train(train)
    train_s, train_cpu_s = time.perf_counter() - t, time.process_time() - c
    t = time.perf_counter()
    codes = rq.compute_codes(test)
    enc_s = time.perf_counter() - t
    rec = rq.decode(codes)
    return {
        "train_s": train_s,
        "train_cpu_s": train_cpu_s,
        "cosine_test": cosine(test, rec),
        "encode_frames_per_s": len(test) / enc_s,
        "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE", "auto"),
        "openblas_config": _openblas_config(faiss),
    }


def _openblas_config(faiss) -> str | None:
    """OpenBLAS' own report of the kernel it picked (the bundled library, found via faiss' loaded libs)."""
    import ctypes

    try:
        for line in Path("/proc/self/maps").read_text().splitlines():
            if "openblas" in line.lower():
                lib = ctypes.CDLL(line.split()[-1])
                lib.openblas_get_config.restype = ctypes.c_char_p
                lib.openblas_get_corename.restype = ctypes.c_char_p
                return f"{lib.openblas_get_config().decode()} core={lib.openblas_get_corename().decode()}"
    except Exception:
        return None
    return None


def memory_worker(path: str, stages: int, k: int, n_iter: int, device: str) -> dict:
    """Train on a memory-mapped fp16 .npy through ArrayFrameSource (sampled rows only); poll RSS."""
    from emobench.frames import ArrayFrameSource
    from emobench.quantizers.rvq import ResidualVQ

    peak = {"anon_kib": 0, "rss_kib": 0, "file_kib": 0}
    stop = threading.Event()

    def poll():
        while not stop.is_set():
            fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
            peak["anon_kib"] = max(peak["anon_kib"], int(fields.get("RssAnon", "0 kB").split()[0]))
            peak["rss_kib"] = max(peak["rss_kib"], int(fields["VmRSS"].split()[0]))
            peak["file_kib"] = max(peak["file_kib"], int(fields.get("RssFile", "0 kB").split()[0]))
            time.sleep(0.05)

    thread = threading.Thread(target=poll, daemon=True)
    thread.start()
    frames = np.load(path, mmap_mode="r")
    import mmap

    # random row sampling: stop the kernel's readahead from paging in the whole file
    frames._mmap.madvise(mmap.MADV_RANDOM)
    t = time.perf_counter()
    q = ResidualVQ(n_stages=stages, codebook_size=k, n_iter=n_iter, tol=0.0).fit(
        ArrayFrameSource(frames), device=device, seed=0
    )
    train_s = time.perf_counter() - t
    stop.set()
    thread.join()
    out = {
        "frames": int(frames.shape[0]),
        "dim": int(frames.shape[1]),
        "dtype": str(frames.dtype),
        "file_gib": Path(path).stat().st_size / 2**30,
        "stages": stages,
        "codebook_size": k,
        "n_iter": n_iter,
        "n_train": q.fit_info["stages"][0]["n_train"],
        "train_s": train_s,
        "peak_anon_rss_gib": peak["anon_kib"] / 2**20,
        "peak_rss_gib": peak["rss_kib"] / 2**20,
        "peak_file_backed_rss_gib": peak["file_kib"] / 2**20,
    }
    if device.startswith("cuda"):
        import torch

        out["peak_cuda_gib"] = torch.cuda.max_memory_allocated() / 2**30
    return out


def _subprocess(args: list[str], env: dict | None = None, timeout: int = 3600) -> dict:
    proc = subprocess.run(
        [sys.executable, __file__, *args], capture_output=True, text=True, env=env, timeout=timeout
    )
    if proc.returncode != 0:
        return {
            "error": proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else f"rc={proc.returncode}"
        }
    return json.loads(proc.stdout.strip().splitlines()[-1])


def make_memmap(path: Path, n: int, dim: int) -> None:
    if path.exists() and np.load(path, mmap_mode="r").shape == (n, dim):
        return
    arr = np.lib.format.open_memmap(path, mode="w+", dtype=np.float16, shape=(n, dim))
    for s in range(0, n, 262144):
        m = min(262144, n - s)
        arr[s : s + m] = mixture(m, dim, seed=1000 + s // 262144, dtype=np.float16)
    arr.flush()
    del arr


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument(
        "--quick", action="store_true", help="small sizes that run in a few minutes on 2 CPU cores"
    )
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=None, help="CPU threads for torch and faiss (default: all)")
    p.add_argument("--dim", type=int, default=1024)
    p.add_argument("--stages", type=int, default=None)
    p.add_argument("--codebook-size", type=int, default=1024)
    p.add_argument("--train-frames", type=int, default=None)
    p.add_argument("--test-frames", type=int, default=None)
    p.add_argument("--n-iter", type=int, default=None)
    p.add_argument(
        "--coretypes", default="Haswell", help="comma-separated OPENBLAS_CORETYPE values to also try"
    )
    p.add_argument("--skip-faiss", action="store_true")
    p.add_argument("--memory-only", action="store_true", help="only the peak-memory measurement")
    p.add_argument("--memory-frames", type=int, default=None, help="frames in the fp16 memmap (0: skip)")
    p.add_argument("--memory-stages", type=int, default=None)
    p.add_argument("--memory-iter", type=int, default=None)
    p.add_argument("--workdir", default=None, help="where the memmap .npy goes (default: a temp dir)")
    p.add_argument("--out", default=None)
    p.add_argument("--_worker", default=None, help=argparse.SUPPRESS)
    p.add_argument("--_paths", nargs="*", default=None, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
        os.environ["OMP_NUM_THREADS"] = str(args.threads)  # faiss and OpenBLAS in the worker subprocesses

    if args._worker == "faiss":
        print(
            json.dumps(
                faiss_worker(args._paths[0], args._paths[1], args.stages, args.codebook_size, args.n_iter)
            )
        )
        return
    if args._worker == "memory":
        print(
            json.dumps(
                memory_worker(args._paths[0], args.stages, args.codebook_size, args.n_iter, args.device)
            )
        )
        return

    q = args.quick
    args.stages = args.stages or (2 if q else 8)
    args.train_frames = args.train_frames or (64 * args.codebook_size if q else 256 * args.codebook_size)
    args.test_frames = args.test_frames or (16384 if q else 65536)
    args.n_iter = args.n_iter or (10 if q else 20)
    memory_frames = args.memory_frames if args.memory_frames is not None else (500_000 if q else 2_000_000)
    memory_stages = args.memory_stages or (2 if q else 24)
    memory_iter = args.memory_iter or (1 if q else 20)

    report = {
        "benchmark": "emobench quantizers",
        "schema_version": 1,
        "machine": machine(args.device),
        "config": {k: v for k, v in vars(args).items() if not k.startswith("_")},
    }
    print(
        f"machine: {report['machine']['processor']}, {report['machine']['torch_threads']} torch threads",
        flush=True,
    )
    if not args.memory_only:
        data = mixture(args.train_frames + args.test_frames, args.dim)
        train, test = data[: args.train_frames], data[args.train_frames :]

        before = matmul_gflops(args.dim, args.codebook_size, args.device)
        print(f"matmul: {before['gflops']:.1f} GFLOP/s", flush=True)
        rvq = bench_rvq(train, test, args, args.device)
        after = matmul_gflops(args.dim, args.codebook_size, args.device)
        peak = max(before["gflops"], after["gflops"])
        report["matmul"] = {"before": before, "after": after}
        report["matmul_gflops"] = peak
        rvq["fraction_of_matmul"] = rvq["effective_gflops"] / peak
        rvq["fraction_of_matmul_per_cpu_s"] = rvq["effective_gflop_per_cpu_s"] / max(
            before["gflop_per_cpu_s"], after["gflop_per_cpu_s"]
        )
        report["rvq"] = rvq
        print(
            f"emobench RVQ {args.stages}x{args.codebook_size} on {len(train)}x{args.dim}: {rvq['train_s']:.1f} s, "
            f"{rvq['effective_gflops']:.1f} GFLOP/s ({100 * rvq['fraction_of_matmul']:.0f}% of matmul by wall "
            f"clock, {100 * rvq['fraction_of_matmul_per_cpu_s']:.0f}% per CPU-second), cosine "
            f"{rvq['cosine_test']:.4f}, encode {rvq['encode_frames_per_s']:.0f} frames/s",
            flush=True,
        )

        if not args.skip_faiss:
            with tempfile.TemporaryDirectory() as tmp:
                np.save(f"{tmp}/train.npy", train)
                np.save(f"{tmp}/test.npy", test)
                common = [
                    "--_worker",
                    "faiss",
                    "--stages",
                    str(args.stages),
                    "--codebook-size",
                    str(args.codebook_size),
                    "--n-iter",
                    str(args.n_iter),
                    "--_paths",
                    f"{tmp}/train.npy",
                    f"{tmp}/test.npy",
                ]
                report["faiss"] = []
                for core in [None, *[c for c in args.coretypes.split(",") if c]]:
                    env = dict(os.environ)
                    if core:
                        env["OPENBLAS_CORETYPE"] = core
                    res = _subprocess(common, env=env)
                    report["faiss"].append(res)
                    print(f"faiss RQ (OPENBLAS_CORETYPE={core or 'auto'}): {res}", flush=True)

    if memory_frames:
        workdir = Path(args.workdir or tempfile.mkdtemp(prefix="emobench-bench-"))
        path = workdir / f"frames-{memory_frames}x{args.dim}-fp16.npy"
        t = time.perf_counter()
        make_memmap(path, memory_frames, args.dim)
        print(f"memmap {path} ready in {time.perf_counter() - t:.0f} s", flush=True)
        res = _subprocess(
            [
                "--_worker",
                "memory",
                "--stages",
                str(memory_stages),
                "--codebook-size",
                str(args.codebook_size),
                "--n-iter",
                str(memory_iter),
                "--device",
                args.device,
                "--_paths",
                str(path),
            ]
        )
        report["memory"] = res
        print(f"memory: {res}", flush=True)
        if not args.workdir:
            path.unlink(missing_ok=True)
            workdir.rmdir()

    text = json.dumps(report, indent=2)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(args.out).with_suffix(".tmp")
        tmp.write_text(text + "\n")
        tmp.replace(args.out)
    print(text)


if __name__ == "__main__":
    main()

"""Quantizer benchmark: emobench's residual VQ trainer vs faiss' ResidualQuantizer, and vs the machine's matmul.

Synthetic Gaussian-mixture frames (D=1024, K=1024 by default). Each trainer runs in its own subprocess (one
BLAS thread pool per process: torch's MKL or faiss' OpenBLAS, never both), alternating, for several Lloyd
iteration budgets and repeats (seeds), so a loaded machine hits both alike. Measured per run:
  * training time, wall clock and CPU seconds (the process' own, which other jobs distort less), and the
    reconstruction cosine on held-out frames; encode throughput;
  * for emobench, in the same process: the matmul ceiling of the trainer's own block shape
    ([chunk, D] x [D, K], fp32, best of several, before and after training) and the fraction of it the trainer
    reaches (FLOPs it spends in matmuls: k-means++ Gram, Lloyd assignments, the final residual assignment).
Speed at equal cosine: each trainer's (CPU seconds, cosine) curve over the budgets; for every emobench point,
the CPU seconds faiss needs for the same cosine (linear interpolation along its curve) over emobench's.
Optionally (--memory-frames), peak memory training from a memory-mapped fp16 .npy.

    python benchmarks/quantizers.py --quick --out benchmarks/results/quantizers-vs-faiss.json
    python benchmarks/quantizers.py --data demo --stages 4 --codebook-size 256
    python benchmarks/quantizers.py --stages 8 --train-frames 262144 --budgets 2,5,10,20

Writes JSON with machine and library versions. Not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def mixture(n: int, dim: int, *, n_clusters: int = 256, seed: int = 0, dtype=np.float32) -> np.ndarray:
    """Gaussian mixture: random cluster centres plus isotropic noise, in chunks (bounded memory)."""
    rng = np.random.default_rng(seed)
    centers = np.random.default_rng(12345).normal(size=(n_clusters, dim)).astype(np.float32)
    out = np.empty((n, dim), dtype=dtype)
    for s in range(0, n, 65536):
        m = min(65536, n - s)
        out[s : s + m] = centers[rng.integers(0, n_clusters, m)] + 0.7 * rng.standard_normal((m, dim), dtype=np.float32)
    return out


def demo_frames(test_frames: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Log-mel frames of emobench's demo corpus (real pipeline features, 80-dim): speakers 1-6 train, 7-8 test."""
    from emobench.cache import FeatureCache
    from emobench.corpora.demo import DemoCorpus
    from emobench.upstreams.fbank import LogMelFbank

    root = Path(tempfile.mkdtemp(prefix="bench-demo-"))
    utts = DemoCorpus(root=root / "demo").load().utterances
    fs = FeatureCache(root).features(LogMelFbank(), utts, layers=[0])
    speakers = sorted({u.speaker for u in utts})

    def block(keep) -> np.ndarray:
        x, _ = fs.block(0, [fs.index(u.id) for u in utts if keep(u.speaker)])
        return np.ascontiguousarray(x, dtype=np.float32)

    train, test = block(lambda s: s in speakers[:6]), block(lambda s: s not in speakers[:6])
    return train, test[:test_frames] if test_frames else test


def machine(device: str = "cpu") -> dict:
    """The machine and library versions a result was measured with."""
    import importlib.metadata as md
    import platform

    import torch

    def version(dist: str) -> str | None:
        try:
            return md.version(dist)
        except md.PackageNotFoundError:
            return None

    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").is_file() else ""
    return {"python": platform.python_version(), "platform": platform.platform(), "processor": cpu,
            "cpu_count": os.cpu_count(), "torch": torch.__version__, "numpy": np.__version__,
            "faiss": version("faiss-cpu"), "ray": version("ray"), "emobench": version("emobench"),
            "torch_threads": torch.get_num_threads(), "device": device, "load_average_at_start": os.getloadavg()}


def write_json(path: str | Path, report: dict) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(report, indent=2) + "\n")
    tmp.replace(path)


def cosine(x: np.ndarray, y: np.ndarray) -> float:
    num = (x * y).sum(1)
    return float((num / (np.linalg.norm(x, axis=1) * np.linalg.norm(y, axis=1) + 1e-12)).mean())


def matmul_ceiling(dim: int, k: int, reps: int = 8) -> dict:
    """fp32 GFLOP/s of the trainer's own distance block [chunk, D] x [D, K], best of ``reps``: by wall clock
    and per CPU-second (which other jobs on the machine distort less)."""
    import torch

    from emobench.quantizers.kmeans import chunk_rows

    rows = chunk_rows(k, dim)
    a, b = torch.randn(rows, dim), torch.randn(k, dim)
    torch.mm(a, b.t())
    wall = cpu = float("inf")
    for _ in range(reps):
        t, c = time.perf_counter(), time.process_time()
        torch.mm(a, b.t())
        wall, cpu = min(wall, time.perf_counter() - t), min(cpu, time.process_time() - c)
    flop = 2 * rows * dim * k
    return {"block": [rows, dim, k], "gflops": flop / wall / 1e9, "gflop_per_cpu_s": flop / max(cpu, 1e-9) / 1e9}


def rvq_flops(fit_info: dict, k: int, dim: int, init_points: int) -> float:
    """Matmul FLOPs of a fit: k-means++ Gram, every Lloyd assignment, the final residual assignment."""
    total = 0.0
    for st in fit_info["stages"]:
        m = min(st["n_train"], max(init_points * k, 256))
        total += 2.0 * m * m * dim + 2.0 * st["n_train"] * k * dim * (st["n_iter"] + 1)
    return total


def rvq_worker(train_path: str, test_path: str, a) -> dict:
    import torch

    from emobench.quantizers.rvq import ResidualVQ

    torch.set_num_threads(a.threads)
    train, test = np.load(train_path), np.load(test_path)
    before = matmul_ceiling(train.shape[1], a.codebook_size)
    q = ResidualVQ(n_stages=a.stages, codebook_size=a.codebook_size, n_iter=a.n_iter, tol=a.tol,
                   max_points_per_centroid=len(train) // a.codebook_size, min_train_frames=0)
    t, c = time.perf_counter(), time.process_time()
    q.fit(train, seed=a.seed)
    wall, cpu = time.perf_counter() - t, time.process_time() - c
    after = matmul_ceiling(train.shape[1], a.codebook_size)
    t = time.perf_counter()
    codes = q.encode(test)
    enc = time.perf_counter() - t
    flops = rvq_flops(q.fit_info, a.codebook_size, train.shape[1], q.params["init_points_per_centroid"])
    ceiling = max(before["gflop_per_cpu_s"], after["gflop_per_cpu_s"])
    return {"train_s": wall, "train_cpu_s": cpu, "cosine_test": cosine(test, q.decode(codes)),
            "n_iter": [s["n_iter"] for s in q.fit_info["stages"]], "encode_frames_per_s": len(test) / enc,
            "gflop": flops / 1e9, "gflop_per_cpu_s": flops / cpu / 1e9, "ceiling": {"before": before, "after": after},
            "fraction_of_matmul_per_cpu_s": flops / cpu / 1e9 / ceiling,
            "fraction_of_matmul_wall": flops / wall / 1e9 / max(before["gflops"], after["gflops"])}


def faiss_worker(train_path: str, test_path: str, a) -> dict:
    import faiss

    faiss.omp_set_num_threads(a.threads)
    train, test = np.load(train_path), np.load(test_path)
    rq = faiss.ResidualQuantizer(train.shape[1], a.stages, int(np.log2(a.codebook_size)))
    rq.train_type = faiss.ResidualQuantizer.Train_default  # plain k-means per stage, as ResidualVQ
    rq.max_beam_size = 1  # greedy encoding, as ResidualVQ
    rq.cp.niter, rq.cp.seed = a.n_iter, a.seed
    rq.cp.max_points_per_centroid = len(train) // a.codebook_size
    t, c = time.perf_counter(), time.process_time()
    rq.train(train)
    wall, cpu = time.perf_counter() - t, time.process_time() - c
    t = time.perf_counter()
    codes = rq.compute_codes(test)
    enc = time.perf_counter() - t
    return {"train_s": wall, "train_cpu_s": cpu, "cosine_test": cosine(test, rq.decode(codes)),
            "encode_frames_per_s": len(test) / enc, "faiss": faiss.__version__}


def memory_worker(path: str, a) -> dict:
    """Train on a memory-mapped fp16 .npy through ArrayFrameSource (sampled rows only); poll peak RSS."""
    import mmap
    import threading

    import torch

    from emobench.frames import ArrayFrameSource
    from emobench.quantizers.rvq import ResidualVQ

    torch.set_num_threads(a.threads)
    peak = {"anon_kib": 0, "rss_kib": 0}
    stop = threading.Event()

    def poll():
        while not stop.is_set():
            fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
            peak["anon_kib"] = max(peak["anon_kib"], int(fields.get("RssAnon", "0 kB").split()[0]))
            peak["rss_kib"] = max(peak["rss_kib"], int(fields["VmRSS"].split()[0]))
            time.sleep(0.05)

    thread = threading.Thread(target=poll, daemon=True)
    thread.start()
    frames = np.load(path, mmap_mode="r")
    frames._mmap.madvise(mmap.MADV_RANDOM)  # random row sampling: no readahead of the whole file
    t = time.perf_counter()
    q = ResidualVQ(n_stages=a.stages, codebook_size=a.codebook_size, n_iter=a.n_iter, tol=0.0)
    q.fit(ArrayFrameSource(frames), seed=0)
    train_s = time.perf_counter() - t
    stop.set()
    thread.join()
    return {"frames": int(frames.shape[0]), "dim": int(frames.shape[1]), "stages": a.stages, "train_s": train_s,
            "n_train": q.fit_info["stages"][0]["n_train"], "peak_anon_rss_gib": peak["anon_kib"] / 2**20,
            "peak_rss_gib": peak["rss_kib"] / 2**20}


def memory_run(a) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "frames.npy"
        arr = np.lib.format.open_memmap(path, mode="w+", dtype=np.float16, shape=(a.memory_frames, a.dim))
        for s in range(0, a.memory_frames, 262144):
            m = min(262144, a.memory_frames - s)
            arr[s : s + m] = mixture(m, a.dim, seed=1000 + s // 262144, dtype=np.float16)
        arr.flush()
        del arr
        return spawn(["--_worker", "memory", "--stages", str(a.stages), "--codebook-size", str(a.codebook_size),
                      "--n-iter", "1", "--threads", str(a.threads), "--_paths", str(path)], a.threads)


def spawn(args: list[str], threads: int) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "OMP_WAIT_POLICY": "PASSIVE",
           "OPENBLAS_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    proc = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, env=env, timeout=7200)
    if proc.returncode != 0:
        return {"error": (proc.stderr.strip().splitlines() or [f"rc={proc.returncode}"])[-1]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def curve(runs: list[dict]) -> list[dict]:
    """Per budget: median CPU and wall seconds, mean cosine over the repeats (seeds)."""
    out = []
    for budget in sorted({r["budget"] for r in runs}):
        rs = [r for r in runs if r["budget"] == budget and "error" not in r]
        if rs:
            out.append({"budget": budget, "cpu_s": statistics.median(r["train_cpu_s"] for r in rs),
                        "wall_s": statistics.median(r["train_s"] for r in rs),
                        "cosine": statistics.fmean(r["cosine_test"] for r in rs), "repeats": len(rs)})
    return out


def seconds_at(points: list[dict], cos: float, key: str = "cpu_s") -> float | None:
    """Seconds a trainer needs for cosine ``cos``, interpolated along its curve (None: not reached)."""
    best, prev = -1.0, None
    for p in points:
        if p["cosine"] >= cos:
            if prev is None or p["cosine"] == prev["cosine"]:
                return p[key]
            f = (cos - prev["cosine"]) / (p["cosine"] - prev["cosine"])
            return prev[key] + f * (p[key] - prev[key])
        if p["cosine"] > best:
            best, prev = p["cosine"], p
    return None


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="2 stages on 65,536 frames: minutes on 2 CPU cores")
    p.add_argument("--data", choices=("mixture", "demo"), default="mixture",
                   help="Gaussian mixture (D=--dim), or the demo corpus' log-mel frames (80-dim, real features)")
    p.add_argument("--threads", type=int, default=1, help="BLAS/torch threads per trainer process")
    p.add_argument("--dim", type=int, default=1024)
    p.add_argument("--stages", type=int, default=None)
    p.add_argument("--codebook-size", type=int, default=1024)
    p.add_argument("--train-frames", type=int, default=None)
    p.add_argument("--test-frames", type=int, default=16384)
    p.add_argument("--budgets", default="2,4,10", help="Lloyd iteration budgets (n_iter / niter)")
    p.add_argument("--repeats", type=int, default=2, help="runs per trainer and budget (seeds 0..)")
    p.add_argument("--tol", type=float, default=0.0, help="emobench's tol on the budget curve (0: every iteration)")
    p.add_argument("--memory-frames", type=int, default=0, help="also: peak memory training on N fp16 frames")
    p.add_argument("--out", default=None)
    p.add_argument("--_worker", default=None, help=argparse.SUPPRESS)
    p.add_argument("--_paths", nargs="*", default=None, help=argparse.SUPPRESS)
    p.add_argument("--n-iter", type=int, default=10, help=argparse.SUPPRESS)
    p.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    a = p.parse_args()
    a.stages = a.stages or (2 if a.quick else 8)
    if a._worker:
        work = {"rvq": rvq_worker, "faiss": faiss_worker, "memory": memory_worker}[a._worker]
        print(json.dumps(work(*a._paths, a)))
        return
    if a.train_frames is None:
        a.train_frames = 64 * a.codebook_size if a.quick else 256 * a.codebook_size
    budgets = [int(b) for b in a.budgets.split(",")]
    report = {"benchmark": "emobench quantizers vs faiss", "schema_version": 2, "machine": machine("cpu"),
              "config": {k: v for k, v in vars(a).items() if not k.startswith("_")}, "runs": []}
    if a.data == "demo":
        train, test = demo_frames(a.test_frames)
    else:
        data = mixture(a.train_frames + a.test_frames, a.dim)
        train, test = data[: a.train_frames], data[a.train_frames :]
    report["config"]["train_shape"], report["config"]["test_shape"] = list(train.shape), list(test.shape)
    with tempfile.TemporaryDirectory() as tmp:
        np.save(f"{tmp}/train.npy", train)
        np.save(f"{tmp}/test.npy", test)
        common = ["--stages", str(a.stages), "--codebook-size", str(a.codebook_size), "--threads", str(a.threads),
                  "--_paths", f"{tmp}/train.npy", f"{tmp}/test.npy"]
        order = [(b, s, who) for b in budgets for s in range(a.repeats) for who in (("rvq", "faiss") if s % 2 == 0
                 else ("faiss", "rvq"))]
        order += [(max(budgets), s, "rvq-defaults") for s in range(a.repeats)]
        for budget, seed, who in order:
            extra = ["--tol", "1e-4" if who == "rvq-defaults" else str(a.tol)]
            res = spawn(["--_worker", who.split("-")[0], "--n-iter", str(budget), "--seed", str(seed), *extra,
                         *common], a.threads)
            res.update(trainer=who, budget=budget, seed=seed)
            report["runs"].append(res)
            print(f"{who:13s} budget {budget:3d} seed {seed}: " + (res.get("error") or
                  f"{res['train_cpu_s']:.1f} cpu-s {res['train_s']:.1f} s cosine {res['cosine_test']:.5f}"), flush=True)
    summarize(report)
    if a.memory_frames:
        report["memory"] = memory_run(a)
        print(f"memory: {report['memory']}", flush=True)
    if a.out:
        write_json(a.out, report)
    print(json.dumps({k: report[k] for k in ("summary",)}, indent=2))


def summarize(report: dict) -> None:
    runs = report["runs"]
    ours = curve([r for r in runs if r["trainer"] == "rvq"])
    theirs = curve([r for r in runs if r["trainer"] == "faiss"])
    at_equal = []
    for pt in ours:
        need = seconds_at(theirs, pt["cosine"])
        at_equal.append({"budget": pt["budget"], "cosine": pt["cosine"], "emobench_cpu_s": pt["cpu_s"],
                         "faiss_cpu_s_for_that_cosine": need,
                         "speed_ratio": None if need is None else need / pt["cpu_s"]})
    for pt in theirs:
        need = seconds_at(ours, pt["cosine"])
        pt["emobench_cpu_s_for_that_cosine"] = need
    good = [r for r in runs if r["trainer"] == "rvq" and "error" not in r]
    defaults = curve([r for r in runs if r["trainer"] == "rvq-defaults"])
    report["summary"] = {
        "emobench_curve": ours, "faiss_curve": theirs, "emobench_defaults_tol_1e-4": defaults,
        "speed_ratio_at_equal_cosine": at_equal,  # > 1: emobench needs fewer CPU-seconds for that cosine
        "same_budget_cpu_ratio": [{"budget": o["budget"], "faiss_over_emobench": t["cpu_s"] / o["cpu_s"],
                                   "cosine_emobench_minus_faiss": o["cosine"] - t["cosine"]}
                                  for o, t in zip(ours, theirs)],
        "fraction_of_matmul_per_cpu_s": statistics.median(r["fraction_of_matmul_per_cpu_s"] for r in good) if good
        else None,
        "fraction_of_matmul_wall": statistics.median(r["fraction_of_matmul_wall"] for r in good) if good else None,
    }


if __name__ == "__main__":
    main()

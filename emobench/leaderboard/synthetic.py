"""Schema-valid synthetic results for every task (rq1-rq4, ood-ser), for scale tests and for plugin
authors who want to see a site before running anything.

Each file looks like a real run's (the document of ``emobench.results.document.build``: every fitted
quantizer by role, upstream facts, provenance with extraction speed) and its records have the real
tasks' names and breakdown keys (``synthetic_records``), with units from the task's own spec. The
numbers are made up and every file says ``synthetic: true``. ``make_results(5 * n)`` gives n distinct
systems on every task.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import random
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from emobench.leaderboard import synthetic_records as R
from emobench.results.schema import SCHEMA_VERSION

TASKS = ("rq1", "rq2", "rq3", "rq4", "ood-ser")
# name, frame rate (Hz), dim, layers, parameters, license, trained_on, emotion strength (0..1)
UPSTREAMS = (
    ("fbank", 100.0, 80, 1, None, "MIT (no weights)", [], 0.35),
    ("hubert", 50.0, 1024, 25, 316_000_000, "MIT", ["libri-light"], 0.6),
    ("wavlm", 50.0, 1024, 25, 316_000_000, "MIT", ["libri-light", "gigaspeech", "voxpopuli"], 0.62),
    ("emotion2vec", 50.0, 768, 9, 94_000_000, "emotion2vec model license", ["iemocap", "msp-podcast", "crema-d"], 0.85),
    ("whisper-small", 50.0, 768, 13, 88_000_000, "MIT", ["weakly supervised web audio"], 0.55),
    ("xlsr", 50.0, 1024, 25, 316_000_000, "Apache-2.0", ["mls", "commonvoice", "babel"], 0.5),
)
LAYOUTS = ("8x32", "12x1024", "16x2", "8x64", "8x128", "16x256", "10x4", "12x64", "6x1024")
TABLE1_LAYOUTS = ("8x32", "8x64", "8x128", "32x2", "32x4", "64x2", "128x2")
CORPORA = {"rq1": ["ravdess", "crema-d"], "rq2": ["ravdess", "crema-d"], "rq3": ["iemocap"],
           "rq4": ["msp-podcast", "emns", "enterface", "jl-corpus"], "ood-ser": ["msp-podcast", "emns"]}
ROLES = {"rq1": {"system": ("rvq", "ResidualVQ", None)}, "ood-ser": {"system": ("rvq", "ResidualVQ", None)},
         "rq2": {"balanced": ("rvq", "ResidualVQ", None), "specific": ("emo-specific", "EmoQ", 1.0)},
         "rq3": {"balanced": ("rvq", "ResidualVQ", None), "specific": ("emo-specific", "EmoQ", 1.0),
                 "biased-95": ("emo-biased-95", "EmoQ", 0.95), "biased-99": ("emo-biased-99", "EmoQ", 0.99)},
         "rq4": {"bal": ("rvq", "ResidualVQ", None), "emoq-100": ("emoq", "EmoQ", 1.0), "emoq-99": ("emoq-99", "EmoQ", 0.99)}}


def _quantizer(role: str, preset: str, kind: str, share: float | None, layout: str, seed: int) -> dict[str, Any]:
    n_stages, k = (int(x) for x in layout.split("x"))
    router = kind == "EmoQ"
    params = {"n_stages": n_stages, "codebook_size": k}
    if share is not None:
        params.update(composition="specific" if share == 1.0 else "biased", target_share=share)
    return {"role": role, "preset": f"{preset}-{layout}", "impl": f"emobench.quantizers.{'emoq:EmoQ' if router else 'rvq:ResidualVQ'}",
            "params": params, "kind": kind, "layout": layout, "n_stages": n_stages, "codebook_size": k,
            "codes_per_stage": 1, "level": "frame", "seed": seed,
            "bits_per_frame": {str(d): d * math.log2(k) for d in range(1, n_stages + 1)},
            "route_bits_per_utterance": 2.0 if router else 0.0,
            "storage_bytes": n_stages * k * 4 * (4 if router else 1) * 256, "train_utterances": {"all": 400}}


def _records(task: str, g: R.Gen, qs: list[dict], fps: float) -> list[dict[str, Any]]:
    q = qs[0]
    bps = [b * fps for b in q["bits_per_frame"].values()]
    if task == "rq1":
        return [r for c in CORPORA[task] for r in R.rq1(g, q["n_stages"], q["codebook_size"], c, bps)]
    if task == "rq2":
        return [r for c in CORPORA[task] for r in R.rq2(g, q["n_stages"], c, bps)]
    if task == "rq3":
        return R.rq3(g, q["n_stages"], CORPORA[task][0], bps)
    if task == "rq4":
        return R.rq4(g, list(dict.fromkeys(x["layout"] for x in qs)), CORPORA[task], fps)
    return R.ood_ser(g, q["n_stages"], CORPORA[task], bps)


def make_result(index: int, *, seed: int = 0) -> dict[str, Any]:
    """The ``index``-th synthetic result: tasks cycle fastest, then upstreams, then layouts, then run seeds."""
    from emobench.registries import tasks
    from emobench.results.document import task_info, with_units

    task = TASKS[index % len(TASKS)]
    combos = [(u, v) for v, u in itertools.product(range(len(LAYOUTS)), UPSTREAMS)]  # upstreams cycle first
    (uname, fps, dim, n_layers, n_params, license_, trained_on, strength), variant = combos[(index // len(TASKS)) % len(combos)]
    run_seed = seed + index // (len(TASKS) * len(combos))
    rng = random.Random(f"{seed}:{index}")
    layer = n_layers - 1
    # RQ4 sweeps every Table 1 layout; its variants start the sweep elsewhere (and switch probe after 7)
    layouts = (list(TABLE1_LAYOUTS[variant % 7:] + TABLE1_LAYOUTS[:variant % 7]) if task == "rq4"
               else [LAYOUTS[variant]])
    probe = "mlp" if task == "rq4" and variant >= 7 else "linear"
    qs = [_quantizer(role, preset, kind, share, lay, run_seed)
          for lay in layouts for role, (preset, kind, share) in ROLES[task].items()]
    spec = tasks.get(task).spec
    metrics = with_units(_records(task, R.Gen(rng, strength), qs, fps), spec)
    config = {"upstream": uname, "task": task, "layer": layer, "layouts": layouts, "probe": probe, "seed": run_seed,
              "synthetic": True}
    run_hash = hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()[:16]
    head = qs[0]
    per_depth = {d: b * fps for d, b in head["bits_per_frame"].items()}
    roles = {"rq3": "held-out", "rq4": "ood", "ood-ser": "ood"}.get(task, "train+eval")
    corpora = [{"name": c, "fingerprint": hashlib.sha1(c.encode()).hexdigest()[:16], "n_utterances": 800, "role": roles,
                "synthetic": True, "label_set": list(R.EMOTIONS), "language": "en"} for c in CORPORA[task]]
    if task in ("rq3", "rq4", "ood-ser"):
        corpora.append({"name": "crema-d", "fingerprint": "c" * 16, "n_utterances": 7442, "role": "train",
                        "synthetic": True, "label_set": list(R.EMOTIONS), "language": "en"})
    audio_s = round(rng.uniform(600, 3600), 1)
    extract_s = round(audio_s * rng.uniform(0.002, 0.05), 2)
    return {
        "schema_version": SCHEMA_VERSION, "run_id": f"{task}-{uname}-{head['preset']}-{run_hash[:10]}", "run_hash": run_hash,
        "created_at": (datetime(2026, 1, 1, tzinfo=timezone.utc) + timedelta(minutes=index)).isoformat(),
        "task": task, "synthetic": True, "task_info": task_info(spec), "config": config,
        "resolved": {"identity_version": 2, "task": {"name": task}, "upstream": {"name": uname},
                     "layer": layer, "seed": run_seed, "roles": {q["role"]: {"name": q["preset"]} for q in qs}},
        "upstream": {"name": uname, "layer": layer, "frame_rate_hz": fps, "dim": dim, "n_layers": n_layers,
                     "trained_on": trained_on, "languages": ["en"], "license": license_, "n_parameters": n_params,
                     "identity": {"synthetic": uname}, "dtype": "float32"},
        "quantizer": {"name": head["preset"], "role": head["role"], "kind": head["kind"], "layout": head["layout"],
                      "n_stages": head["n_stages"], "codebook_size": head["codebook_size"],
                      "bitrate": {"frame_rate_hz": fps, "bps_per_depth": per_depth, "bps": per_depth[str(head["n_stages"])],
                                  "route_bits_per_utterance": head["route_bits_per_utterance"],
                                  "continuous_bps": float(dim * 32 * fps), "storage_bytes": head["storage_bytes"]}},
        "quantizers": qs,
        "probe": {"name": probe, "impl": f"emobench.probes.{probe}", "params": {}, "trained": True},
        "corpora": corpora,
        "protocol": {"name": task, "bootstrap": "speaker", "seed": run_seed, "seeds": [run_seed], "limit": None},
        "provenance": {
            "emobench_version": "0.1.0", "git_commit": None,
            "packages": {"python": "3.11", "torch": "2.13.0", "numpy": "2.0"},
            "machine": {"hostname": f"synthetic-{index % 3}", "cpu": "synthetic", "cores": 2},
            "device": "cpu", "dtype": "float32", "seeds": [run_seed],
            "timings_s": {"features": extract_s, "fit": round(rng.uniform(1, 30), 2),
                          "evaluate": round(rng.uniform(0.5, 5), 2), "total": round(extract_s + 40, 2)},
            "extraction": {"extracted_utterances": 800, "audio_s": audio_s, "extract_s": extract_s,
                           "rtf": round(extract_s / audio_s, 5)},
        },
        "metrics": metrics, "predictions_file": None,
        "notes": ["synthetic result made by emobench.leaderboard.synthetic; the numbers are not measurements"],
    }


def make_results(n: int, seed: int = 0) -> list[dict[str, Any]]:
    """``n`` synthetic results: n // 5 distinct systems per task before run seeds repeat."""
    return [make_result(i, seed=seed) for i in range(n)]


def write_results(out_dir: str | Path, n: int, seed: int = 0) -> list[Path]:
    """Write ``n`` synthetic result files (validated) into ``out_dir``; returns their paths."""
    from emobench.fsutil import atomic_write_json
    from emobench.leaderboard.fastcheck import validate_fast

    out_dir = Path(out_dir)
    paths = []
    for doc in make_results(n, seed):
        path = out_dir / f"{doc['run_id']}.json"
        validate_fast(doc, where=str(path))
        atomic_write_json(path, doc)
        paths.append(path)
    return paths

"""A run killed mid-way resumes without recomputing finished shards and gives identical features."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
from tiny_models import ToyUpstream, write_wavs

from emobench.cache import FeatureCache

SCRIPT = """
import json, sys
from tiny_models import ToyUpstream
from emobench.cache import FeatureCache
from emobench.corpora.base import Utterance
utts = [Utterance(**u) for u in json.load(open(sys.argv[2]))]
FeatureCache(sys.argv[1], shard_mb=0.0001).features(ToyUpstream(delay_s=0.4), utts, layers=[0, 1], batch_seconds=0.5)
"""


def test_killed_run_resumes(tmp_path):
    utts = write_wavs(tmp_path / "wav", [0.5] * 12)
    spec = tmp_path / "utts.json"
    spec.write_text(json.dumps([{k: getattr(u, k) for k in ("id", "corpus", "path", "speaker", "label")} for u in utts]))
    script = tmp_path / "run.py"
    script.write_text(textwrap.dedent(SCRIPT))
    root = tmp_path / "cache"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen([sys.executable, str(script), str(root), str(spec)], env=env)
    deadline = time.time() + 60
    manifests: list[Path] = []
    while time.time() < deadline and proc.poll() is None:
        manifests = list(root.glob("features/toy/*/shards/*.json"))
        if len(manifests) >= 3:
            break
        time.sleep(0.05)
    assert proc.poll() is None, "the run finished before it could be killed; raise delay_s"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    done = {k for m in root.glob("features/toy/*/shards/*.json") for k in json.loads(m.read_text())["keys"]}
    assert 3 <= len(done) < len(utts)

    up = ToyUpstream()
    resumed = FeatureCache(root).features(up, utts, layers=[0, 1])
    assert up.calls == len(utts) - len(done)  # finished shards were not recomputed
    fresh = FeatureCache(tmp_path / "fresh").features(ToyUpstream(), utts, layers=[0, 1])
    assert resumed.utt_ids == fresh.utt_ids
    for layer in (0, 1):
        np.testing.assert_array_equal(resumed.pooled(layer), fresh.pooled(layer))
        for i in range(len(utts)):
            np.testing.assert_array_equal(resumed.frames(layer, i), fresh.frames(layer, i))

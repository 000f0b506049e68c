"""The example plugin in tests/plugin_example installs as a package and is found via its entry point.

It is pip-installed into a temporary ``--target`` folder (never the system site-packages) that
subprocesses put on PYTHONPATH: entry points are discovered from the installed ``.dist-info``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PLUGIN_SRC = Path(__file__).parent / "plugin_example"
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def plugin_env(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("plugin")
    src = tmp / "src"
    shutil.copytree(PLUGIN_SRC, src)  # setuptools writes build/ and egg-info beside the sources
    target = tmp / "site"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-build-isolation",
            "--no-deps",
            "--no-index",
            "--disable-pip-version-check",
            "-q",
            "--target",
            str(target),
            str(src),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if proc.returncode != 0:
        pytest.skip(f"could not build the example plugin here: {proc.stderr[-500:]}")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(target), str(REPO), env.get("PYTHONPATH", "")]).rstrip(
        os.pathsep
    )
    env["EMOBENCH_CACHE"] = str(tmp / "cache")
    env["COLUMNS"] = "200"
    return env, tmp


def run_py(env, code: str, *args: str, timeout=120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO,
    )


CLI = "import sys; from emobench.cli.main import app; sys.argv[0] = 'emobench'; app()"


def test_entry_point_registers_and_round_trips(plugin_env):
    env, tmp = plugin_env
    code = f"""
import json, numpy as np
from emobench.registries import quantizers
from emobench.quantizers.base import load_quantizer
entry = quantizers.get("example-rpsq")
q = quantizers.create("example-rpsq", n_stages=4)
x = np.random.default_rng(0).normal(size=(500, 12)).astype("float32")
q.fit(x)
codes = q.encode(x)
errs = [float(((x - q.decode(codes, d)) ** 2).mean()) for d in range(1, 5)]
q.save({str(tmp / "cb")!r})
back = load_quantizer({str(tmp / "cb")!r})
print(json.dumps({{"source": entry.source, "shape": list(codes.shape), "errs": errs,
                  "same": bool((back.encode(x) == codes).all()), "cls": type(back).__module__}}))
"""
    proc = run_py(env, code)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert "entry point example-rpsq" in out["source"] and "emobench-example-plugin" in out["source"]
    assert out["shape"] == [500, 4] and out["same"] and out["cls"] == "emobench_example_plugin"
    assert all(a > b for a, b in zip(out["errs"], out["errs"][1:]))


def test_plugin_shows_in_list(plugin_env):
    env, _ = plugin_env
    proc = run_py(env, CLI, "list", "quantizers")
    assert proc.returncode == 0, proc.stderr
    assert "example-rpsq" in proc.stdout


@pytest.mark.slow
def test_plugin_runs_through_emobench_run(plugin_env):
    env, tmp = plugin_env
    help_proc = run_py(env, CLI, "run", "--help")
    if help_proc.returncode != 0 or "--quantizer" not in help_proc.stdout:
        pytest.skip("`emobench run` is not available yet")
    out = tmp / "results"
    proc = run_py(
        env,
        CLI,
        "run",
        "--quantizer",
        "example-rpsq",
        "--limit",
        "24",
        "--out",
        str(out),
        "--device",
        "cpu",
        timeout=900,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    results = [p for p in out.glob("*.json")]
    assert results, proc.stdout
    assert "example-rpsq" in results[0].read_text()

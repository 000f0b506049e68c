"""emobench installed the three ways users install it works from any directory, as the console script.

Each mode gets a fresh virtual environment of its own, in which only emobench is installed (with
``--no-deps``); the heavy dependencies (torch, transformers, ...) come from this test run's environment
through a one-line ``.pth`` path entry, which adds that folder to ``sys.path`` without executing the
editable-install hooks that live in it. The installed ``emobench`` script then runs from a temporary
working directory, so nothing of the source tree is on ``sys.path`` unless the install put it there.
This is the test that catches an install that only works from the repository root.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MODES = ("editable", "regular", "wheel")


def _run(cmd, **kw) -> subprocess.CompletedProcess:
    out = subprocess.run(cmd, capture_output=True, text=True, **kw)
    assert out.returncode == 0, f"{' '.join(map(str, cmd))} failed ({out.returncode}):\n{out.stdout}\n{out.stderr}"
    return out


def _fresh_env(folder: Path) -> Path:
    """A venv whose own site-packages is empty, with this environment's packages appended to its path."""
    venv.EnvBuilder(with_pip=True, symlinks=True).create(folder)
    python = folder / "bin" / "python"
    child_site = Path(_run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip())
    (child_site / "00-emobench-test-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return python


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(ROOT)])
    (whl,) = out.glob("emobench-*.whl")
    return whl


@pytest.fixture(scope="module")
def demo_cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("cache")  # shared by the modes: the demo corpus is generated once


def test_wheel_holds_only_the_emobench_package(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    top = {n.split("/")[0] for n in names}
    assert top == {"emobench", wheel.name.split("-py")[0] + ".dist-info"}, top
    for kind in ("tasks", "upstreams", "quantizers", "corpora", "probes"):
        assert any(n.startswith(f"emobench/catalogue/{kind}/") and n.endswith(".yaml") for n in names), kind
    assert "emobench/leaderboard/templates/index.html.j2" in names
    assert "emobench/leaderboard/static/style.css" in names


@pytest.mark.slow
@pytest.mark.parametrize("mode", MODES)
def test_installed_console_script_works_from_any_directory(mode, wheel, demo_cache, tmp_path):
    python = _fresh_env(tmp_path / "venv")
    target = {"editable": ["-e", str(ROOT)], "regular": [str(ROOT)], "wheel": [str(wheel)]}[mode]
    _run([python, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", *target])
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(PATH=f"{python.parent}{os.pathsep}{env.get('PATH', '')}", EMOBENCH_CACHE=str(demo_cache),
               PYTHONNOUSERSITE="1", COLUMNS="120")
    script = str(python.parent / "emobench")

    def emobench(*args: str) -> str:
        return _run([script, *args], cwd=work, env=env, timeout=600).stdout

    assert "emobench" in emobench("--help")
    listing = emobench("list", "quantizers")
    assert "rvq-demo" in listing and "emoq" in listing
    where = json.loads(_run([python, "-c", (
        "import json, importlib.util, emobench, emobench.catalogue as c;"
        "print(json.dumps({'pkg': emobench.__file__, 'catalogue': str(c.catalogue_root()),"
        "'tasks': importlib.util.find_spec('tasks') is not None,"
        "'leaderboard': importlib.util.find_spec('leaderboard') is not None}))")], cwd=work, env=env).stdout)
    installed_in_repo = Path(where["pkg"]).resolve().is_relative_to(ROOT)
    assert installed_in_repo == (mode == "editable"), where
    assert Path(where["catalogue"]).resolve().is_relative_to(Path(where["pkg"]).resolve().parent), where
    assert not where["tasks"] and not where["leaderboard"], "nothing generic may become importable"
    emobench("run", "--limit", "40", "--out", "results")
    results = work / "results"
    assert len(list(results.glob("rq1-*.json"))) == 1
    assert (results / "site" / "index.html").is_file()

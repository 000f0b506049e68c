"""The catalogue ships inside a non-editable wheel, and nothing generic lands at site-packages' top level."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    if shutil.which("git") is None:
        pytest.skip("git is needed to copy the source tree")
    out = tmp_path_factory.mktemp("wheel")
    cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(ROOT)]
    try:
        import hatchling  # noqa: F401
    except ImportError:
        cmd.remove("--no-build-isolation")  # let pip fetch the build backend from the package index
    subprocess.run(cmd, check=True, capture_output=True, text=True)
    (whl,) = out.glob("emobench-*.whl")
    return whl


def test_wheel_contains_catalogue_under_the_package(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    top = {n.split("/")[0] for n in names}
    assert top <= {"emobench", f"{wheel.name.split('-')[0]}-{wheel.name.split('-')[1]}.dist-info"}, top
    for section in ("tasks", "upstreams", "quantizers", "leaderboard"):
        assert any(n.startswith(f"emobench/_catalogue/{section}/") for n in names), section
    assert "emobench/_catalogue/tasks/rq1.yaml" in names


def test_installed_wheel_finds_its_catalogue(wheel, tmp_path):
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
                   check=True, capture_output=True, text=True)
    assert not (target / "tasks").exists() and not (target / "quantizers").exists()
    code = (
        "import emobench.catalogue as c, emobench.registries as r;"
        "print(c.catalogue_root());"
        "print(sorted(r.tasks.names()));"
        "print(r.tasks.get('rq1').source)"
    )
    env = {**os.environ, "PYTHONPATH": str(target), "PYTHONNOUSERSITE": "1"}
    out = subprocess.run([sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(target)!r}); {code}"],
                         capture_output=True, text=True, env=env, cwd=tmp_path, check=True).stdout
    root_line, tasks_line, source_line = out.strip().splitlines()
    assert root_line == str(target / "emobench" / "_catalogue")
    assert "rq1" in tasks_line
    assert str(target) in source_line

"""Every `emobench ...` example of the README runs: `run` and `reproduce` as dry runs (every name, role, key
and value resolved and validated), the others for real against small fixtures (fake corpus trees in place of
/data/..., a tiny result folder)."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from emobench.cli.main import app

ROOT = Path(__file__).resolve().parents[1]


def examples() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    out = []
    for block in re.findall(r"```bash\n(.*?)```", text, re.S):
        joined = re.sub(r"\\\n\s*", " ", block)
        for line in joined.splitlines():
            line = re.sub(r"\s+#.*$", "", line).strip()
            for part in re.split(r"\s*&&\s*", line):
                if part.startswith("emobench "):
                    out.append(part)
    return out


EXAMPLES = examples()


def test_the_readme_has_examples_of_every_command():
    commands = {shlex.split(e)[1] for e in EXAMPLES}
    assert {"run", "reproduce", "list", "corpus", "cache", "results", "leaderboard"} <= commands


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """Fake corpus trees for every /data path, a result folder, and a working directory."""
    from corpora_fixtures import make_cremad, make_iemocap, make_ravdess
    from crossling_fixtures import make_trees

    base = tmp_path_factory.mktemp("readme")
    make_cremad(base / "CREMA-D")  # returns its vote table; the tree is the folder
    trees = {"/data/CREMA-D": base / "CREMA-D", "/data/RAVDESS": make_ravdess(base / "RAVDESS"),
             "/data/IEMOCAP_full_release": make_iemocap(base / "IEMOCAP")}
    trees["/data/EMOVO"], trees["/data/ShEMO"] = make_trees(base / "crossling")

    work = base / "work"
    (work / "leaderboard").mkdir(parents=True)
    shutil.copytree(ROOT / "leaderboard" / "results", work / "leaderboard" / "results")
    res = CliRunner().invoke(app, ["run", "--limit", "24", "-T", "n_boot=20", "--out", str(work / "emobench-results"),
                                   "--cache-dir", str(base / "cache"), "--no-site"])
    assert res.exit_code == 0, res.output
    return base, trees, work


def substitute(example: str, trees: dict[str, Path]) -> str:
    for path, tree in trees.items():
        example = example.replace(path, str(tree))
    return example


@pytest.mark.parametrize("example", EXAMPLES)
def test_readme_example_runs(example, world, monkeypatch):
    base, trees, work = world
    monkeypatch.chdir(work)
    monkeypatch.setenv("EMOBENCH_CACHE", str(base / "cache"))
    args = shlex.split(substitute(example, trees))[1:]
    if args[0] in ("run", "reproduce"):
        args.append("--dry-run")
    if args[:2] == ["leaderboard", "serve"]:
        site = work / "site"
        if not (site / "index.html").exists():
            assert CliRunner().invoke(app, ["leaderboard", "build", "--results", "emobench-results", "--out",
                                            str(site)]).exit_code == 0
        proc = subprocess.Popen([sys.executable, "-m", "emobench.cli.main", *args, "--port", "0"], cwd=work,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            line = proc.stdout.readline()
            assert "serving" in line, line
        finally:
            proc.terminate()
            proc.wait(timeout=10)
        return
    start = time.perf_counter()
    res = CliRunner().invoke(app, args, terminal_width=200)
    assert res.exit_code == 0, f"{example}\n{res.output}"
    assert time.perf_counter() - start < 300

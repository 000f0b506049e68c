"""What a run leaves behind is readable by others, and what it prints makes sense outside a terminal."""

from __future__ import annotations

import io
import os
import stat

import pytest
from typer.testing import CliRunner

from emobench.cli.main import app
from emobench.cli.ui import LineProgress, make_progress


@pytest.fixture
def umask_022():
    before = os.umask(0o022)
    yield
    os.umask(before)


def test_results_and_site_get_the_users_umask_not_private_modes(tmp_path, umask_022):
    out = tmp_path / "out"
    res = CliRunner().invoke(app, ["run", "--limit", "24", "-T", "n_boot=20", "--out", str(out), "--cache-dir",
                                   str(tmp_path / "cache")])
    assert res.exit_code == 0, res.output
    files = [p for p in out.rglob("*") if p.is_file()]
    folders = [out / "site", *[p for p in (out / "site").rglob("*") if p.is_dir()]]
    assert files and all(stat.S_IMODE(p.stat().st_mode) == 0o644 for p in files), \
        sorted({oct(stat.S_IMODE(p.stat().st_mode)) for p in files})
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o755 for p in folders)
    codebooks = [p for p in (tmp_path / "cache" / "codebooks").rglob("*") if p.is_file()]
    assert codebooks and all(stat.S_IMODE(p.stat().st_mode) == 0o644 for p in codebooks)


def test_progress_outside_a_terminal_is_plain_throttled_lines_with_eta():
    stream = io.StringIO()
    with LineProgress(stream, interval_s=0.0) as progress:
        task = progress.add_task("extracting fbank", total=4)
        for _ in range(4):
            progress.advance(task)
    lines = stream.getvalue().splitlines()
    assert lines[0] == "[start] extracting fbank (total 4)"
    assert any(line.startswith("[running] extracting fbank: 2/4 (50%), ETA") for line in lines)
    assert lines[-1].startswith("[done] extracting fbank: 4/4, elapsed")
    quiet = io.StringIO()
    with LineProgress(quiet, interval_s=60.0) as progress:  # at most one line per interval while running
        task = progress.add_task("fitting", total=1000)
        for _ in range(999):
            progress.advance(task)
    assert len(quiet.getvalue().splitlines()) == 1


def test_make_progress_picks_lines_when_not_a_terminal():
    assert isinstance(make_progress(interactive=False), LineProgress)
    assert not isinstance(make_progress(interactive=True), LineProgress)


def test_reproduce_reports_run_k_of_n_and_ends_with_a_summary_table(tmp_path):
    res = CliRunner().invoke(app, ["reproduce", "-t", "rq1", "-t", "ood-ser", "--limit", "24", "-T", "rq1.n_boot=20",
                                   "-T", "ood-ser.n_boot=20", "--out", str(tmp_path / "o"), "--cache-dir",
                                   str(tmp_path / "c"), "--no-site"], terminal_width=200)
    assert res.exit_code == 0, res.output
    assert "run 1 of 2: rq1 x fbank" in res.output and "run 2 of 2: ood-ser x fbank" in res.output
    assert "reproduce: 2 runs into" in res.output and "ran" in res.output

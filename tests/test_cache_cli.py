"""`emobench cache ls|verify|clear` on a small cache; the module imports no torch."""

from __future__ import annotations

import subprocess
import sys

from tiny_models import ToyUpstream, write_wavs
from typer.testing import CliRunner

from emobench.cache import FeatureCache
from emobench.cli.cache import app


def test_cli_module_imports_no_torch():
    code = "import sys, emobench.cli.cache; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_ls_verify_clear(tmp_path):
    utts = write_wavs(tmp_path / "wav", [0.5, 0.7])
    fs = FeatureCache(tmp_path / "c").features(ToyUpstream(), utts, layers=[0])
    runner = CliRunner()
    res = runner.invoke(app, ["ls", "--cache-dir", str(tmp_path / "c")])
    assert res.exit_code == 0, res.output
    assert "toy" in res.output and "whole cache" in res.output
    assert runner.invoke(app, ["verify", "--cache-dir", str(tmp_path / "c")]).exit_code == 0
    frames = next((fs.entry_dir / "shards").glob("*.frames.npy"))
    frames.write_bytes(frames.read_bytes()[:-4])
    res = runner.invoke(app, ["verify", "--cache-dir", str(tmp_path / "c")])
    assert res.exit_code == 1 and "problem" in res.output
    assert runner.invoke(app, ["verify", "--fix", "--cache-dir", str(tmp_path / "c")]).exit_code == 0
    res = runner.invoke(app, ["clear", "--upstream", "toy", "--yes", "--cache-dir", str(tmp_path / "c")])
    assert res.exit_code == 0 and "deleted" in res.output
    assert not (tmp_path / "c" / "features" / "toy").exists()


def test_orphans_of_a_killed_writer_leave_the_cache_valid_and_fix_deletes_the_old_ones(tmp_path):
    import os
    import time

    utts = write_wavs(tmp_path / "wav", [0.5])
    fs = FeatureCache(tmp_path / "c").features(ToyUpstream(), utts, layers=[0])
    shards = fs.entry_dir / "shards"
    old, fresh = shards / ".x.frames.npy.abc.tmp", shards / ".y.frames.npy.def.tmp"  # as atomic_path names them
    old.write_bytes(b"half")
    fresh.write_bytes(b"being written")
    os.utime(old, (time.time() - 3600, time.time() - 3600))
    runner = CliRunner()
    res = runner.invoke(app, ["verify", "--cache-dir", str(tmp_path / "c")])
    text = " ".join(res.output.split())
    assert res.exit_code == 0, text  # nothing reads them: valid
    assert "2 unused file(s) left by interrupted runs" in text and "all checksums match" in text
    res = runner.invoke(app, ["verify", "--fix", "--cache-dir", str(tmp_path / "c")])
    assert res.exit_code == 0 and "1 older than 15 min deleted" in " ".join(res.output.split())
    assert not old.exists() and fresh.exists()  # a running writer's file is left alone

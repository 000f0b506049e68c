"""The Ray executor on a real local cluster (``ray.init(num_cpus=2)``, no mocks): a reproduce plan gives
byte-identical metrics to the local executor; a worker SIGKILLed mid-extraction is retried by Ray and the
run completes identically; the cache stays valid (``emobench cache verify``)."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from emobench import reproduce as rep
from emobench.config import RunConfig

ray = pytest.importorskip("ray")
pytestmark = pytest.mark.slow
TASKS = ["rq1", "rq4"]
TASK_PARAMS = {"rq4": {"layouts": ["8x32", "32x2"]}}


@pytest.fixture(scope="module")
def cluster():
    ray.init(num_cpus=2, include_dashboard=False, logging_level="WARNING")
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def local(tmp_path_factory):
    """The plan run by the default local executor: the reference."""
    root = tmp_path_factory.mktemp("local")
    base = RunConfig(limit=24, task_params={"n_boot": 20}, corpora={"demo": str(root / "demo")})
    planned = rep.reproduce(rep.plan(["fbank"], TASKS, base, task_params=TASK_PARAMS), out_dir=root / "out",
                            cache_root=root / "cache", device="cpu", log=lambda m: None)
    assert [p.status for p in planned] == ["ran", "ran"]
    return base, planned, root


def metrics_csvs(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.metrics.csv"))}


def cache_verify(root: Path):
    from emobench.cli.main import app

    return CliRunner().invoke(app, ["cache", "verify", "--cache-dir", str(root)])


def test_a_plan_on_ray_equals_the_local_executor(cluster, local, tmp_path):
    from emobench.executors import make_executor

    base, reference, root = local
    executor = make_executor("ray")
    assert executor.workers == 2
    lines = []
    planned = rep.reproduce(rep.plan(["fbank"], TASKS, base, task_params=TASK_PARAMS), out_dir=tmp_path / "out",
                            cache_root=tmp_path / "cache", device="cpu", executor=executor, log=lines.append)
    assert [p.status for p in planned] == ["ran", "ran"], lines
    assert [p.run_hash for p in planned] == [p.run_hash for p in reference]
    assert metrics_csvs(tmp_path / "out") == metrics_csvs(root / "out")  # byte for byte
    assert any(line.startswith("features: 8 shard(s) on ray (2 at a time)") for line in lines)
    assert "fits: 2 part(s) on ray (2 at a time)" in lines  # RQ4 fans out one unit per layout
    assert cache_verify(tmp_path / "cache").exit_code == 0
    again = rep.reproduce(rep.plan(["fbank"], TASKS, base, task_params=TASK_PARAMS), out_dir=tmp_path / "out",
                          cache_root=tmp_path / "cache", device="cpu", executor=executor, log=lambda m: None)
    assert [p.status for p in again] == ["done", "done"]  # resumable: nothing is re-run


def _descends_from(pid: int, ancestor: int) -> bool:
    while pid > 1:
        if pid == ancestor:
            return True
        try:
            fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
        except OSError:
            return False
        pid = int(fields["PPid"])
    return False


def _kill_first_extraction(killed: list[int], stop: threading.Event) -> None:
    """SIGKILL the first worker of *this* test's cluster seen running an extraction shard, 20 ms into it (a warm
    worker extracts a shard of the demo corpus in well under a second)."""
    me = os.getpid()
    while not stop.is_set() and not killed:
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit():
                continue
            try:
                title = (proc / "cmdline").read_bytes().split(b"\0")[0]
            except OSError:
                continue
            if title.startswith(b"ray::extract_shard") and _descends_from(int(proc.name), me):
                time.sleep(0.02)
                try:
                    still = (proc / "cmdline").read_bytes().startswith(b"ray::extract_shard")
                except OSError:  # it finished and its process is gone: wait for the next shard
                    continue
                if still:
                    os.kill(int(proc.name), signal.SIGKILL)
                    killed.append(int(proc.name))
                    return
        time.sleep(0.01)


def test_a_worker_killed_mid_extraction_is_retried_and_the_run_completes_identically(cluster, local, tmp_path):
    from emobench.executors import make_executor
    from emobench.executors.plan import run_plan

    base, reference, root = local
    killed: list[int] = []
    lines: list[str] = []
    stop = threading.Event()
    killer = threading.Thread(target=_kill_first_extraction, args=(killed, stop), daemon=True)
    killer.start()
    try:  # 2 large shards (one per worker) so the kill lands while one is extracting
        planned = run_plan(rep.plan(["fbank"], ["rq1"], base), executor=make_executor("ray", max_retries=2),
                           out_dir=tmp_path / "out", cache_root=tmp_path / "cache", device="cpu",
                           shards_per_worker=1, log=lines.append)
    finally:
        stop.set()
        killer.join()
    assert killed, "no extraction worker was seen running; nothing was killed"
    assert [p.status for p in planned] == ["ran"]
    assert not [line for line in lines if "shard" in line and "failed" in line], lines  # retried, not lost
    assert any("256 of 256 utterances extracted" in line for line in lines), lines
    reference_rq1 = {k: v for k, v in metrics_csvs(root / "out").items() if k.startswith("rq1-")}
    assert metrics_csvs(tmp_path / "out") == reference_rq1
    result = cache_verify(tmp_path / "cache")
    assert result.exit_code == 0, result.output
    assert "all checksums match" in " ".join(result.output.split())  # a killed write leaves at most unused files


def test_input_errors_come_back_as_outcomes_and_bugs_propagate(cluster, local):
    import json

    from emobench.executors import Work, make_executor
    from emobench.executors.work import execute_run

    base, reference, root = local
    config = reference[0].config
    wrong = Work(execute_run, (config, str(root / "cache"), "cpu", "skip", "0" * 16, 1), label="wrong hash")
    out = make_executor("ray").map([Work(json.loads, ("7",), "ok"), wrong])
    assert out[0].value == 7 and out[1].value is None
    assert "sees other corpus content than the driver" in str(out[1].error)  # not retried: a clear error
    with pytest.raises(ValueError):  # not an EmobenchError: a bug, raised on the driver
        make_executor("ray").map([Work(json.loads, ("x",), "bug")])

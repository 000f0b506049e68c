"""The executor abstraction without Ray: the local executor, shard planning, device placement, the plan
flow on the local executor (identical results to the default loop), and the missing-extra message."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from emobench import reproduce as rep
from emobench.config import RunConfig
from emobench.corpora.base import Utterance
from emobench.errors import EmobenchError
from emobench.executors import Executor, Work, make_executor
from emobench.executors.shards import shard_utterances


def _double(x):
    return 2 * x


def _refuse(x):
    raise EmobenchError(f"no {x}")


def _bug(x):
    raise ZeroDivisionError(x)


def test_local_map_keeps_order_and_turns_input_errors_into_outcomes():
    seen = []
    out = Executor().map([Work(_double, (3,), "a"), Work(_refuse, ("b",), "b"), Work(_double, (5,), "c")],
                         on_done=lambda o: seen.append(o.work.label))
    assert [o.value for o in out] == [6, None, 10] and seen == ["a", "b", "c"]
    assert not out[1].ok and str(out[1].error) == "no b"
    assert out[0].finished_s <= out[2].finished_s
    with pytest.raises(ZeroDivisionError):  # a bug is not an outcome
        Executor().map([Work(_bug, (1,), "bug")])


def test_executor_names_and_address_are_checked():
    assert make_executor("local").name == "local"
    with pytest.raises(EmobenchError, match="unknown executor 'dask'"):
        make_executor("dask")
    with pytest.raises(EmobenchError, match="--address is for --executor ray"):
        make_executor("local", address="auto")


def _clips(tmp_path: Path, seconds: list[float]) -> list[Utterance]:
    utts = []
    for i, s in enumerate(seconds):
        path = tmp_path / f"u{i:02d}.wav"
        sf.write(path, np.zeros(int(16000 * s), dtype=np.float32), 16000)
        utts.append(Utterance(id=f"c/u{i:02d}", corpus="c", path=str(path), speaker="s", label="neutral"))
    return utts


def test_shards_cover_every_utterance_once_longest_first_and_balanced(tmp_path):
    seconds = [1.0, 3.0, 2.0, 0.5, 4.0, 2.5, 1.5, 3.5]
    utts = _clips(tmp_path, seconds)
    by_id = {u.id: sec for u, sec in zip(utts, seconds)}
    for n in (1, 2, 3, 8, 20):
        shards = shard_utterances(utts, n)
        flat = [u.id for s in shards for u in s]
        assert sorted(flat) == sorted(by_id) and len(shards) == min(n, len(utts))
        assert [by_id[i] for i in flat] == sorted(seconds, reverse=True)  # contiguous ranges of that order
        totals = [sum(by_id[u.id] for u in s) for s in shards]
        assert max(totals) - min(totals) <= max(seconds)  # balanced to within one clip


def test_device_placement_for_workers():
    from emobench.device import placement

    assert placement("auto", 0) == ("cpu", 0.0)
    assert placement("auto", 4) == ("cuda", 1.0)
    assert placement("cuda:3", 8) == ("cuda", 1.0)  # a worker sees only its own GPU
    assert placement("cpu", 8) == ("cpu", 0.0)
    with pytest.raises(EmobenchError, match="executor has no GPU"):
        placement("cuda", 0)


def metrics_csvs(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.metrics.csv"))}


@pytest.mark.slow
def test_plan_on_the_local_executor_equals_the_default_loop(tmp_path):
    from emobench.executors.plan import run_plan

    base = RunConfig(limit=24, task_params={"n_boot": 20}, corpora={"demo": str(tmp_path / "demo")})
    a = rep.reproduce(rep.plan(["fbank"], ["rq1"], base), out_dir=tmp_path / "a", cache_root=tmp_path / "ca",
                      device="cpu", log=lambda m: None)
    b = run_plan(rep.plan(["fbank"], ["rq1"], base), executor=Executor(), out_dir=tmp_path / "b",
                 cache_root=tmp_path / "cb", device="cpu", log=lambda m: None)
    assert [p.status for p in a] == [p.status for p in b] == ["ran"]
    assert a[0].run_hash == b[0].run_hash
    assert metrics_csvs(tmp_path / "a") == metrics_csvs(tmp_path / "b") != {}
    again = run_plan(rep.plan(["fbank"], ["rq1"], base), executor=Executor(), out_dir=tmp_path / "b",
                     cache_root=tmp_path / "cb", device="cpu", log=lambda m: None)
    assert again[0].status == "done"  # resumable like the default loop


def test_without_ray_the_option_names_the_extra():
    code = ("import sys; sys.modules['ray'] = None\n"  # as if ray were not installed
            "from emobench.executors import make_executor\n"
            "try:\n    make_executor('ray')\nexcept Exception as e:\n    print(type(e).__name__, e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120).stdout
    assert out.startswith("MissingExtraError") and "pip install 'emobench[ray]'" in out and "--executor ray" in out


def test_a_worker_builds_an_upstream_once_for_all_its_shards():
    import torch

    from emobench.config import RunConfig
    from emobench.executors.work import _upstream
    from emobench.resolve import resolve

    fbank = resolve(RunConfig(upstream="fbank")).upstream
    first = _upstream(fbank, torch.device("cpu"))
    assert _upstream(fbank, torch.device("cpu")) is first  # the next shard reuses the model
    other = resolve(RunConfig(upstream="fbank", upstream_params={"n_mels": 40})).upstream
    assert _upstream(other, torch.device("cpu")) is not first  # other params: another model, the old one dropped

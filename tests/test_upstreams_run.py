"""`emobench run` end to end against local model directories (tiny random models built here), one per
backend, and a second run that reads its features back from the cache."""

from __future__ import annotations

import importlib.util

import pytest
from typer.testing import CliRunner

from emobench.cli.main import app
from emobench.results import read_result


def _wavlm(tmp):
    from tiny_models import save_tiny_hf

    return save_tiny_hf(tmp / "wavlm", "wavlm")


def _hubert(tmp):
    from tiny_models import save_tiny_hf

    return save_tiny_hf(tmp / "hubert", "hubert")


def _whisper(tmp):
    from tiny_models import save_tiny_hf

    return save_tiny_hf(tmp / "whisper", "whisper")


def _emotion2vec(tmp):
    from tiny_models import save_tiny_e2v

    return save_tiny_e2v(tmp / "e2v")


def _s3prl(tmp):
    from tiny_models import save_tiny_s3prl_wavlm

    return save_tiny_s3prl_wavlm(tmp / "wavlm.pt")


CASES = [
    ("wavlm", _wavlm, None),
    ("hubert", _hubert, None),
    ("whisper-small", _whisper, None),
    ("emotion2vec", _emotion2vec, "funasr"),
    ("wavlm-s3prl", _s3prl, "s3prl"),
]


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("cache")  # shared: the demo corpus is generated once


@pytest.mark.parametrize(("upstream", "build", "extra"), CASES, ids=[c[0] for c in CASES])
def test_run_against_a_local_model_then_from_cache(upstream, build, extra, tmp_path, cache_dir):
    if extra and importlib.util.find_spec(extra) is None:
        pytest.skip(f"the {extra} extra is not installed")
    model = build(tmp_path)
    args = ["run", "-u", upstream, "-U", f"model={model}", "-q", "rvq-demo", "-Q", "n_stages=2",
            "--limit", "24", "--cache-dir", str(cache_dir), "--no-site", "--threads", "1"]
    first = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "a")])
    assert first.exit_code == 0, first.output
    doc = read_result(next((tmp_path / "a").glob("*.json")))
    assert doc["upstream"]["name"] == upstream and doc["upstream"]["dim"] == 32
    assert doc["provenance"]["timings_s"]["features"] > 0
    second = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "b")])
    assert second.exit_code == 0, second.output
    again = read_result(next((tmp_path / "b").glob("*.json")))
    assert [m["value"] for m in again["metrics"]] == [m["value"] for m in doc["metrics"]]
    # features and codebooks came from the cache: no extraction batches, no k-means
    assert again["provenance"]["timings_s"]["features"] < doc["provenance"]["timings_s"]["features"]
    assert again["provenance"]["timings_s"].get("fit", 0.0) == 0.0

"""The result files shipped in ``leaderboard/results/``: each validates against the schema, none is
synthetic, every one has its predictions beside it, and the site builds from them with no problems."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from emobench.leaderboard.build import build_site
from emobench.results import read_result, validate_result

PUBLISHED = Path(__file__).resolve().parents[1] / "leaderboard" / "results"
FILES = sorted(p for p in PUBLISHED.rglob("*.json") if "schema_version" in p.read_text(encoding="utf-8")[:4000])


def test_results_are_published():
    assert len(FILES) >= 8, f"expected the dev results in {PUBLISHED}"


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_each_published_file_is_a_valid_real_run_with_its_predictions(path):
    doc = json.loads(path.read_text(encoding="utf-8"))
    validate_result(doc)
    assert read_result(path)["run_hash"] == doc["run_hash"]
    assert not doc["synthetic"], f"{path.name}: synthetic results are not published"
    assert all(not c["synthetic"] for c in doc["corpora"]), path.name
    assert path.with_name(path.name.removesuffix(".json") + ".predictions.csv").is_file(), path.name
    assert doc["metrics"], path.name
    if doc["task"] == "rq4":  # one record per layout, role and OOD mean, whatever depth each seed chose
        keys = [(m["breakdown"]["layout"], m["breakdown"]["role"]) for m in doc["metrics"]
                if m["name"] == "macro_f1_delta" and m["breakdown"].get("corpus") == "mean"]
        assert len(keys) == len(set(keys)) == 6, keys
        assert all(len(m["per_seed"]) == 3 for m in doc["metrics"]
                   if m["name"] == "macro_f1_delta" and m["breakdown"].get("corpus") == "mean")


def test_the_site_builds_from_the_published_results_with_no_problems(tmp_path):
    report = build_site([PUBLISHED], tmp_path / "site")
    assert report.ok, [str(p) for p in report.problems]
    assert report.n_runs == len(FILES)
    index = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    assert "whisper-ct2" in index and "fbank" in index

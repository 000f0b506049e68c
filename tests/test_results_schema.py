"""Result schema: round trip, rejection with file + field, unknown versions, v1 upgrade, CSV shape."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from emobench.errors import SchemaError
from emobench.results import read_result, validate_result, write_result
from emobench.results.records import metric


def task_info():
    from emobench.registries import tasks
    from emobench.results.document import task_info

    return task_info(tasks.get("rq1").spec)


def make_doc(**overrides):
    doc = {
        "schema_version": 2, "run_id": "rq1-fbank-rvq-abc", "created_at": "2026-11-23T12:00:00+00:00",
        "task": "rq1", "synthetic": True, "config": {"upstream": "fbank"}, "run_hash": "0123456789abcdef",
        "task_info": task_info(),
        "upstream": {"name": "fbank", "layer": 0, "frame_rate_hz": 100.0, "dim": 80, "trained_on": []},
        "quantizer": {"name": "rvq-demo", "layout": "8x64", "n_stages": 8, "codebook_size": 64},
        "corpora": [{"name": "demo", "fingerprint": "ff00", "n_utterances": 10, "role": "train+eval"}],
        "protocol": {"name": "rq1", "seed": 0},
        "provenance": {
            "emobench_version": "0.1.0", "git_commit": None, "packages": {"torch": "2.13.0"},
            "machine": {"n_cpus": 2}, "device": "cpu", "dtype": "float32", "batch_size": None, "seeds": [0],
            "timings_s": {"total": 1.5},
        },
        "metrics": [
            metric("uar", 0.5, depth=1, corpus="demo", ci=(0.4, 0.6), n=10),
            metric("recall", float("nan"), depth=1, emotion="sad"),
        ],
    }
    doc.update(overrides)
    return doc


def test_round_trip_writes_json_csv_and_predictions(tmp_path):
    preds = pd.DataFrame({"utt_id": ["a", "b"], "pred": ["sad", "angry"]})
    path = write_result(make_doc(), tmp_path, predictions=preds)
    doc = read_result(path)
    assert doc["predictions_file"] == "rq1-fbank-rvq-abc.predictions.csv"
    assert doc["metrics"][1]["value"] is None  # NaN is stored as null
    assert doc["metrics"][0]["unit"] == "fraction" and doc["metrics"][0]["direction"] == "higher"
    csv = pd.read_csv(tmp_path / "rq1-fbank-rvq-abc.metrics.csv")
    assert list(csv["metric"]) == ["uar", "recall"] and csv.loc[0, "depth"] == 1 and csv.loc[1, "emotion"] == "sad"
    assert pd.read_csv(tmp_path / doc["predictions_file"]).shape == (2, 2)
    assert (tmp_path / doc["skipped_file"]).read_text().splitlines() == ["utt_id,reason"]


def test_a_version_1_file_is_upgraded_on_read(tmp_path):
    v1 = make_doc(schema_version=1, config_hash="0123456789abcdef")
    del v1["run_hash"], v1["task_info"]
    path = tmp_path / "old.json"
    path.write_text(json.dumps(v1))
    doc = read_result(path)
    assert doc["schema_version"] == 2 and doc["run_hash"] == "0123456789abcdef"
    assert doc["task_info"]["title"].startswith("RQ1")


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda d: d.pop("metrics"), "(top level)"),
        (lambda d: d["metrics"][0].update(direction="up"), "metrics/0/direction"),
        (lambda d: d["upstream"].update(frame_rate_hz=0), "upstream/frame_rate_hz"),
        (lambda d: d.update(run_hash="not-hex!"), "run_hash"),
        (lambda d: d["metrics"][0]["breakdown"].update(depth=1e30), "metrics/0/breakdown/depth"),
        (lambda d: d["metrics"][0].update(value=float("nan")), "metrics/0/value"),
        (lambda d: d["metrics"][0].update(ci_high=float("inf")), "metrics/0/ci_high"),
    ],
)
def test_invalid_documents_name_the_field(mutate, field):
    doc = make_doc()
    mutate(doc)
    with pytest.raises(SchemaError, match=re.escape(f"where.json: field {field}")):
        validate_result(doc, where="where.json")


def test_future_and_unknown_versions_get_clear_messages(tmp_path):
    with pytest.raises(SchemaError, match="schema_version 99 is not supported.*upgrade emobench"):
        validate_result(make_doc(schema_version=99))
    with pytest.raises(SchemaError, match="schema_version None"):
        validate_result(make_doc(schema_version=None))
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(SchemaError, match="bad.json: not valid JSON"):
        read_result(bad)
    bad.write_text(json.dumps(make_doc(schema_version=3)))
    with pytest.raises(SchemaError, match="bad.json: schema_version 3"):
        read_result(bad)
    bad.write_text("[" * 100_000 + "]" * 100_000)  # deeper than any JSON parser's recursion
    with pytest.raises(SchemaError, match="bad.json: nested too deeply"):
        read_result(bad)
    deep: dict = {}
    node = deep
    for _ in range(100):
        node["x"] = {}
        node = node["x"]
    with pytest.raises(SchemaError, match="nested deeper than"):
        validate_result(make_doc(config=deep))


def test_invalid_result_is_not_written(tmp_path):
    doc = make_doc()
    doc["metrics"][0]["value"] = "high"
    with pytest.raises(SchemaError):
        write_result(doc, tmp_path)
    assert not (tmp_path / "rq1-fbank-rvq-abc.json").exists()

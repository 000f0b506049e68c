"""The tidy metrics table (``emobench.results.load`` / ``emobench results table``): stable columns, integer
dtypes, one encoding of the continuous baseline, the bitrate actually sent on every quantized row."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from emobench.leaderboard.synthetic import make_result, write_results
from emobench.results import load, tidy
from emobench.results.table import COLUMNS, INTEGER, config_hash
from emobench.tasks.records import rec

ISSUE_COLUMNS = ["task", "run_id", "config_hash", "upstream", "quantizer", "layout", "probe", "layer", "seed", "corpus",
                 "role", "condition", "depth", "stage", "emotion", "stratum", "metric", "value", "unit", "ci_low",
                 "ci_high", "n", "bps"]  # the issue's list, in its order


def _with(doc, records):
    from emobench.registries import tasks
    from emobench.results.document import with_units

    return {**doc, "metrics": with_units(records, tasks.get(doc["task"]).spec)}


def test_columns_are_stable_and_integers_load_as_integers():
    frame = tidy([make_result(i) for i in range(5)])
    assert list(frame.columns[: len(ISSUE_COLUMNS)]) == ISSUE_COLUMNS
    assert list(frame.columns) == list(COLUMNS)  # every known key, always, in order
    for col in INTEGER:
        assert str(frame[col].dtype) == "Int64", col
    assert str(frame["value"].dtype) == "float64" and str(frame["synthetic"].dtype) == "boolean"
    assert set(frame["task"]) == {"rq1", "rq2", "rq3", "rq4", "ood-ser"}
    empty = tidy([])
    assert list(empty.columns) == list(COLUMNS) and len(empty) == 0


def test_the_continuous_baseline_is_encoded_one_way():
    doc = make_result(0)  # rq1 (its records carry role=system on the baseline too)
    v1_style = _with(make_result(3), [rec("macro_f1", 0.5, n=10, corpus="a", baseline="continuous")])
    frame = tidy([doc, v1_style])
    cont = frame[frame["condition"] == "continuous"]
    assert len(cont) > 10 and set(cont["task"]) == {"rq1", "rq4"}
    assert cont[["role", "quantizer", "layout", "depth"]].isna().all().all()
    up = doc["upstream"]
    assert (cont.loc[cont.task == "rq1", "bps"] == up["dim"] * 32 * up["frame_rate_hz"]).all()
    assert "baseline" not in frame.columns  # the legacy marker became condition=continuous
    assert frame.loc[frame.condition != "continuous", "quantizer"].notna().all()


def test_every_quantized_row_carries_the_bits_that_role_sent():
    doc = _with(make_result(3), [  # rq4: one bitrate record per (role, layout, depth), for the OOD mean
        rec("bitrate", 2501.0, corpus="mean", depth=5, layout="8x32", role="emoq-100"),
        rec("macro_f1", 0.6, n=10, corpus="msp-podcast", condition="quantized", depth=5, layout="8x32", role="emoq-100"),
        rec("macro_f1", 0.5, n=10, corpus="msp-podcast", condition="selection", depth=3, layout="8x32", role="emoq-100"),
        rec("macro_f1", 0.5, n=10, corpus="msp-podcast", condition="selection", depth=3, layout="8x32", role="bal"),
    ])
    frame = tidy([doc]).set_index(["condition", "role"])
    assert frame.loc[("quantized", "emoq-100"), "bps"] == 2501.0  # per-corpus rows use the mean's record
    assert pd.isna(frame.loc[("selection", "emoq-100"), "bps"])  # a router's route bits are unknown there
    fps = doc["upstream"]["frame_rate_hz"]
    assert frame.loc[("selection", "bal"), "bps"] == pytest.approx(3 * 5 * fps)  # a plain VQ: frame codes only
    assert frame.loc[("quantized", "emoq-100"), "quantizer"] == "emoq-8x32"


def test_config_hash_ignores_the_data_and_run_hash_does_not():
    a = make_result(0)
    b = json.loads(json.dumps(a))
    b["resolved"]["corpus_fingerprints"] = {"ravdess": "other"}
    b["run_hash"] = "0" * 16
    assert config_hash(a) == config_hash(b)
    b["resolved"]["layer"] = 3
    assert config_hash(a) != config_hash(b)
    assert config_hash({"config_hash": "abc"}) == "abc"


def test_load_and_the_cli_write_csv_and_parquet(tmp_path):
    from emobench.cli.main import app

    write_results(tmp_path / "r", 5)
    frame = load(tmp_path / "r")
    runner = CliRunner()
    for name in ("t.csv", "t.parquet"):
        res = runner.invoke(app, ["results", "table", str(tmp_path / "r"), "--out", str(tmp_path / name)])
        assert res.exit_code == 0, res.output
        back = pd.read_csv(tmp_path / name) if name.endswith(".csv") else pd.read_parquet(tmp_path / name)
        assert list(back.columns) == list(frame.columns) and len(back) == len(frame)
        assert (back["depth"].dropna() % 1 == 0).all()
        if name.endswith(".parquet"):
            assert str(back["depth"].dtype) == "Int64"  # Parquet keeps the nullable integer type
    res = runner.invoke(app, ["results", "table", str(tmp_path / "r")])
    assert res.exit_code == 0 and f"{len(frame)} rows" in res.output and "more rows" in res.output
    res = runner.invoke(app, ["results", "table", str(tmp_path / "nope")])
    assert res.exit_code != 0 and "nope" in res.output

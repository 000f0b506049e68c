"""Fault injection: hostile or careless input never deletes outside its folder, never changes a number
silently, and always ends in one clear line. One test per class of the reliability issue, and a property
test flipping random bytes in every kind of cache file."""

from __future__ import annotations

import errno
import json
import os
import warnings
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from emobench import runner
from emobench.cli.main import app
from emobench.config import RunConfig
from emobench.errors import EmobenchError

pytestmark = pytest.mark.slow
FAST = RunConfig(limit=24, task_params={"n_boot": 20})


def metrics_of(doc: dict) -> list:
    return [(m["name"], json.dumps(m["breakdown"], sort_keys=True), m["value"]) for m in doc["metrics"]]


@pytest.fixture(scope="module")
def baseline(tmp_path_factory):
    cache = tmp_path_factory.mktemp("cache")
    out = runner.run(FAST, out_dir=tmp_path_factory.mktemp("out"), device="cpu", cache_root=cache)
    return cache, out.result


def copy_cache(src: Path, dst: Path) -> Path:
    import shutil

    shutil.copytree(src, dst)
    return dst


def test_a_crafted_manifest_cannot_reach_outside_the_cache(baseline, tmp_path):
    from emobench.cache.store import manifest_checksum

    cache = copy_cache(baseline[0], tmp_path / "cache")
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    manifest = next((cache / "features").rglob("shards/*.json"))
    doc = json.loads(manifest.read_text())
    doc["files"]["pooled"]["name"] = os.path.relpath(victim, manifest.parent)
    doc["manifest_sha256"] = manifest_checksum(doc)  # even with a valid checksum the name is refused
    manifest.write_text(json.dumps(doc))
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        again = runner.run(FAST, out_dir=tmp_path / "out", device="cpu", cache_root=cache)
    assert victim.read_text() == "keep me"
    assert metrics_of(again.result) == metrics_of(baseline[1])
    res = CliRunner().invoke(app, ["cache", "verify", "--fix", "--cache-dir", str(cache)])
    assert victim.read_text() == "keep me" and res.exit_code == 0


def test_replaced_clips_refit_codebooks_instead_of_reusing_stale_ones(tmp_path):
    from dataclasses import replace

    import soundfile as sf

    cache, demo = tmp_path / "cache", tmp_path / "demo"
    config = replace(FAST, corpora={"demo": str(demo)})
    first = runner.run(config, out_dir=tmp_path / "a", device="cpu", cache_root=cache)
    for wav in sorted(demo.rglob("*.wav"))[::3]:  # new audio under the same names
        data, sr = sf.read(wav, dtype="float32")
        sf.write(wav, (data[::-1] * 0.5).copy(), sr, subtype="PCM_16")
    again = runner.run(config, out_dir=tmp_path / "b", device="cpu", cache_root=cache)
    fresh = runner.run(config, out_dir=tmp_path / "c", device="cpu", cache_root=tmp_path / "fresh-cache")
    assert again.result["run_hash"] != first.result["run_hash"]  # the corpus content changed: another run
    assert again.result["provenance"]["timings_s"].get("fit", 0) > 0  # not the old codebooks
    assert metrics_of(again.result) == metrics_of(fresh.result)
    assert len(list((tmp_path / "b").glob("*.json"))) == 1
    res = CliRunner().invoke(app, ["cache", "clear", "-y", "--cache-dir", str(cache)])
    assert res.exit_code == 0 and not list((cache / "codebooks").iterdir()) and not list((cache / "probes").iterdir())


def test_a_damaged_codebook_or_manifest_is_detected_and_recomputed(baseline, tmp_path):
    cache = copy_cache(baseline[0], tmp_path / "cache")
    book = next((cache / "codebooks").rglob("codebooks.safetensors"))
    raw = bytearray(book.read_bytes())
    raw[-7] ^= 0xFF
    book.write_bytes(bytes(raw))
    res = CliRunner().invoke(app, ["cache", "verify", "--cache-dir", str(cache)])
    assert res.exit_code == 1 and "fails its sha256 checksum" in res.output
    manifest = next((cache / "features").rglob("shards/*.json"))
    doc = json.loads(manifest.read_text())
    doc["lengths"][0] += 10
    manifest.write_text(json.dumps(doc))
    res = CliRunner().invoke(app, ["cache", "verify", "--cache-dir", str(cache)], terminal_width=300)
    assert "checksum does not match" in res.output
    with pytest.warns(UserWarning, match="damaged|corrupt"):
        again = runner.run(FAST, out_dir=tmp_path / "out", device="cpu", cache_root=cache)
    assert metrics_of(again.result) == metrics_of(baseline[1])


def test_two_different_trees_into_one_folder_never_overwrite_each_other(tmp_path):
    from corpora_fixtures import make_ravdess, write_wav

    a, b = make_ravdess(tmp_path / "a"), make_ravdess(tmp_path / "b")
    write_wav(next(b.rglob("*.wav")), seconds=0.4)  # one clip differs
    out = tmp_path / "out"
    for root in (a, b):
        runner.run(RunConfig(corpora={"ravdess": str(root)}, limit=24, task_params={"n_boot": 10}), out_dir=out,
                   device="cpu", cache_root=tmp_path / "cache")
    assert len(list(out.glob("*.json"))) == 2


def test_a_symlink_loop_or_a_pseudo_filesystem_never_hangs_a_corpus_walk(tmp_path):
    from corpora_fixtures import make_ravdess

    from emobench.corpora.ravdess import RAVDESS

    root = make_ravdess(tmp_path / "r")
    (root / "Actor_01" / "loop").symlink_to(root, target_is_directory=True)
    corpus = RAVDESS(root=root).load()
    assert len(corpus.utterances) == len(RAVDESS(root=make_ravdess(tmp_path / "plain")).load().utterances)
    assert any("reached twice" in p for p in corpus.problems)
    res = CliRunner().invoke(app, ["corpus", "info", "ravdess", "--root", "/sys/class"])
    assert res.exit_code == 1 and "pseudo-filesystem" in res.output


def test_one_bad_result_file_is_named_and_the_site_still_builds(baseline, tmp_path):
    from emobench.leaderboard.build import build_site
    from emobench.results import validate_result

    good = baseline[1]
    results = tmp_path / "results"
    results.mkdir()
    (results / "good.json").write_text(json.dumps(good))
    bad = json.loads(json.dumps(good))
    bad["metrics"][0]["value"] = float("nan")
    (results / "nan.json").write_text(json.dumps(bad))  # json.dumps writes NaN: not JSON, but Python reads it
    (results / "deep.json").write_text("[" * 50_000 + "]" * 50_000)
    with pytest.raises(EmobenchError, match="metrics/0/value: nan is not a finite number"):
        validate_result(bad)
    report = build_site([results], tmp_path / "site")
    assert report.n_runs == 1 and {Path(p.path).name for p in report.problems} == {"nan.json", "deep.json"}


@pytest.mark.parametrize(("args", "message"), [
    (["run", "-c", "ravdess=/tmp/emobench-test-a[/x]b"], "/tmp/emobench-test-a[/x]b"),
    (["run", "--threads", "-5"], "--threads must be a positive number"),
    (["run", "-T", "n_boot=-1"], "greater than or equal to 1"),
    (["run", "-P", "lr=-1"], "lr=-1: Input should be greater than 0"),
    (["run", "-U", "sample_rate=0"], "sample_rate=0"),
    (["run", "-Q", "n_stages=2.5"], "n_stages=2.5: Input should be a valid integer"),
    (["run", "-Q", "x=!!python/object/apply:os.system [ls]"], "not a plain YAML value"),
    (["leaderboard", "serve", ".", "--port", "99999"], "65535"),
])
def test_out_of_range_values_and_markup_get_one_clear_line(args, message, tmp_path):
    res = CliRunner().invoke(app, [*args, *(["--out", str(tmp_path / "o"), "--cache-dir", str(tmp_path / "c")]
                                            if args[0] == "run" else [])], terminal_width=300)
    assert res.exit_code in (1, 2), res.output
    assert message in " ".join(res.output.split()) and "Traceback" not in res.output


def test_a_full_disk_or_a_read_only_cache_is_named_and_leaves_no_half_result(baseline, tmp_path, monkeypatch):
    import emobench.results.io as rio

    class FillsTheDisk:  # the metrics table whose writing runs out of space half-way
        def to_csv(self, path, **_):
            Path(path).write_text("half a tab")
            raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(rio, "metrics_frame", lambda doc: FillsTheDisk())
    out = tmp_path / "out"
    with pytest.raises(EmobenchError, match="no space left on .* MB free"):
        runner.run(FAST, out_dir=out, device="cpu", cache_root=baseline[0])
    monkeypatch.undo()
    assert not [p for p in out.iterdir() if p.name != ".emobench-write-test"]  # no orphan CSV without its JSON

    import emobench.cache.artifacts as art

    def read_only(*_a, **_k):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(art, "make_temp_dir", read_only)
    with pytest.raises(EmobenchError, match="is read-only: cannot write the codebooks cache"):
        runner.run(FAST, out_dir=tmp_path / "o2", device="cpu", cache_root=tmp_path / "new-cache")


def test_bad_manifests_votes_and_arrays_name_the_file_and_line(tmp_path):
    from corpora_fixtures import write_wav

    from emobench.corpora.manifest import ManifestCorpus
    from emobench.upstreams.precomputed import PrecomputedUpstream

    write_wav(tmp_path / "a.wav")
    for body, message in [
        ("path,label,speaker,start_s\na.wav,angry,s1,abc\n", "bad segment time at .*manifest.csv line 2"),
        ("path,label,speaker,vote_angry\na.wav,angry,s1,nan\n", "finite and non-negative.*line 2"),
        ("path,label,speaker,vote_angry\na.wav,angry,s1,-2\n", "finite and non-negative.*line 2"),
        ("path,label,speaker\na.wav,angry,s1," + "x" * 140_000 + "\n", "manifest.csv line"),
    ]:
        (tmp_path / "manifest.csv").write_text(body)
        with pytest.raises(EmobenchError, match=message):
            ManifestCorpus(root=tmp_path / "manifest.csv").load()
    (tmp_path / "manifest.csv").write_bytes(b"path,label,speaker\na.wav,\xff\xfeangry,s1\n")
    with pytest.raises(EmobenchError, match="not UTF-8"):
        ManifestCorpus(root=tmp_path / "manifest.csv").load()
    feats = tmp_path / "feats"
    feats.mkdir()
    np.save(feats / "good.npy", np.ones((5, 4), np.float32))
    np.save(feats / "strings.npy", np.array([["a", "b"]]))
    raw = (feats / "good.npy").read_bytes()
    (feats / "lying.npy").write_bytes(raw.replace(b"(5, 4)", b"(9, 4)"))
    (feats / "broken.safetensors").write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{nonsense")
    up = PrecomputedUpstream(root=str(feats / "."), frame_rate_hz=50)
    for name, message in [("strings", "not numbers"), ("lying", "cannot read"), ("broken", "cannot read")]:
        from emobench.corpora.base import Utterance

        u = Utterance(id=f"x/{name}", corpus="x", path="", speaker="s", label="angry")
        with pytest.raises(EmobenchError, match=message):
            up.extract_utterance(u, layers=[0])


def test_random_byte_flips_in_any_cache_file_never_change_a_metric_silently(baseline, tmp_path):
    """Every kind of cache file (shard data, manifests, codebooks, probes, their manifests): after a flip the
    next run either gives the same numbers (the damage was detected and recomputed) or fails loudly."""
    rng = np.random.default_rng(0)
    files = sorted(p for p in baseline[0].rglob("*") if p.is_file() and "demo" not in p.parts
                   and p.name != "audio-hashes.json")
    kinds = {p.suffix for p in files}
    assert {".npy", ".json", ".safetensors"} <= kinds
    for k, target in enumerate(rng.choice(len(files), size=8, replace=False)):
        cache = copy_cache(baseline[0], tmp_path / f"c{k}")
        victim = cache / files[target].relative_to(baseline[0])
        raw = bytearray(victim.read_bytes())
        pos = int(rng.integers(len(raw)))
        raw[pos] ^= 1 << int(rng.integers(8))
        victim.write_bytes(bytes(raw))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                again = runner.run(FAST, out_dir=tmp_path / f"o{k}", device="cpu", cache_root=cache)
            except EmobenchError:
                continue  # loud is fine
        assert metrics_of(again.result) == metrics_of(baseline[1]), (victim, pos)

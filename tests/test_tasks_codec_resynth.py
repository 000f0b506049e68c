"""Codec resynthesis through `emobench run -t codec-resynth` (tiny random EnCodec, fake CREMA-D, log-mel
upstream on the decoded audio), and `emobench run -u encodec -q encodec-rvq -t rq1` end to end."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from codec_fixtures import save_tiny_codec
from corpora_fixtures import make_cremad
from typer.testing import CliRunner

from emobench.audio import load_audio
from emobench.codecs.resynth import ResynthCache, resynthesize_depths
from emobench.corpora.cremad import CREMAD
from emobench.registries import upstreams

TINY_KBPS = {2: 800.0, 4: 1600.0, 8: 3200.0}  # 100 Hz x 4 bits per codebook (codec_fixtures)


def run_cli(tmp_path, out: str, *args):
    from emobench.cli.main import app

    return CliRunner().invoke(app, ["run", "--out", str(tmp_path / out), "--cache-dir", str(tmp_path / "cache"),
                                    "--no-site", "--device", "cpu", *args])


def result(tmp_path, out: str) -> tuple[dict, pd.DataFrame]:
    path = next((tmp_path / out).glob("*.json"))
    return json.loads(path.read_text()), pd.read_csv(path.with_name(path.stem + ".predictions.csv"))


def metric(doc, name, **where):
    found = [m for m in doc["metrics"] if m["name"] == name
             and all(m["breakdown"].get(k) == v for k, v in where.items())]
    assert len(found) == 1, (name, where, len(found))
    return found[0]


@pytest.fixture(scope="module")
def resynth_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("resynth")
    codec_dir, crema = save_tiny_codec(tmp / "encodec", "encodec"), tmp / "crema"
    make_cremad(crema)
    args = ["-u", "fbank", "-t", "codec-resynth", "-T", "codec=encodec", "-T", f"codec_params={{model: {codec_dir}}}",
            "-T", "n_boot=50", "-c", f"crema-d={crema}"]
    res = run_cli(tmp, "out", *args)
    assert res.exit_code == 0, res.output
    return tmp, codec_dir, crema, args


def test_bitrate_and_scores_per_bandwidth_from_the_sidecar(resynth_run):
    tmp, *_ = resynth_run
    doc, preds = result(tmp, "out")
    cont = preds[preds.condition == "continuous"].set_index("utt_id")
    assert doc["protocol"]["depths"] == [2, 4, 8]
    for d, bps in TINY_KBPS.items():
        assert metric(doc, "bitrate", depth=d)["value"] == bps
        mine = preds[(preds.condition == "resynthesized") & (preds.depth == d)]
        source = mine.utt_id.str.replace(f"#encodec-d{d}", "", regex=False)
        assert sorted(source) == sorted(cont.index)  # every test utterance, resynthesized once per depth
        same = (mine.pred.to_numpy() == cont.loc[source, "pred"].to_numpy()).mean()
        assert metric(doc, "agreement", depth=d)["value"] == pytest.approx(same)
        uar = metric(doc, "uar", depth=d, condition="resynthesized")["value"]
        base = metric(doc, "uar", condition="continuous")["value"]
        assert metric(doc, "uar_delta", depth=d)["value"] == pytest.approx(uar - base)
        assert -1 <= metric(doc, "cosine_utterance", depth=d)["value"] <= 1


def test_decoded_files_are_the_codecs_resynthesis_and_the_upstream_reads_them(resynth_run):
    tmp, codec_dir, crema, _ = resynth_run
    _, preds = result(tmp, "out")
    up = upstreams.create("encodec", model=str(codec_dir))
    cache = ResynthCache(tmp / "cache")
    utt = next(u for u in CREMAD(root=crema).load().utterances if u.id in set(preds.utt_id))
    wave = load_audio(utt, up.codec.layout.sample_rate)
    files = cache.files(up.codec, wave, [2, 8])
    direct = resynthesize_depths(up.codec, wave, [2, 8])
    for d, path in files.items():
        assert path.is_file() and path.parent.name == f"d{d}"
        import soundfile as sf

        audio, sr = sf.read(str(path), dtype="float32")
        assert sr == up.codec.layout.sample_rate
        np.testing.assert_array_equal(audio, direct[d])  # lossless float32 WAV of the decoder's output
    np.testing.assert_array_equal(cache.get(up.codec, wave, [8])[8], direct[8])
    assert not np.allclose(direct[2], direct[8])  # more codebooks decode differently
    # the run's upstream read the decoded file like corpus audio: the cached features are its own on that file
    from dataclasses import replace

    from emobench.cache import FeatureCache

    fbank = upstreams.create("fbank")
    decoded = replace(utt, id=f"{utt.id}#encodec-d8", path=str(files[8]))
    cached = FeatureCache(tmp / "cache").features(fbank, [decoded], layers=[fbank.default_layer])
    assert cached.extracted["utterances"] == 0  # extracted by the run, read back here
    direct_feats = fbank.extract([load_audio(decoded, fbank.sample_rate)], layers=[fbank.default_layer])[0][0]
    np.testing.assert_allclose(cached.frames(fbank.default_layer, 0), direct_feats, rtol=1e-2, atol=1e-2)  # fp16


def test_rerun_decodes_and_extracts_nothing_and_repeats_the_numbers(resynth_run):
    tmp, _, _, args = resynth_run
    wavs = sorted((tmp / "cache" / "resynth").rglob("*.wav"))
    stamps = [p.stat().st_mtime_ns for p in wavs]
    assert len(wavs) == 3 * len(result(tmp, "out")[1].query("condition == 'continuous'"))
    res = run_cli(tmp, "again", *args)
    assert res.exit_code == 0, res.output
    doc, _ = result(tmp, "again")
    assert [p.stat().st_mtime_ns for p in sorted((tmp / "cache" / "resynth").rglob("*.wav"))] == stamps
    assert doc["provenance"]["extraction"]["extracted_utterances"] == 0  # decoded audio keyed by content
    first, _ = result(tmp, "out")
    assert [m["value"] for m in doc["metrics"]] == [m["value"] for m in first["metrics"]]


@pytest.mark.parametrize(("extra", "message"), [
    (["-T", "codec=fbank"], "codec=fbank is not a neural codec upstream"),
    (["-T", "kbps=[1.0]"], "offers 0.8, 1.6, 3.2 kbps, not 1 kbps"),
])
def test_bad_codec_settings_are_one_clear_line(resynth_run, extra, message):
    tmp, codec_dir, crema, _ = resynth_run
    args = ["-u", "fbank", "-t", "codec-resynth", "-T", f"codec_params={{model: {codec_dir}}}", "-c",
            f"crema-d={crema}", *extra]
    if extra[1] == "codec=fbank":
        args.remove(f"codec_params={{model: {codec_dir}}}")
        args.remove("-T")
    res = run_cli(tmp, "bad", *args)
    assert res.exit_code != 0 and message in res.output and "Traceback" not in res.output


def test_rq1_over_the_codecs_own_codebooks_at_its_bandwidths(resynth_run):
    tmp, codec_dir, crema, _ = resynth_run
    res = run_cli(tmp, "rq1", "-u", "encodec", "-U", f"model={codec_dir}", "-q", "encodec-rvq", "-Q",
                  f"model={codec_dir}", "-t", "rq1", "-T", "n_boot=50", "-c", f"crema-d={crema}")
    assert res.exit_code == 0, res.output
    doc, _ = result(tmp, "rq1")
    assert doc["quantizer"]["name"] == "encodec-rvq" and doc["quantizers"][0]["kind"] == "CodecRVQ"
    assert {d: metric(doc, "bitrate", depth=d)["value"] for d in TINY_KBPS} == TINY_KBPS
    cos = [metric(doc, "cosine_frame", depth=d)["value"] for d in TINY_KBPS]
    assert cos == sorted(cos) and cos[0] < cos[-1]  # greedy residual codebooks: deeper reconstructs closer

"""Feature cache: reuse, layer subsets, streaming readers, bad audio, corrupt shards."""

from __future__ import annotations

import numpy as np
import pytest
from tiny_models import ToyUpstream, write_wavs

from emobench.audio import load_audio
from emobench.cache import FeatureCache
from emobench.corpora.base import Utterance
from emobench.errors import AudioError
from emobench.upstreams.fbank import LogMelFbank


@pytest.fixture()
def utts(tmp_path):
    return write_wavs(tmp_path / "wav", [0.5, 1.2, 0.3, 2.0, 0.8, 1.0])


def test_extract_once_then_reuse(tmp_path, utts):
    cache = FeatureCache(tmp_path / "cache", shard_mb=0.001)  # tiny shards: several per run
    up = ToyUpstream()
    fs = cache.features(up, utts, layers=[0, 2], batch_seconds=2.0)
    assert up.calls == len(utts) and fs.utt_ids == [u.id for u in utts] and fs.skipped == []
    assert len(list((fs.entry_dir / "shards").glob("*.json"))) > 1
    for i, u in enumerate(utts):
        ref = up.extract([load_audio(u, 16000)], layers=[0, 2])[0]
        assert fs.lengths[i] == ref.shape[1]
        np.testing.assert_allclose(fs.frames(2, i), ref[1], rtol=1e-3, atol=1e-4)  # fp16 storage
        np.testing.assert_allclose(fs.pooled(0)[i], ref[0].mean(0), rtol=1e-5, atol=1e-6)  # fp32 pooled
    calls = up.calls
    again = FeatureCache(tmp_path / "cache").features(up, utts, layers=[2])  # subset of stored layers
    assert up.calls == calls
    np.testing.assert_array_equal(again.frames(2, 3), fs.frames(2, 3))
    with pytest.raises(KeyError, match="layer 0 was not extracted"):
        again.pooled(0)


def test_frame_source_streams_all_frames_in_order(tmp_path, utts):
    fs = FeatureCache(tmp_path / "cache", shard_mb=0.001).features(ToyUpstream(), utts, layers=[1])
    sub = fs.subset([utts[3].id, utts[0].id, utts[5].id])
    assert sub.utt_ids == [utts[3].id, utts[0].id, utts[5].id]
    full = np.concatenate([sub.frames(1, i) for i in range(len(sub))])
    src = sub.frame_source(1)
    assert (src.n_frames, src.dim) == full.shape
    chunks = list(src.iter_chunks(7))
    assert all(len(c) == 7 for c in chunks[:-1])
    np.testing.assert_array_equal(np.concatenate(chunks), full)
    rng = np.random.default_rng(0)
    sample = src.sample(20, rng)
    idx = np.sort(np.random.default_rng(0).choice(len(full), 20, replace=False))
    np.testing.assert_array_equal(sample, full[idx])
    np.testing.assert_allclose(sub.pooled(1), fs.pooled(1)[[3, 0, 5]])


def test_bad_audio_skipped_with_report(tmp_path, utts):
    (tmp_path / "empty.wav").write_bytes(b"")
    (tmp_path / "junk.wav").write_bytes(b"not a wav file at all" * 10)
    short = write_wavs(tmp_path / "short", [0.01])[0]  # 160 samples < 400-sample receptive field
    bad = [
        Utterance(id="toy/missing", corpus="toy", path=str(tmp_path / "nope.wav"), speaker="s", label="sad"),
        Utterance(id="toy/empty", corpus="toy", path=str(tmp_path / "empty.wav"), speaker="s", label="sad"),
        Utterance(id="toy/junk", corpus="toy", path=str(tmp_path / "junk.wav"), speaker="s", label="sad"),
        Utterance(id="toy/short", corpus="toy", path=short.path, speaker="s", label="sad"),
    ]
    cache = FeatureCache(tmp_path / "cache")
    fs = cache.features(ToyUpstream(), [utts[0], *bad, utts[1]], layers=[0])
    assert fs.utt_ids == [utts[0].id, utts[1].id]
    assert [s[0] for s in fs.skipped] == ["toy/missing", "toy/empty", "toy/junk", "toy/short"]
    assert "receptive field" in fs.skipped[3][1] and short.path in fs.skipped[3][1]
    csv_text = fs.write_skipped_csv(tmp_path / "skipped.csv").read_text()
    assert csv_text.splitlines()[0] == "utt_id,file,reason" and "nope.wav" in csv_text
    with pytest.raises(AudioError, match="junk.wav"):
        cache.features(ToyUpstream(), [bad[2]], layers=[0], on_bad_audio="fail")


def test_corrupt_shard_is_recomputed_with_warning(tmp_path, utts):
    cache = FeatureCache(tmp_path / "cache")
    up = LogMelFbank()
    first = cache.features(up, utts, layers=[0])
    ref = [first.frames(0, i).copy() for i in range(len(utts))]
    import emobench.cache.feature_cache as fc

    fc._VERIFIED.clear()  # a new process would verify again
    frames_file = next((first.entry_dir / "shards").glob("*.frames.npy"))
    data = bytearray(frames_file.read_bytes())
    data[-10:] = b"\x00" * 10
    frames_file.write_bytes(bytes(data[:-3]))  # corrupt and truncate
    with pytest.warns(UserWarning, match="corrupt"):
        again = cache.features(up, utts, layers=[0])
    for i in range(len(utts)):
        np.testing.assert_allclose(again.frames(0, i), ref[i], atol=1e-3)


def test_rich_progress_and_duration_batches(tmp_path, utts):
    import io

    from rich.console import Console
    from rich.progress import Progress

    from emobench.cache.compute import _batches

    with Progress(console=Console(file=io.StringIO())) as progress:
        fs = FeatureCache(tmp_path / "cache").features(ToyUpstream(), utts, layers=[0], progress=progress)
        task = progress.tasks[0]
        assert task.completed == pytest.approx(task.total) and len(fs) == len(utts)
    durations = {"a": 4.0, "b": 3.0, "c": 1.0, "d": 1.0, "e": 0.5}
    assert list(_batches(list(durations), durations, batch_seconds=6.0, max_padding=1.0)) == [
        ["a"], ["b", "c"], ["d", "e"]]  # padded duration (count x longest) <= 6 s
    assert list(_batches(list(durations), durations, batch_seconds=6.0)) == [
        ["a"], ["b"], ["c", "d"], ["e"]]  # and at most 10% padding


def test_full_disk_is_a_clear_error_and_keeps_finished_shards(tmp_path, utts, monkeypatch):
    import errno

    import emobench.cache.store as store
    from emobench.errors import CacheError

    cache = FeatureCache(tmp_path / "cache", shard_mb=0.001)
    up = ToyUpstream()
    cache.features(up, utts[:2], layers=[0])
    shards_before = sorted((cache.entry_dir(up) / "shards").glob("*.json"))

    def full(*_a, **_k):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(store.np, "save", full)
    with pytest.raises(CacheError, match="no space left on .* MB free.*--cache-dir"):
        cache.features(up, utts, layers=[0])
    monkeypatch.undo()
    assert sorted((cache.entry_dir(up) / "shards").glob("*.json")) == shards_before
    assert not [p for p in (cache.entry_dir(up) / "shards").iterdir() if p.name.endswith(".tmp")]
    calls = up.calls
    cache.features(up, utts, layers=[0])
    assert up.calls == calls + len(utts) - 2  # the two finished utterances were kept

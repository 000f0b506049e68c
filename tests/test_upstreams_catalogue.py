"""Every upstream catalogue spec carries the metadata the runner and the leaderboard read."""

from __future__ import annotations

import pytest

from emobench.registries import upstreams

NAMES = upstreams.names()


def test_catalogue_has_the_issue_entries():
    expected = {"wavlm", "wavlm-base-plus", "hubert", "wav2vec2", "xlsr", "whisper-small", "whisper-medium",
                "emotion2vec", "fbank"}
    assert expected <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_spec_metadata(name):
    entry = upstreams.get(name)
    if not entry.source.startswith("catalogue"):
        pytest.skip("not a catalogue entry")
    assert entry.impl.startswith("emobench.upstreams.")
    meta = entry.meta
    assert isinstance(meta.get("trained_on"), list) and meta.get("license")
    assert "frame_rate_hz" in meta and "default_layer" in meta or entry.impl.endswith(":PrecomputedUpstream")
    if "n_layers" in meta:
        assert 0 <= meta["default_layer"] < meta["n_layers"]
    if entry.impl.endswith((":TransformersUpstream", ":Emotion2VecUpstream")):
        assert entry.params.get("model") and entry.params.get("revision")

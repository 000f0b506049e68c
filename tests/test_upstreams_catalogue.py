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
    spec = entry.spec
    assert entry.impl.startswith("emobench.upstreams.")
    assert isinstance(spec.trained_on, list) and spec.license
    default_layer = entry.params.get("default_layer", 0)
    if spec.n_layers is not None:
        assert 0 <= default_layer < spec.n_layers, (default_layer, spec.n_layers)
    if entry.impl.endswith((":TransformersUpstream", ":Emotion2VecUpstream")):
        assert entry.params.get("model") and entry.params.get("revision")

"""``load_codec(model)``: a ``Codec`` from a hub id (pinned ``revision``; the resolved commit is recorded) or a
local ``save_pretrained`` folder (its weights are hashed) through transformers, or from a SpeechTokenizer folder
through its own package."""

from __future__ import annotations

from emobench.codecs.layout import CodecError
from emobench.codecs.models import FAMILIES, Codec
from emobench.codecs.quantizer import CodecQuantizer


def load_codec(model: str, *, revision: str | None = None, local_files_only: bool = False,
               family: str | None = None) -> Codec:
    """Load a codec: ``family`` "speechtokenizer" goes through its own package, the rest through transformers."""
    if family == "speechtokenizer":
        from emobench.codecs.speechtokenizer import load_speechtokenizer

        return load_speechtokenizer(model)
    from emobench.upstreams.hf_load import load_hf_model

    loaded = load_hf_model(model, revision=revision, local_files_only=local_files_only)
    net, config = loaded.model, loaded.model.config
    if config.model_type not in FAMILIES:
        raise CodecError(f"{loaded.source} is a {config.model_type!r} model, not a codec ({', '.join(FAMILIES)}); "
                         "SpeechTokenizer checkpoints need family=speechtokenizer")
    if family is not None and family != config.model_type:
        raise CodecError(f"{loaded.source} holds a {config.model_type} codec, but family={family!r} was asked for")
    if config.model_type == "encodec" and config.normalize:
        raise CodecError(f"{loaded.source}: EnCodec with normalize=True rescales each utterance (encodec_48khz); "
                         "only unnormalised models such as facebook/encodec_24khz are supported")
    quantizer = CodecQuantizer(config, net.quantizer)
    return Codec(net.eval(), quantizer, quantizer.layout, loaded.source,
                 {"loader": "codec", "family": config.model_type, **loaded.identity})

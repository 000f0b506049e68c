"""Neural audio codecs (EnCodec, DAC, Mimi, SpeechTokenizer): loading, their own residual codebooks, resynthesis.

Shared by the codec upstream (``emobench.upstreams.codecs``: encoder latents as frames), the codec's RVQ
as a quantizer (``emobench.quantizers.codec_rvq``) and resynthesis (``emobench.codecs.resynth``), so the
quantizer imports no upstream. ``layout`` is pure (no torch); ``models`` holds the loaded ``Codec``, ``load`` builds it.
"""

from emobench.codecs.layout import CodecError, CodecLayout, layout_from_config

__all__ = ["CodecError", "CodecLayout", "layout_from_config"]

"""emobench: how much emotion survives quantization of speech-encoder features, and at what bitrate."""

__version__ = "0.1.0"

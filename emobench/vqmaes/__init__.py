"""VQ-MAE-S (Sadok, Leglaive and Seguier, ICASSP 2024): a masked autoencoder over the discrete codes of a
spectrogram VQ-VAE, for speech emotion recognition. The only seed system whose representation is
discrete by construction, so emobench has it both as an upstream (``emobench.upstreams.vqmaes``) and,
through its VQ-VAE, as a quantizer on the bitrate axis (``emobench.quantizers.vqvae``).

Modules: ``config`` (presets), ``spectrogram``, ``vqvae`` + ``codebook``, ``masking``, ``model``,
``heads``, ``data``, ``trainer`` + ``train`` (the three training stages), ``checkpoint`` + ``load``,
``inference`` (whole utterances through the encoder). Importing this package imports nothing heavy.
"""

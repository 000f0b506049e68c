"""VQ-MAE-S' spectrogram VQ-VAE as a quantizer: frames -> D' codes of log2 k bits each -> frames.

The VQ-VAE quantizes its *own* input, an STFT power spectrogram frame (D = 513 bins), not another
encoder's features: pair it with the ``vqvae-spec`` upstream, which yields exactly those frames. It is
one stage of D' parallel codes (D' = 64 latent positions per frame, each one of k = 256 codes), so
``bits_per_frame = 1 x 64 x 8 = 512`` at the STFT frame rate (52.12 Hz): 26.7 kbit/s for the paper's
model. There are no shallower depths: the codes are not residual, so depth is always 1.

``checkpoint=DIR`` takes a VQ-VAE trained by ``emobench train vqvae`` (or the one inside a VQ-MAE-S
checkpoint) and ``fit`` only checks the frames fit it; without one, ``fit`` trains a VQ-VAE of the
given shape on the frames for ``n_iter`` Adam steps. ``input_scale=log`` (default, matching
``vqvae-spec``'s default) means frames are log(power + log_floor): the quantizer exponentiates them for
the VQ-VAE, whose decoder outputs power, and returns log power. Saved quantizers hold the full VQ-VAE
weights (safetensors), so they load without the checkpoint.
"""

from __future__ import annotations

import numpy as np
import torch

from emobench.frames import FrameSource
from emobench.quantizers.base import Progress, Quantizer, QuantizerError, to_tensor

ARCH_FIELDS = (
    "codebook_size",
    "code_dim",
    "hidden",
    "n_residual_layers",
    "residual_hidden",
    "commitment",
    "update",
    "decay",
    "dead_share",
    "reseed_every",
    "encoder_input",
)


class VqvaeQuantizer(Quantizer):
    def __init__(
        self,
        *,
        checkpoint: str | None = None,
        codebook_size: int = 256,
        code_dim: int = 8,
        hidden: int = 32,
        n_residual_layers: int = 2,
        residual_hidden: int = 32,
        commitment: float = 0.25,
        update: str = "ema",
        decay: float = 0.99,
        dead_share: float = 0.01,
        reseed_every: int = 200,
        encoder_input: str = "log",
        input_scale: str = "log",
        log_floor: float = 1e-10,
        n_iter: int = 2000,
        batch_size: int = 1024,
        lr: float = 1e-3,
        max_train_frames: int = 131072,
    ):
        if input_scale not in ("log", "power"):
            raise QuantizerError(f"VqvaeQuantizer: input_scale={input_scale!r}; use 'log' or 'power'")
        super().__init__(
            checkpoint=checkpoint,
            codebook_size=codebook_size,
            code_dim=code_dim,
            hidden=hidden,
            n_residual_layers=n_residual_layers,
            residual_hidden=residual_hidden,
            commitment=commitment,
            update=update,
            decay=decay,
            dead_share=dead_share,
            reseed_every=reseed_every,
            encoder_input=encoder_input,
            input_scale=input_scale,
            log_floor=log_floor,
            n_iter=n_iter,
            batch_size=batch_size,
            lr=lr,
            max_train_frames=max_train_frames,
        )
        self.n_stages, self.codebook_size = 1, int(codebook_size)
        self.model = None

    def _vq_config(self):
        from emobench.vqmaes.config import VQVAEConfig

        return VQVAEConfig(**{k: self.params[k] for k in ARCH_FIELDS})

    # -- frames <-> power ----------------------------------------------------------------------------
    def _to_power(self, x: torch.Tensor) -> torch.Tensor:
        if self.params["input_scale"] == "log":
            return (torch.exp(x) - self.params["log_floor"]).clamp_min(0.0)
        if bool((x < 0).any()):
            raise QuantizerError(
                f"{self.name}: input_scale=power but frames hold negative values; these look like "
                "log power: set input_scale=log (or use the vqvae-spec upstream with scale=power)"
            )
        return x

    def _from_power(self, power: torch.Tensor) -> torch.Tensor:
        if self.params["input_scale"] == "log":
            return torch.log(power + self.params["log_floor"])
        return power

    # -- the five hooks ------------------------------------------------------------------------------
    def _fit(
        self, source: FrameSource, *, device: torch.device, seed: int, progress: Progress | None
    ) -> None:
        if self.params["checkpoint"]:
            from emobench.vqmaes.load import load

            loaded = load(self.params["checkpoint"], device=device)
            if loaded.vqvae.n_bins != source.dim:
                raise QuantizerError(
                    f"{self.name}: the VQ-VAE in {loaded.path} reads {loaded.vqvae.n_bins}-bin frames but "
                    f"the features are {source.dim}-dim; use the vqvae-spec upstream with "
                    f"-U checkpoint={loaded.path}"
                )
            self.model = loaded.vqvae
            self.params.update({k: getattr(loaded.preset.vqvae, k) for k in ARCH_FIELDS})
            self.codebook_size = int(self.params["codebook_size"])
            self.fit_info = {
                "source": str(loaded.path),
                "weights_sha256": loaded.weights_sha256,
                "trained": False,
            }
        else:
            from emobench.vqmaes.train import fit_vqvae_on_frames

            n = min(int(self.params["max_train_frames"]), source.n_frames)
            frames = to_tensor(source.sample(n, np.random.default_rng(seed)), "cpu")
            self.check_frames(frames)
            self.model, history = fit_vqvae_on_frames(
                self._to_power(frames),
                cfg=self._vq_config(),
                steps=int(self.params["n_iter"]),
                batch_size=int(self.params["batch_size"]),
                lr=float(self.params["lr"]),
                seed=seed,
                device=device,
                progress=progress,
            )
            self.fit_info = {"trained": True, "n_train": n, "final": history[-1] if history else {}}
        self.codes_per_stage = self.model.latent_dim

    def check_frames(self, frames: torch.Tensor) -> None:
        if not bool(torch.isfinite(frames).all()):
            raise QuantizerError(f"{self.name}: training frames contain NaN or inf")

    def _encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.model.encode(self._to_power(x))

    def _decode(self, codes: torch.Tensor, depth: int) -> torch.Tensor:
        if codes.shape[1] != self.codes_per_stage:
            raise QuantizerError(
                f"{self.name}.decode: codes have {codes.shape[1]} columns, the VQ-VAE makes "
                f"{self.codes_per_stage} per frame"
            )
        if len(codes) and (int(codes.min()) < 0 or int(codes.max()) >= self.codebook_size):
            raise QuantizerError(f"{self.name}.decode: codes outside 0..{self.codebook_size - 1}")
        return self._from_power(self.model.decode(codes))

    def _state(self) -> dict[str, torch.Tensor]:
        return {f"vqvae.{k}": v for k, v in self.model.state_dict().items()}

    def _load_state(self, tensors: dict[str, torch.Tensor]) -> None:
        from emobench.vqmaes.vqvae import SpectrogramVQVAE

        device = next(iter(tensors.values())).device
        model = SpectrogramVQVAE(cfg=self._vq_config(), n_bins=int(self.dim))
        model.load_state_dict({k.removeprefix("vqvae."): v for k, v in tensors.items()})
        self.model = model.to(device).eval().requires_grad_(False)
        self.codes_per_stage = self.model.latent_dim

"""The VQ-MAE-S masked autoencoder (sections 2.2-2.3) over discrete index tokens.

Each index of a token is replaced by a trainable e-dimensional embedding (initialised from the VQ-VAE
codebook), so a (t x d) token becomes a ``t * d * e`` vector: 10 x 4 x 8 = 320 for vqmaes-12, which is
also the transformer width (no projection; this gives the paper's ~20 M parameters). The ViT-style
encoder (pre-norm blocks, learned position embeddings, a [CLS] token) sees only visible tokens; the
decoder (4 blocks, its own position embeddings) sees encoder outputs plus a learned mask token in the
masked places and predicts, for each of a token's t * d indices, logits over the k codes with one
shared linear map from e to k (as the authors' code does). Equation (1): cross-entropy on masked
indices only.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional as F

from emobench.errors import EmobenchError
from emobench.vqmaes.config import MAEConfig
from emobench.vqmaes.masking import patchify, split_visible


class Attention(nn.Module):
    def __init__(self, width: int, heads: int):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(width, 3 * width)
        self.proj = nn.Linear(width, width)

    def forward(self, x: torch.Tensor, key_valid: torch.Tensor | None = None) -> torch.Tensor:
        b, s, w = x.shape  # [batch, seq, width]
        q, k, v = self.qkv(x).reshape(b, s, 3, self.heads, w // self.heads).permute(2, 0, 3, 1, 4)
        mask = None if key_valid is None else key_valid[:, None, None, :]  # [batch, 1, 1, seq]
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)  # [batch, heads, seq, head_dim]
        return self.proj(out.transpose(1, 2).reshape(b, s, w))


class Block(nn.Module):
    """Pre-norm transformer block: self-attention and an MLP, each residual."""

    def __init__(self, width: int, heads: int, mlp_ratio: float):
        super().__init__()
        self.norm1, self.norm2 = nn.LayerNorm(width), nn.LayerNorm(width)
        self.attn = Attention(width, heads)
        hidden = int(width * mlp_ratio)
        self.mlp = nn.Sequential(nn.Linear(width, hidden), nn.GELU(), nn.Linear(hidden, width))

    def forward(self, x: torch.Tensor, key_valid: torch.Tensor | None = None) -> torch.Tensor:
        x = x + self.attn(self.norm1(x), key_valid)
        return x + self.mlp(self.norm2(x))


class VQMAES(nn.Module):
    """Encoder + decoder. Token grids are ``n_t x n_d`` with ``n_d = D' / d``, flattened time-major."""

    def __init__(
        self,
        *,
        cfg: MAEConfig,
        codebook_size: int,
        code_dim: int,
        latent_dim: int,
        codebook_init: torch.Tensor | None = None,
    ):
        super().__init__()
        t, d = cfg.patch_t, cfg.patch_d
        if latent_dim % d:
            raise EmobenchError(f"patch_d={d} does not divide the VQ-VAE's D'={latent_dim}")
        self.cfg, self.codebook_size, self.code_dim, self.latent_dim = (
            cfg,
            codebook_size,
            code_dim,
            latent_dim,
        )
        self.n_d, self.max_t = latent_dim // d, cfg.max_frames // t
        self.width = t * d * code_dim
        if self.width % cfg.heads:
            raise EmobenchError(f"token width {self.width} is not divisible by heads={cfg.heads}")
        max_tokens = self.max_t * self.n_d
        self.embedding = nn.Embedding(codebook_size, code_dim)
        if codebook_init is not None and cfg.init_embedding_from_codebook:
            self.embedding.weight.data.copy_(codebook_init)
        self.embedding.weight.requires_grad_(not cfg.freeze_embedding)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, self.width))
        self.enc_pos = nn.Parameter(torch.zeros(max_tokens, self.width))
        self.blocks = nn.ModuleList(
            [Block(self.width, cfg.heads, cfg.mlp_ratio) for _ in range(cfg.encoder_blocks)]
        )
        self.norm = nn.LayerNorm(self.width)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, self.width))
        self.dec_pos = nn.Parameter(torch.zeros(1 + max_tokens, self.width))  # index 0: [CLS]
        self.dec_blocks = nn.ModuleList(
            [Block(self.width, cfg.heads, cfg.mlp_ratio) for _ in range(cfg.decoder_blocks)]
        )
        self.dec_norm = nn.LayerNorm(self.width)
        self.head = nn.Linear(code_dim, codebook_size)  # per index: e -> k logits
        for p in (self.cls_token, self.enc_pos, self.mask_token, self.dec_pos):
            nn.init.trunc_normal_(p, std=0.02)

    @property
    def n_layers(self) -> int:  # layer 0: embeddings; layer i: block i (the last one after the final norm)
        return len(self.blocks) + 1

    # -- encoder ----------------------------------------------------------------------------------
    def embed(self, tokens: torch.Tensor) -> torch.Tensor:
        """Index tokens [batch, N, t * d] -> continuous tokens with positions [batch, N, width]."""
        n = tokens.shape[1]
        if n > self.enc_pos.shape[0]:
            raise EmobenchError(
                f"{n} tokens exceed the {self.enc_pos.shape[0]} positions learned; encode in windows"
            )
        x = self.embedding(tokens).reshape(tokens.shape[0], n, self.width)
        return x + self.enc_pos[:n]

    def encode(
        self, tokens: torch.Tensor, n_valid: torch.Tensor | None = None, layers: Sequence[int] | None = None
    ) -> list[torch.Tensor]:
        """All tokens (no masking) -> hidden states ``[batch, 1 + N, width]`` ([CLS] first) per layer.

        ``n_valid`` [batch] counts each row's real tokens (the rest is padding, never attended to)."""
        layers = list(range(self.n_layers)) if layers is None else list(layers)
        x = self.embed(tokens)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1)
        key_valid = None
        if n_valid is not None:
            pos = torch.arange(x.shape[1], device=x.device)
            key_valid = pos[None, :] <= n_valid.to(x.device)[:, None]  # [batch, 1 + N]
        out = {0: x} if 0 in layers else {}
        for i, block in enumerate(self.blocks[: max(layers)], start=1):
            x = block(x, key_valid)
            if i in layers:
                out[i] = self.norm(x) if i == len(self.blocks) else x
        return [out[i] for i in layers]

    def encode_visible(self, x: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
        """Continuous tokens [batch, N, width], visible positions [batch, V] -> [batch, 1 + V, width]."""
        vis = torch.gather(x, 1, keep[:, :, None].expand(-1, -1, self.width))
        h = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), vis], dim=1)
        for block in self.blocks:
            h = block(h)
        return self.norm(h)

    # -- decoder ----------------------------------------------------------------------------------
    def decode(self, latent: torch.Tensor, keep: torch.Tensor, n_tokens: int) -> torch.Tensor:
        """Encoder output [batch, 1 + V, width] -> decoder states of every token [batch, N, width]."""
        b = latent.shape[0]
        full = self.mask_token.expand(b, n_tokens, self.width).clone()
        full = full.scatter(1, keep[:, :, None].expand(-1, -1, self.width), latent[:, 1:].to(full.dtype))
        y = torch.cat([latent[:, :1], full], dim=1) + self.dec_pos[: 1 + n_tokens]
        for block in self.dec_blocks:
            y = block(y)
        return self.dec_norm(y)[:, 1:]

    def logits(self, states: torch.Tensor) -> torch.Tensor:
        """Decoder states [..., width] -> index logits [..., t * d, k]."""
        return self.head(states.reshape(*states.shape[:-1], -1, self.code_dim))

    def forward(self, codes: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Codes [batch, T, D'], mask [batch, N] (True = masked) -> all tokens' logits [batch, N, t*d, k]."""
        tokens = patchify(codes, self.cfg.patch_t, self.cfg.patch_d)
        keep, _ = split_visible(mask)
        latent = self.encode_visible(self.embed(tokens), keep.to(tokens.device))
        return self.logits(self.decode(latent, keep.to(tokens.device), tokens.shape[1]))

    def pretrain_loss(self, codes: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Equation (1) without materialising visible tokens' logits (the same value as
        ``masked_token_loss(self(codes, mask), patchify(codes), mask)``)."""
        tokens = patchify(codes, self.cfg.patch_t, self.cfg.patch_d)
        keep, drop = (x.to(tokens.device) for x in split_visible(mask))
        states = self.decode(self.encode_visible(self.embed(tokens), keep), keep, tokens.shape[1])
        masked = torch.gather(states, 1, drop[:, :, None].expand(-1, -1, self.width))  # [batch, M, width]
        targets = torch.gather(tokens, 1, drop[:, :, None].expand(-1, -1, tokens.shape[2]))  # [batch, M, t*d]
        logits = self.logits(masked)
        return F.cross_entropy(logits.reshape(-1, self.codebook_size).float(), targets.reshape(-1))


def masked_token_loss(logits: torch.Tensor, tokens: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Cross-entropy over masked tokens' indices only: logits [batch, N, t*d, k], tokens [batch, N, t*d]."""
    sel = logits[mask]  # [n_masked, t*d, k]
    return F.cross_entropy(sel.reshape(-1, sel.shape[-1]).float(), tokens[mask].reshape(-1))

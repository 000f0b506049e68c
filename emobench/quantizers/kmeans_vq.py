"""Plain single-stage k-means VQ: the classic "discrete units" (one codeword per frame), as a peer."""

from __future__ import annotations

from emobench.quantizers.rvq import ResidualVQ


class KMeansVQ(ResidualVQ):
    """One k-means codebook of ``codebook_size`` entries: a ResidualVQ with a single stage."""

    def __init__(
        self,
        *,
        codebook_size: int = 1024,
        max_points_per_centroid: int | None = 256,
        n_iter: int = 20,
        tol: float = 1e-4,
        init_points_per_centroid: int = 4,
        min_train_frames: int = 16384,
    ):
        super().__init__(
            n_stages=1,
            codebook_size=codebook_size,
            max_points_per_centroid=max_points_per_centroid,
            n_iter=n_iter,
            tol=tol,
            init_points_per_centroid=init_points_per_centroid,
            min_train_frames=min_train_frames,
        )
        del self.params["n_stages"]  # not a constructor argument here: load() rebuilds from params

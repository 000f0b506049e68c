"""Published numbers from the Emo-Q paper, shown beside ours on the RQ4 page.

Table 1 of "Emotion-Aware Quantization for Discrete Speech Representations" (Zhou, Wang, Wu,
Bailey, Dang): primary-emotion macro-F1 change over the continuous emotion2vec+ baseline,
averaged over four OOD test sets, per codebook layout (codebooks x entries). The paper prints
the changes without a unit; values such as -0.98 can only be percentage points (a fraction
would mean an almost total loss), so the leaderboard shows ours in percentage points too.
"""

from __future__ import annotations

PAPER = "Zhou et al., Emotion-Aware Quantization for Discrete Speech Representations (Table 1)"
TABLE1_UPSTREAM = "emotion2vec+ base"
TABLE1_UNIT = "percentage points"
TABLE1_LAYOUTS: tuple[str, ...] = ("8x32", "8x64", "8x128", "32x2", "32x4", "64x2", "128x2")
TABLE1_METHODS: tuple[str, ...] = ("Bal", "Emo-Q(100)", "Emo-Q(99)")

TABLE1: dict[str, dict[str, float]] = {
    "Bal": dict(zip(TABLE1_LAYOUTS, (-0.09, +0.02, +0.02, -0.98, -0.53, -1.00, +0.17), strict=True)),
    "Emo-Q(100)": dict(zip(TABLE1_LAYOUTS, (+0.95, +0.97, +0.66, +0.51, +1.18, +0.67, +0.77), strict=True)),
    "Emo-Q(99)": dict(zip(TABLE1_LAYOUTS, (+1.57, +1.45, +1.20, +0.57, +0.25, -0.18, -0.18), strict=True)),
}


def normalize_layout(layout: object) -> str | None:
    """'8 × 32', '8X32' and '8x32' are one layout."""
    if layout is None:
        return None
    text = str(layout).strip().lower().replace("×", "x").replace(" ", "")
    return text or None


def table1_method(name: object) -> str | None:
    """Map a quantizer/method/composition name onto a Table 1 row, or None if it is not one."""
    if name is None:
        return None
    text = str(name).strip().lower().replace("_", "-")
    if "emoq" in text.replace("-", ""):
        return "Emo-Q(99)" if "99" in text else "Emo-Q(100)"
    if text in {"bal", "balanced", "rvq", "rvq-balanced"} or text.startswith(("bal", "rvq")):
        return "Bal"
    return None

"""File and folder names as releases spell them: accents and Unicode forms vary between copies.

A zip made on macOS stores ``OréauFR_02`` decomposed (``e`` + combining accent, NFD), one made on
Windows may store ``Colère`` in a DOS code page; loaders compare names through ``fold`` instead.
"""

from __future__ import annotations

import unicodedata


def fold(name: str) -> str:
    """``name`` without accents, case-folded: ``"OréauFR_01"`` (NFC or NFD) -> ``"oreaufr_01"``."""
    decomposed = unicodedata.normalize("NFKD", name)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()

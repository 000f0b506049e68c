"""The synthetic demo corpus as a registry entry (generated on first use, cached, no download)."""

from __future__ import annotations

import csv
from pathlib import Path

from emobench.corpora.base import DEFAULT_LABELS, Corpus, Utterance
from emobench.demo import EMOTIONS, DemoConfig, ensure_demo_corpus


def default_demo_root() -> Path:
    from emobench.cache_dirs import cache_root

    return cache_root() / "demo"


class DemoCorpus:
    """Deterministic synthetic speech for angry/happy/neutral/sad; every output is marked synthetic."""

    name = "demo"

    def __init__(self, *, root: str | Path | None = None, label_set=DEFAULT_LABELS, progress=None, **config):
        if label_set not in ("emo4", "full", None) and tuple(label_set) != DEFAULT_LABELS:  # full: its own four
            from emobench.errors import CorpusError

            raise CorpusError(f"the demo corpus only has the labels {', '.join(DEFAULT_LABELS)}")
        self.root = Path(root) if root else default_demo_root()
        self.config = DemoConfig(**config)
        self.progress = progress

    def load(self) -> Corpus:
        manifest = ensure_demo_corpus(self.root, self.config, progress=self.progress)
        utts = []
        with open(manifest, newline="") as fh:
            for row in csv.DictReader(fh):
                votes = [float(row[f"vote_{e}"]) for e in EMOTIONS]
                total = sum(votes)
                utts.append(Utterance(
                    id=f"demo/{row['id']}", corpus="demo", path=str(manifest.parent / row["path"]),
                    speaker=row["speaker"], label=row["label"],
                    soft_label=tuple(v / total for v in votes) if total else None,
                    primary_share=max(votes) / total if total else None,
                    meta={"sentence": int(row["sentence"])},
                ))
        return Corpus(
            name="demo", root=manifest.parent, label_set=DEFAULT_LABELS, utterances=utts,
            synthetic=True, has_soft_labels=True,
        )

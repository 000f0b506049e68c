"""IEMOCAP (Busso et al. 2008), ``IEMOCAP_full_release`` as distributed by USC SAIL.

Layout: ``Session{1..5}/dialog/EmoEvaluation/<dialog>.txt`` and ``Session{n}/sentences/wav/<dialog>/<utt>.wav``.
Each utterance block in an EmoEvaluation file starts with ``[start - end]<TAB>utt<TAB>code<TAB>[V, A, D]``
(code: ang hap exc sad neu fru fea sur dis oth, or xxx for no agreement, which is dropped) and is followed
by one ``C-<evaluator>:<TAB>Cat1; Cat2;<TAB>(comment)`` line per categorical evaluator. Evaluators E1..E6
are external annotators (a category outside the scheme counts as ``other``, reported); F*/M* lines are the actors' self-evaluations (left out unless
``self_evaluations=True``). An evaluator who names k categories gives each 1/k of a vote; the votes,
restricted to the label set and renormalised, are the soft label. ``excited`` is merged into ``happy``
when ``excited`` is outside the label set (the paper's practice). Both improvised and scripted dialogs are
kept; the speaker is ``Ses0N`` + the utterance's F/M; ``split`` is the session (``Session1``..).
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

from emobench.corpora.base import DEFAULT_LABELS
from emobench.corpora.native import CorpusBuilder, NativeLoader
from emobench.errors import CorpusError

HEADER = re.compile(r"^\[\s*([\d.]+)\s*-\s*([\d.]+)\s*\]\s+(\S+)\s+(\S+)\s+\[")
EVAL = re.compile(r"^C-([A-Z]+\d*)\s*:\s*(.*)$")
CATEGORIES = {  # spellings used on the C- lines
    "anger": "angry", "happiness": "happy", "excited": "excited", "sadness": "sad", "neutral": "neutral",
    "neutral state": "neutral", "frustration": "frustrated", "fear": "fearful", "surprise": "surprised",
    "disgust": "disgust", "other": "other",
}


def parse_emo_evaluation(path: Path, *, self_evaluations: bool = False) -> list[dict]:
    """One dict per utterance: name, code, start_s, end_s, votes {canonical: weight}, unknown categories.

    A category outside the annotation scheme (free text) counts as an ``other`` vote and is listed in
    ``unknown`` so the loader can report it; the consensus code, in contrast, must be a known one."""
    out: list[dict] = []
    current: dict | None = None
    text = path.read_text(encoding="utf-8", errors="replace")
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        m = HEADER.match(line)
        if m:
            current = {"name": m.group(3), "code": m.group(4), "start_s": float(m.group(1)),
                       "end_s": float(m.group(2)), "votes": defaultdict(float), "n_evaluators": 0, "unknown": []}
            out.append(current)
            continue
        m = EVAL.match(line)
        if not m or current is None:
            continue
        evaluator, body = m.groups()
        if evaluator[0] in "FM" and not self_evaluations:
            continue
        cats = [c.strip() for c in body.split("(")[0].split(";") if c.strip()]
        names = []
        for c in cats:
            key = c.lower()
            if key.startswith("other"):
                key = "other"
            if key not in CATEGORIES:  # free text outside the scheme: an 'other' vote, reported
                current["unknown"].append(f"{c!r} on line {lineno}")
                key = "other"
            names.append(CATEGORIES[key])
        for n in names:
            current["votes"][n] += 1.0 / len(names)
        current["n_evaluators"] += bool(names)
    return out


class IEMOCAP(NativeLoader):
    name = "iemocap"
    native_labels = {"ang": "angry", "hap": "happy", "exc": "excited", "sad": "sad", "neu": "neutral",
                     "fru": "frustrated", "fea": "fearful", "sur": "surprised", "dis": "disgust", "oth": "other",
                     "xxx": None}
    merges = {"excited": "happy"}
    layout = "Session1..5/dialog/EmoEvaluation/*.txt and Session1..5/sentences/wav/<dialog>/<utt>.wav"

    def __init__(self, *, root=None, label_set=DEFAULT_LABELS, sessions=(1, 2, 3, 4, 5),
                 self_evaluations: bool = False, improvised: bool = True, scripted: bool = True):
        super().__init__(root=root, label_set=label_set)
        self.sessions = tuple(int(s) for s in sessions)
        self.self_evaluations, self.improvised, self.scripted = self_evaluations, improvised, scripted

    def _read(self, root: Path, b: CorpusBuilder) -> str:
        for n in self.sessions:
            session = root / f"Session{n}"
            eval_dir = session / "dialog" / "EmoEvaluation"
            if not eval_dir.is_dir():
                raise CorpusError(f"iemocap: annotation folder {eval_dir} not found; the root must hold "
                                  "Session1..5 of IEMOCAP_full_release")
            files = sorted(p for p in eval_dir.glob("*.txt") if not p.name.startswith("."))
            if not files:
                raise CorpusError(f"iemocap: no EmoEvaluation *.txt files in {eval_dir}")
            for file in files:
                kind = "impro" if "_impro" in file.stem else "script"
                if (kind == "impro" and not self.improvised) or (kind == "script" and not self.scripted):
                    continue
                for item in parse_emo_evaluation(file, self_evaluations=self.self_evaluations):
                    name = item["name"]
                    dialog = name.rsplit("_", 1)[0]
                    wav = session / "sentences" / "wav" / dialog / f"{name}.wav"
                    if not wav.is_file():
                        b.problems.append(f"annotated utterance {name} has no audio file {wav}")
                        continue
                    if item["unknown"]:
                        b.problems.append(f"{file.name}: {name}: categories outside the scheme counted as "
                                          f"'other': {', '.join(item['unknown'])}")
                    votes = dict(item["votes"]) or None
                    b.add(local_id=name, path=wav, speaker=f"Ses0{n}{name.rsplit('_', 1)[1][0]}",
                          code=item["code"], where=f"{file} ({name})", votes=votes, split=f"Session{n}",
                          dialog=dialog, kind=kind, n_evaluators=item["n_evaluators"])
        return "EmoEvaluation categorical lines" + (" incl. self-evaluations" if self.self_evaluations else "")

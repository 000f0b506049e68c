"""Split protocols, deterministic under a seed, and the leakage check the harness enforces.

Every protocol sorts utterances by id before drawing, so the same seed gives the same split whatever
the input order. Speakers are identified per corpus: ``(corpus, speaker)``. The paper's default is a
per-corpus split stratified by label, 50/10/40 train/val/test (Emo-Q section 3.1).

``Splits.codebook_train`` holds the data that fits quantizer codebooks when it differs from the probe's
``train`` (leave-one-corpus-out, held-out corpus); empty means "codebooks fit on ``train``".
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from emobench.corpora.base import Utterance
from emobench.errors import CorpusError, EmobenchError, SplitLeakError

PAPER_FRACTIONS = (0.5, 0.1, 0.4)
PARTS = ("train", "val", "test")


@dataclass
class Splits:
    train: list[Utterance]
    val: list[Utterance]
    test: list[Utterance]
    protocol: dict[str, Any]
    codebook_train: list[Utterance] = field(default_factory=list)

    @property
    def fit_utts(self) -> list[Utterance]:
        """Everything used to fit codebooks or probes."""
        return self.codebook_train + self.train

    @property
    def eval_utts(self) -> list[Utterance]:
        return self.val + self.test

    def check(self) -> None:
        """Raise SplitLeakError if evaluation data (or, speaker-independent, a speaker) is in fitting data."""
        check_disjoint(self.fit_utts, self.eval_utts, by_speaker=bool(self.protocol.get("speaker_independent")))

    def describe(self) -> str:
        p = self.protocol
        extra = ", ".join(f"{k} {v}" for k, v in p.items() if k not in ("name", "sizes", "ids_sha256"))
        head = f"{p.get('name')} ({extra})"
        lines = [head]
        parts = (("codebook_train", self.codebook_train),) if self.codebook_train else ()
        for name, utts in (*parts, ("train", self.train), ("val", self.val), ("test", self.test)):
            labels = Counter(u.label for u in utts)
            speakers = {(u.corpus, u.speaker) for u in utts}
            corpora = sorted({u.corpus for u in utts})
            lab = ", ".join(f"{k} {v}" for k, v in sorted(labels.items()))
            lines.append(f"  {name}: {len(utts)} utts, {len(speakers)} speakers, {'+'.join(corpora)}; {lab}")
        return "\n".join(lines)


# -- helpers ----------------------------------------------------------------------------------------
def _rng(seed: int, *keys: object) -> np.random.Generator:
    """A generator that depends on the seed and the group (corpus, label...), not on Python's hash salt."""
    digest = hashlib.sha256(repr((int(seed), *keys)).encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


def _sorted_unique(utts: Iterable[Utterance]) -> list[Utterance]:
    out = sorted(utts, key=lambda u: u.id)
    if not out:
        raise CorpusError("cannot split an empty set of utterances; check the corpus root and label set")
    dup = [a.id for a, b in zip(out, out[1:], strict=False) if a.id == b.id]
    if dup:
        raise CorpusError(f"duplicate utterance ids {dup[:3]} ({len(dup)} in all); each id must be unique")
    return out


def _check_fractions(fractions: Sequence[float]) -> tuple[float, float, float]:
    f = tuple(float(x) for x in fractions)
    if len(f) != 3 or min(f) < 0 or abs(sum(f) - 1.0) > 1e-6:
        raise EmobenchError(f"split fractions must be three non-negative numbers summing to 1, got {fractions}")
    return f  # type: ignore[return-value]


def _apportion(n: int, fractions: Sequence[float], offset: int = 0) -> list[int]:
    """Largest-remainder counts: each is floor or ceil of n * fraction, and they sum to n.

    Ties go to parts in a rotating order (``offset``), so equal folds stay equal in total too.
    """
    exact = [n * f for f in fractions]
    counts = [int(np.floor(x + 1e-9)) for x in exact]
    m = len(exact)
    order = sorted(range(m), key=lambda i: (-round(exact[i] - counts[i], 9), (i - offset) % m))
    for i in order[: n - sum(counts)]:
        counts[i] += 1
    return counts


def _ids_digest(utts: Sequence[Utterance]) -> str:
    return hashlib.sha256("\n".join(sorted(u.id for u in utts)).encode()).hexdigest()[:16]


def _finish(parts: dict[str, list[Utterance]], protocol: dict[str, Any]) -> Splits:
    """Sort each part by id, record sizes and id digests (to tell two splits apart), check for leaks."""
    for k in parts:
        parts[k] = sorted(parts[k], key=lambda u: u.id)
    protocol["sizes"] = {k: len(v) for k, v in parts.items()}
    protocol["ids_sha256"] = {k: _ids_digest(v) for k, v in parts.items()}
    splits = Splits(**parts, protocol=protocol)
    splits.check()
    return splits


def _by(utts: Iterable[Utterance], key) -> dict[Any, list[Utterance]]:
    groups: dict[Any, list[Utterance]] = defaultdict(list)
    for u in utts:
        groups[key(u)].append(u)
    return dict(sorted(groups.items(), key=lambda kv: str(kv[0])))


def _stratified_parts(utts: list[Utterance], fractions, seed: int) -> list[list[Utterance]]:
    """Per (corpus, label): shuffle under the seed, cut by largest-remainder counts."""
    parts: list[list[Utterance]] = [[] for _ in fractions]
    for g, ((corpus, label), group) in enumerate(_by(utts, lambda u: (u.corpus, u.label)).items()):
        order = _rng(seed, "stratified", corpus, label).permutation(len(group))
        shuffled = [group[i] for i in order]
        start = 0
        for part, count in zip(parts, _apportion(len(group), fractions, offset=g), strict=True):
            part.extend(shuffled[start : start + count])
            start += count
    return parts


def _speaker_parts(utts: list[Utterance], fractions, seed: int) -> list[list[Utterance]]:
    """Per corpus: whole speakers go, largest first, to the part whose per-label targets they fill best."""
    parts: list[list[Utterance]] = [[] for _ in fractions]
    for corpus, cutts in _by(utts, lambda u: u.corpus).items():
        labels = sorted({u.label for u in cutts})
        speakers = _by(cutts, lambda u: u.speaker)
        names = list(speakers)
        names = [names[i] for i in _rng(seed, "speakers", corpus).permutation(len(names))]
        names.sort(key=lambda s: -len(speakers[s]))  # stable: ties keep the seeded order
        total = np.array([sum(u.label == lab for u in cutts) for lab in labels], dtype=float)  # [labels]
        target = np.outer(np.asarray(fractions), total)  # [parts, labels]
        have = np.zeros_like(target)
        members: list[list[str]] = [[] for _ in fractions]
        for s in names:
            c = np.array([sum(u.label == lab for u in speakers[s]) for lab in labels], dtype=float)
            gain = [
                np.abs(have[p] - target[p]).sum() - np.abs(have[p] + c - target[p]).sum()
                if fractions[p] > 0 else -np.inf
                for p in range(len(fractions))
            ]
            p = int(np.argmax(gain))
            have[p] += c
            members[p].append(s)
        # A part that should have data but got no speaker takes the smallest speaker of the fullest part.
        for p, f in enumerate(fractions):
            if f > 0 and not members[p]:
                donor = max(range(len(fractions)), key=lambda q: len(members[q]))
                if len(members[donor]) > 1:
                    members[p].append(members[donor].pop())
        for p, group in enumerate(members):
            for s in group:
                parts[p].extend(speakers[s])
    return parts


# -- protocols --------------------------------------------------------------------------------------
def stratified(utts: Iterable[Utterance], *, fractions=PAPER_FRACTIONS, seed: int) -> Splits:
    """The paper's protocol: each corpus split by label, counts within one clip of the fractions."""
    fractions = _check_fractions(fractions)
    train, val, test = _stratified_parts(_sorted_unique(utts), fractions, seed)
    protocol = {"name": "stratified", "seed": seed, "fractions": list(fractions), "speaker_independent": False}
    return _finish({"train": train, "val": val, "test": test}, protocol)


def speaker_independent(utts: Iterable[Utterance], *, fractions=PAPER_FRACTIONS, seed: int) -> Splits:
    """No (corpus, speaker) in two parts; per-label counts kept close to the fractions by greedy fill."""
    fractions = _check_fractions(fractions)
    train, val, test = _speaker_parts(_sorted_unique(utts), fractions, seed)
    protocol = {
        "name": "speaker_independent", "seed": seed, "fractions": list(fractions), "speaker_independent": True,
    }
    return _finish({"train": train, "val": val, "test": test}, protocol)


def kfold(
    utts: Iterable[Utterance], *, k: int = 5, seed: int, speaker_independent: bool = False, val_fraction: float = 0.0
) -> list[Splits]:
    """k folds (stratified, or by speaker); fold i tests on part i. ``val_fraction`` of the rest becomes val."""
    if k < 2:
        raise EmobenchError(f"k-fold needs k >= 2, got {k}")
    ordered = _sorted_unique(utts)
    folds = (_speaker_parts if speaker_independent else _stratified_parts)(ordered, [1.0 / k] * k, seed)
    if any(not f for f in folds):
        raise CorpusError(f"cannot make {k} folds: some fold is empty ({len(ordered)} utterances); lower k")
    out = []
    for i in range(k):
        rest = sorted((u for j, f in enumerate(folds) if j != i for u in f), key=lambda u: u.id)
        if val_fraction > 0:
            split_rest = _speaker_parts if speaker_independent else _stratified_parts
            train, val, _ = split_rest(rest, (1.0 - val_fraction, val_fraction, 0.0), seed + 1000 * (i + 1))
        else:
            train, val = rest, []
        protocol = {
            "name": "kfold", "seed": seed, "k": k, "fold": i, "val_fraction": val_fraction,
            "speaker_independent": speaker_independent,
        }
        out.append(_finish({"train": train, "val": val, "test": list(folds[i])}, protocol))
    return out


def _as_set(x: str | Iterable[str]) -> set[str]:
    return {x} if isinstance(x, str) else set(x)


def predefined(
    utts: Iterable[Utterance], *, train: str | Iterable[str], val: str | Iterable[str] = (),
    test: str | Iterable[str], speaker_independent: bool = False,
) -> Splits:
    """A corpus' own splits: each part names ``Utterance.split`` values (partitions, sessions, folders)."""
    ordered = _sorted_unique(utts)
    wanted = {"train": _as_set(train), "val": _as_set(val), "test": _as_set(test)}
    seen: dict[str, str] = {}
    for part, values in wanted.items():
        for v in values:
            if v in seen:
                raise EmobenchError(f"predefined split value {v!r} is in both {seen[v]} and {part}")
            seen[v] = part
    available = sorted({str(u.split) for u in ordered if u.split is not None})
    missing = sorted(set(seen) - set(available))
    if missing:
        raise CorpusError(f"predefined split values {missing} match no utterance; the corpus has {available}")
    parts: dict[str, list[Utterance]] = {"train": [], "val": [], "test": []}
    unused = 0
    for u in ordered:
        if u.split in seen:
            parts[seen[u.split]].append(u)
        else:
            unused += 1
    protocol = {
        "name": "predefined", "seed": None, "speaker_independent": speaker_independent,
        "values": {k: sorted(v) for k, v in wanted.items()}, "unused": unused,
    }
    return _finish(parts, protocol)


def from_file(utts: Iterable[Utterance], *, path: str, speaker_independent: bool = False) -> Splits:
    """A split written by ``emobench corpus info --export`` (CSV ``utt_id,part``): reproduce a number exactly."""
    import csv

    parts: dict[str, str] = {}
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            if set(reader.fieldnames or []) < {"utt_id", "part"}:
                raise CorpusError(f"split file {path} needs columns utt_id,part (as `emobench corpus info --export` writes)")
            for lineno, row in enumerate(reader, start=2):
                if row["part"] not in PARTS + ("codebook_train",):
                    raise CorpusError(f"split file {path} line {lineno}: part {row['part']!r} is not one of {PARTS}")
                parts[row["utt_id"]] = row["part"]
    except OSError as exc:
        raise CorpusError(f"cannot read split file {path}: {exc.strerror or exc}") from exc
    ordered = _sorted_unique(utts)
    missing = sorted(set(parts) - {u.id for u in ordered})
    if missing:
        raise CorpusError(f"split file {path} names {len(missing)} utterances not in the corpus (e.g. {missing[0]}); "
                          "was it exported from another release or label set?")
    out: dict[str, list[Utterance]] = {"train": [], "val": [], "test": [], "codebook_train": []}
    for u in ordered:
        if u.id in parts:
            out[parts[u.id]].append(u)
    protocol = {"name": "from_file", "seed": None, "file": str(path), "speaker_independent": speaker_independent,
                "unused": len(ordered) - len(parts)}
    return _finish(out, protocol)


# name -> function(utts, *, seed, fractions, **params) -> Splits or list[Splits]
PROTOCOLS = {
    "stratified": lambda utts, *, seed, fractions, **kw: stratified(utts, seed=seed, fractions=fractions, **kw),
    "speaker_independent": lambda utts, *, seed, fractions, **kw: speaker_independent(
        utts, seed=seed, fractions=fractions, **kw),
    "kfold": lambda utts, *, seed, fractions, **kw: kfold(utts, seed=seed, **kw),
    "predefined": lambda utts, *, seed, fractions, **kw: predefined(utts, **kw),
    "from_file": lambda utts, *, seed, fractions, **kw: from_file(utts, **kw),
}


def split(utts: Iterable[Utterance], protocol: str = "stratified", *, seed: int, fractions=PAPER_FRACTIONS,
          **params: Any) -> list[Splits]:
    """Split ``utts`` with a named protocol (``PROTOCOLS``); k-fold gives k Splits, the others one."""
    if protocol not in PROTOCOLS:
        raise EmobenchError(f"unknown split protocol {protocol!r}; choose one of {', '.join(PROTOCOLS)}")
    try:
        out = PROTOCOLS[protocol](list(utts), seed=seed, fractions=fractions, **params)
    except TypeError as exc:
        raise EmobenchError(f"split protocol {protocol!r}: bad parameters {params} ({exc})") from None
    return out if isinstance(out, list) else [out]


def _split_corpora(utts: Iterable[Utterance], held_out: str) -> tuple[list[Utterance], list[Utterance]]:
    ordered = _sorted_unique(utts)
    held = [u for u in ordered if u.corpus == held_out]
    rest = [u for u in ordered if u.corpus != held_out]
    corpora = sorted({u.corpus for u in ordered})
    if not held:
        raise CorpusError(f"held-out corpus {held_out!r} has no utterances here; loaded corpora: {corpora}")
    if not rest:
        raise CorpusError(f"holding out {held_out!r} leaves no other corpus to fit on; load more corpora")
    return held, rest


def leave_one_corpus_out(
    utts: Iterable[Utterance], *, held_out: str, seed: int, fractions=PAPER_FRACTIONS, protocol: str = "stratified",
    **params: Any,
) -> list[Splits]:
    """RQ1/RQ2: codebooks fit on the other corpora's train parts; the held-out corpus is split for the probe
    with ``protocol`` (one Splits per fold)."""
    fractions = _check_fractions(fractions)
    held, rest = _split_corpora(utts, held_out)
    codebook, _, _ = _stratified_parts(rest, fractions, seed)
    out = []
    for inner in split(held, protocol, seed=seed, fractions=fractions, **params):
        proto = {
            **inner.protocol, "name": "leave_one_corpus_out", "within": inner.protocol["name"], "seed": seed,
            "fractions": list(fractions), "held_out": held_out, "codebook_corpora": sorted({u.corpus for u in rest}),
        }
        out.append(_finish({"train": inner.train, "val": inner.val, "test": inner.test, "codebook_train": codebook},
                           proto))
    return out


def held_out_corpus(
    utts: Iterable[Utterance], *, held_out: str, seed: int, fractions=PAPER_FRACTIONS
) -> Splits:
    """RQ3: the held-out corpus is all test; codebooks and probes fit on the others' train parts."""
    fractions = _check_fractions(fractions)
    held, rest = _split_corpora(utts, held_out)
    train, val, _ = _stratified_parts(rest, fractions, seed)
    protocol = {
        "name": "held_out_corpus", "seed": seed, "fractions": list(fractions), "held_out": held_out,
        "speaker_independent": False, "fit_corpora": sorted({u.corpus for u in rest}),
    }
    return _finish({"train": train, "val": val, "test": held}, protocol)


# -- discipline -------------------------------------------------------------------------------------
def check_disjoint(fit_utts: Iterable[Utterance], eval_utts: Iterable[Utterance], *, by_speaker: bool) -> None:
    """SplitLeakError if an evaluation utterance (same id, or same audio segment) or speaker is in fitting data."""
    fit, ev = list(fit_utts), list(eval_utts)

    def seg(u: Utterance) -> tuple:
        return (u.path, u.start_s, u.end_s)

    fit_ids, fit_segs = {u.id for u in fit}, {seg(u) for u in fit}
    leaked = sorted({u.id for u in ev if u.id in fit_ids or seg(u) in fit_segs})
    if leaked:
        raise SplitLeakError(
            f"{len(leaked)} evaluation utterances are also in the fitting data (e.g. {', '.join(leaked[:3])}); "
            "fix the split so codebooks and probes never see evaluation audio"
        )
    if by_speaker:
        fit_spk = {(u.corpus, u.speaker) for u in fit}
        shared = sorted({(u.corpus, u.speaker) for u in ev} & fit_spk)
        if shared:
            names = ", ".join(f"{c}/{s}" for c, s in shared[:3])
            raise SplitLeakError(
                f"{len(shared)} speakers are in both fitting and evaluation data (e.g. {names}) under a "
                "speaker-independent protocol; use speaker_independent splits"
            )


def ambiguity_stratum(share: float | Sequence[float] | None) -> str:
    """'low' when the primary emotion's vote share is above one half, else 'high' (Emo-Q RQ3).

    Give the share of ALL votes (``Utterance.primary_share``: computed before any restriction to the label
    set); a distribution is accepted too (its maximum is taken). A tolerance of 1e-9 keeps an exact 50%
    (e.g. three 1/6 votes) from reading as 0.5000000000000001 = "low"."""
    if share is None or (not isinstance(share, (int, float)) and len(share) == 0):
        raise EmobenchError("ambiguity strata need vote shares; this utterance has none (use a corpus with votes)")
    top = float(share) if isinstance(share, (int, float)) else float(max(share))
    return "low" if top > 0.5 + 1e-9 else "high"


def stratum_of(utt: Utterance) -> str:
    """An utterance's stratum from its share of all votes (falls back to its restricted soft label)."""
    return ambiguity_stratum(utt.primary_share if utt.primary_share is not None else utt.soft_label)

"""What a run's numbers belong to: fitted quantizers by role, their family, bitrates, model facts.

A *system* on the overview is one quantizer as some task fitted it: (upstream, layer, probe, quantizer
preset, layout), whatever role the task gave it (RQ1's ``system``, RQ2's ``balanced``, RQ4's ``bal``
are all the same balanced RVQ). Its *family* (the overview's colour) is the quantizer kind plus its
training composition (``EmoQ 99+1``), read from the fitted quantizer's params.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from emobench.leaderboard import select as S


def fitted(doc: dict[str, Any], role: Any = None, layout: Any = None) -> dict[str, Any]:
    """The fitted quantizer of ``role`` (and ``layout``); the run's headline quantizer otherwise."""
    qs = [q for q in doc.get("quantizers") or [] if isinstance(q, dict)]
    for q in qs:
        if q.get("role") == role and (layout is None or str(q.get("layout")) == str(layout)):
            return q
    for q in qs:
        if q.get("role") == role:
            return q
    head = doc.get("quantizer") or {}
    if role is None or head.get("role") in (None, role):
        return {"role": head.get("role"), "preset": head.get("name", "none"), "kind": head.get("kind"),
                "layout": layout or head.get("layout"), "n_stages": head.get("n_stages"),
                "codebook_size": head.get("codebook_size"), "params": {}}
    return {"role": role, "preset": str(role), "layout": layout, "params": {}}


def family(q: dict[str, Any]) -> str:
    """Quantizer kind plus its training composition: ``ResidualVQ``, ``EmoQ 100+0``, ``EmoQ 99+1``."""
    kind = str(q.get("kind") or q.get("preset") or "quantizer")
    params = q.get("params") or {}
    share = S._num(params.get("target_share"))
    if params.get("composition") in ("specific", "biased") and share is not None:
        a = round(share * 100)
        return f"{kind} {a}+{100 - a}"
    return kind


def system_name(doc: dict[str, Any]) -> str:
    """What the run evaluated: the task's own name for it where the run's upstream is not the system
    (HYFuse's ``wav2vec2+encodec`` pair, ``fbank on encodec audio``), else the upstream."""
    return str(doc.get("system") or (doc.get("upstream") or {}).get("name"))


def probe_of(doc: dict[str, Any]) -> tuple[str, bool | None]:
    probe = doc.get("probe") or {}
    return str(probe.get("name") or "—"), probe.get("trained")


@dataclass(frozen=True)
class SystemId:
    upstream: str
    layer: Any
    probe: str
    preset: str
    layout: str
    extra: tuple = ()  # other keys that keep operating points apart (e.g. scoring=route)

    @property
    def key(self) -> str:
        parts = [self.upstream, f"L{self.layer}" if self.layer is not None else "", self.probe, self.preset,
                 self.layout, *(f"{k}={v}" for k, v in self.extra)]
        return " · ".join(p for p in parts if p)


def system_id(doc: dict[str, Any], role: Any = None, layout: Any = None, extra: tuple = ()) -> SystemId:
    up = doc.get("upstream") or {}
    q = fitted(doc, role, layout)
    return SystemId(system_name(doc), up.get("layer"), probe_of(doc)[0], str(q.get("preset")),
                    str(layout or q.get("layout") or ""), tuple(extra))


def run_system_key(doc: dict[str, Any]) -> str:
    """A task page's system: the upstream with every role's quantizer (one run's whole setup)."""
    up = doc.get("upstream") or {}
    roles = [f"{q.get('role')}={q.get('preset')}" for q in doc.get("quantizers") or [] if isinstance(q, dict)]
    q = doc.get("quantizer") or {}
    return " · ".join(str(x) for x in (system_name(doc), up.get("layer"), probe_of(doc)[0], q.get("name"),
                                       q.get("layout"), ",".join(dict.fromkeys(roles))))


def quantizer_label(preset: Any, layout: Any) -> str:
    """``rvq-demo 8x16``; a preset that names its layout (``rvq-8x32``) is not repeated."""
    preset, layout = str(preset), str(layout or "")
    return preset if not layout or layout in preset else f"{preset} {layout}"


def run_label(doc: dict[str, Any]) -> str:
    q = doc.get("quantizer") or {}
    if doc.get("system") and not doc.get("quantizers"):
        return str(doc["system"])
    return f"{system_name(doc)} · {quantizer_label(q.get('name'), q.get('layout'))}"


def continuous_bps(doc: dict[str, Any]) -> float | None:
    q, up = doc.get("quantizer") or {}, doc.get("upstream") or {}
    direct = S._num((q.get("bitrate") or {}).get("continuous_bps"))
    if direct:
        return direct
    dim, fps = S._num(up.get("dim")), S._num(up.get("frame_rate_hz"))
    return dim * 32 * fps if dim and fps else None


def bitrate(doc: dict[str, Any], role: Any, layout: Any, depth: Any) -> tuple[float | None, str]:
    """(bit/s actually sent by ``role`` at ``depth``, a caveat). From the run's ``bitrate`` records (the
    mean over corpora unless one says ``mean``); without one, frame codes x frame rate, with the caveat
    that a routing quantizer's per-utterance route bits are not included (none are sent under oracle
    routing). ``depth`` None: a depth the protocol chose differently per training seed, whose bitrate record
    (the seeds' mean) carries no depth either."""
    def at_depth(r: dict[str, Any]) -> bool:
        d = S.bd(r).get("depth")
        return d is None if depth is None else S._same(d, depth)

    recs = [r for r in S.records(doc, "bitrate") if S.bd(r).get("role") in (role, None) and at_depth(r)
            and (layout is None or "layout" not in S.bd(r) or S._same(S.bd(r)["layout"], layout))]
    exact = [r for r in recs if S.bd(r).get("role") == role] or recs
    overall = [r for r in exact if str(S.bd(r).get("corpus", "mean")).lower() in S.OVERALL] or exact
    if overall:
        return sum(float(r["value"]) for r in overall) / len(overall), ""
    if depth is None:
        return None, ""
    q = fitted(doc, role, layout)
    fps = S._num((doc.get("upstream") or {}).get("frame_rate_hz"))
    caveat = "frame codes only (route bits not included)" if q.get("route_bits_per_utterance") else ""
    per_frame = (q.get("bits_per_frame") or {}).get(str(depth))
    if per_frame is not None and fps:
        return float(per_frame) * fps, caveat
    per_depth = ((doc.get("quantizer") or {}).get("bitrate") or {}).get("bps_per_depth") or {}
    if S._num(per_depth.get(str(depth))) is not None and fitted(doc).get("role") == q.get("role"):
        return S._num(per_depth[str(depth)]), caveat
    k = S._num(q.get("codebook_size"))
    if k and k > 1 and fps and isinstance(depth, int):
        return depth * math.log2(k) * fps, caveat
    return None, ""


def model_facts(doc: dict[str, Any]) -> dict[str, Any]:
    """What MTEB-style leaderboards print beside a score: size, dim, frame rate, license, training data."""
    up = doc.get("upstream") or {}
    seen = S.seen_corpora(doc)
    name, trained = probe_of(doc)
    rtf = S._num(((doc.get("provenance") or {}).get("extraction") or {}).get("rtf"))
    return {"n_parameters": S._num(up.get("n_parameters")), "dim": up.get("dim"), "frame_rate_hz": up.get("frame_rate_hz"),
            "license": up.get("license"), "trained_on": list(up.get("trained_on") or []),
            "languages": list(up.get("languages") or []), "seen": seen,
            "domain": "in-domain" if seen else "zero-shot", "probe": name,
            "probe_kind": "model's own head" if trained is False else "trained probe" if trained else "",
            "rtf": rtf, "emobench": (doc.get("provenance") or {}).get("emobench_version")}

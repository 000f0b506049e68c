"""Typed, frozen specs: the one home of every named thing's metadata (mteb's TaskMetadata / ModelMeta idea).

A spec is read from ``emobench/catalogue/<kind>/<name>.yaml`` (or built by a plugin) and validated here:
unknown fields are rejected and types are checked, so a typo in a catalogue file fails loudly. Specs
hold *descriptions* (what a thing is, how to display it, the paper's numbers); behaviour lives in the
implementation named by ``impl``. Importing this module imports no torch.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Direction = Literal["higher", "lower", "none"]


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Spec(_Frozen):
    """Fields every kind shares. ``params`` are the constructor arguments of ``impl``."""

    name: str
    description: str
    impl: str = Field(pattern=r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")
    params: dict[str, Any] = Field(default_factory=dict)
    paper: str | None = None  # where the paper defines it
    extra: str | None = None  # the pip extra its backend needs

    @property
    def short_description(self) -> str:
        """The description's first sentence (what `emobench list` shows)."""
        text = " ".join(self.description.split())
        head, dot, _ = text.partition(". ")
        return head + ("." if dot else "")


class UpstreamSpec(Spec):
    """A speech encoder. Layer/dim/rate fields are asserted equal to the built object in tests."""

    sample_rate: int = 16_000
    frame_rate_hz: float | None = None  # None: declared by the user (precomputed features)
    n_layers: int | None = None
    dim: int | None = None
    default_layer: int | None = None
    license: str
    trained_on: list[str] = Field(default_factory=list)
    trained_on_note: str | None = None
    languages: list[str] = Field(default_factory=lambda: ["en"])  # ["multilingual"] for XLS-R, Whisper
    n_parameters: int | None = None  # model size, shown on the leaderboard
    default_probe: str | None = None  # e.g. emotion2vec's own head (paper section 3.2)


class QuantizerSpec(Spec):
    """A quantizer preset: an implementation plus its constructor parameters."""


class CorpusSpec(Spec):
    language: str | None = None  # BCP-47, e.g. "en", "fr-CA"
    license: str | None = None
    url: str | None = None
    paper_counts: dict[str, int] = Field(default_factory=dict)  # documented utterances / speakers / classes


class ProbeSpec(Spec):
    input: Literal["pooled", "layers", "frames"] = "pooled"
    trained: bool = True  # False: nothing is trained (a model's own head), so nothing is cached


class MetricSpec(_Frozen):
    """How a metric is read: its unit, which direction is better, a display name and a definition."""

    unit: str
    direction: Direction
    display: str
    definition: str = ""


class FigureSpec(_Frozen):
    """One figure of a task page, drawn from metric records (see emobench/leaderboard/figures.py).

    ``x`` is a breakdown key (``depth``, ``stage``) or a categorical key; one series per value of
    ``series`` (and of ``facet``, one small chart each); ``where`` keeps only records whose breakdown has
    these values; ``baseline`` draws the continuous condition as a reference line. ``kind: heatmap`` draws
    one row per series value and one column per x value, darker = higher (the cross-lingual paper's
    Figure 2 of layer weights)."""

    id: str
    title: str
    metric: str
    x: str = "depth"
    series: str | None = None
    facet: str | None = None
    where: dict[str, str | int | float] = Field(default_factory=dict)
    baseline: bool = False
    categorical: bool = False
    y_range: tuple[float, float] | None = None
    note: str = ""
    kind: Literal["chart", "heatmap"] = "chart"


class RoleSpec(_Frozen):
    """A quantizer a task needs, bound to a catalogue preset per upstream (``"*"``: any other)."""

    description: str
    presets: dict[str, str]
    router: bool = False  # the role must route (emobench.quantizers.routing.Router)

    @field_validator("presets")
    @classmethod
    def _has_default(cls, v: dict[str, str]) -> dict[str, str]:
        if "*" not in v:
            raise ValueError("presets need a '*' entry (the preset for any other upstream)")
        return v

    def preset_for(self, upstream: str) -> str:
        return self.presets.get(upstream, self.presets["*"])


class PaperTable(_Frozen):
    """Numbers the paper reports, typed once: ``values[row][column]`` in ``unit``, compared with our
    ``metric`` records whose breakdown has ``row_key=row`` and ``column_key=column`` (and ``where``)."""

    title: str
    metric: str
    unit: str
    row_key: str
    column_key: str
    where: dict[str, str | int | float] = Field(default_factory=dict)
    scale: float = 1.0  # ours x scale = the paper's unit (fraction -> percentage points: 100)
    upstream: str = ""  # the paper's encoder for these numbers
    row_labels: dict[str, str] = Field(default_factory=dict)  # row key value -> the paper's row name
    values: dict[str, dict[str, float]]


class Claim(_Frozen):
    """One numbered finding of the paper, tested by a paired-difference metric of this task."""

    id: str
    text: str
    metric: str  # a *_diff metric with a paired interval
    where: dict[str, str | int | float] = Field(default_factory=dict)
    expect: Literal["positive", "negative"] = "positive"


class TaskSpec(Spec):
    title: str
    primary: str  # the metric that ranks systems on this task
    metrics: dict[str, MetricSpec | None] = Field(default_factory=dict)  # None: the shared definition
    summary: list[str] = Field(default_factory=list)  # metrics of the terminal summary, in order
    # records of the summary keep only these breakdown values where they have the key (e.g. corpus: [mean])
    summary_where: dict[str, list[str | int | float]] = Field(default_factory=dict)
    roles: dict[str, RoleSpec] = Field(default_factory=dict)
    figures: list[FigureSpec] = Field(default_factory=list)
    paper_tables: list[PaperTable] = Field(default_factory=list)  # one per table (or metric) of the paper
    claims: list[Claim] = Field(default_factory=list)
    needs_soft_labels: bool = False
    # task params that name further upstreams (e.g. HYFuse's rlr and cbr): resolved and built like -u, each
    # with optional ``<param>_params`` (spec overrides) and ``<param>_layer`` task params
    upstream_params: list[str] = Field(default_factory=list)
    # a list task param whose values are independent (RQ4's layouts): a run with one value fits exactly the
    # codebooks and probes the full run fits for it, so a parallel executor warms the cache one value per unit
    fan_out: str | None = None

    @field_validator("summary")
    @classmethod
    def _summary_declared(cls, v: list[str], info) -> list[str]:
        declared = set(info.data.get("metrics") or {})
        missing = [m for m in v if m not in declared]
        if missing:
            raise ValueError(f"summary metrics {missing} are not listed under metrics")
        return v


SPEC_TYPES: dict[str, type[Spec]] = {
    "upstreams": UpstreamSpec, "quantizers": QuantizerSpec, "tasks": TaskSpec, "corpora": CorpusSpec,
    "probes": ProbeSpec,
}

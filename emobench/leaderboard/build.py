"""Build the static site: result folders in, a folder of HTML/CSS/JS/JSON out.

The site is built in a staging folder beside ``out_dir`` and swapped in only when every page has
rendered, so a failed build never publishes a broken page (the previous site stays as it was).
Bad result files are skipped and listed in the report and on the index page.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from emobench.errors import EmobenchError
from emobench.fsutil import make_temp_dir
from emobench.leaderboard import paper, plot
from emobench.leaderboard import select as S
from emobench.leaderboard.collect import SITE_MARKER, Problem, Run, collect
from emobench.leaderboard.points import operating_points
from emobench.leaderboard.rows import (
    COLUMNS,
    metric_table,
    overview_rows,
    run_json,
    run_page,
    task_page,
    task_sort_key,
)
from emobench.leaderboard.views import TASK_TITLES, task_views

ASSETS = Path(__file__).resolve().parent  # templates/ and static/ ship inside the package
MARKER = SITE_MARKER  # marks a folder as ours, so a rebuild may replace it (and collect skips it)


@dataclass
class BuildReport:
    out_dir: Path
    pages: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    n_runs: int = 0
    duplicates: int = 0
    ignored: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        return (f"built {len(self.pages)} pages from {self.n_runs} runs into {self.out_dir} in {self.seconds:.1f} s"
                f"; {len(self.problems)} problem(s), {self.duplicates} duplicate(s) merged")


def template_env():
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(ASSETS / "templates")),
        autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
    )
    env.filters.update(fmt=plot.fmt, bitrate=plot.fmt_bitrate, pretty=lambda x: json.dumps(x, indent=2))
    env.globals.update(plot_layout=plot.layout, columns=COLUMNS, paper=paper, task_page=task_page)
    return env


def _pareto_figure(runs: list[Run]) -> plot.Figure:
    points = operating_points(runs)
    by_up: dict[str, list] = {}
    for p in points:
        by_up.setdefault(p.upstream, []).append(p)
    series = [
        plot.Series(up, [(p.bitrate, p.value) for p in ps], line=False, front=[p.front for p in ps],
                    tips=[f"{p.system}" + (f" @ depth {p.depth}" if p.depth is not None else "") for p in ps])
        for up, ps in sorted(by_up.items())
    ]
    front = sorted((p.bitrate, p.value) for p in points if p.front)
    if front:
        series.append(plot.Series("Pareto front", front, colour=7, markers=False))
    return plot.Figure("pareto", "Emotion preservation vs bitrate", "bitrate (bit/s, log scale)",
                       "primary-emotion recall (fraction) ↑", series, x_log=True, x_fmt="bitrate",
                       note="One point per system and RVQ depth; ringed points are on the Pareto front "
                            "(no other point has a lower-or-equal bitrate and a higher-or-equal recall).")


def _shown(path: str, roots: list[Path]) -> str:
    """A problem's file as the site shows it: relative to the results folder, never the builder's full path."""
    p = Path(path).resolve()
    for root in roots:
        root = root.resolve()
        base = root if root.is_dir() else root.parent
        if p == root or base in p.parents:
            return str(Path(base.name) / p.relative_to(base))
    return Path(path).name


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _check_out(out_dir: Path) -> None:
    if out_dir.exists() and (not out_dir.is_dir() or (any(out_dir.iterdir()) and not (out_dir / MARKER).exists())):
        raise EmobenchError(f"{out_dir} exists and is not an emobench site; choose an empty or new folder with --out")


def _swap(staging: Path, out_dir: Path) -> None:
    """Replace out_dir by staging with two renames (the old site is only removed afterwards)."""
    old = None
    if out_dir.exists():
        old = make_temp_dir(out_dir.parent, f".{out_dir.name}.old-")
        out_dir.rename(old / "site")
    staging.rename(out_dir)
    if old:
        shutil.rmtree(old, ignore_errors=True)


def _nav(runs: list[Run]) -> list[tuple[str, str]]:
    titles = {r.doc["task"]: (r.doc.get("task_info") or {}).get("title") for r in runs}
    tasks = sorted(titles, key=task_sort_key)
    return [(t, titles[t] or TASK_TITLES.get(t, (t.upper(), ""))[0]) for t in tasks]


def _run_pages(env, runs: list[Run], staging: Path, report: BuildReport, base: dict[str, Any],
               progress) -> list[Run]:
    """Render every run's detail page; a run whose page fails is reported and left out of the site."""
    tpl = env.get_template("run.html.j2")
    nav = _nav(runs)
    pages: dict[int, str] = {}
    for i, run in enumerate(runs):
        try:
            pages[i] = tpl.render(root="../", doc=run.doc, json_href=Path(run_json(run)).name, tasks=nav,
                                  evaluated=S.evaluated_corpora(run.doc), seen=S.seen_corpora(run.doc),
                                  bitrate=S.bitrate(run.doc), metric_rows=metric_table(run.doc), **base)
        except Exception as exc:  # one odd file must not take the whole site down
            report.problems.append(Problem(str(run.path), "(render)", f"{type(exc).__name__}: {exc}", "render"))
        if progress:
            progress("run pages", i + 1, len(runs))
    kept = [runs[i] for i in sorted(pages)]
    if _nav(kept) != nav:  # a task lost all its runs: its page will not exist, so drop it from the nav
        return _run_pages(env, kept, staging, report, base, None)
    for i, run in enumerate(runs):
        if i in pages:
            _write(staging / run_page(run), pages[i])
            shutil.copyfile(run.path, staging / run_json(run))
            report.pages.append(run_page(run))
    return kept


def build_site(result_dirs: Iterable[str | Path], out_dir: str | Path, *, title: str = "emobench leaderboard",
               progress: Callable[[str, int, int], None] | None = None) -> BuildReport:
    """Build the site from every result file under ``result_dirs`` into ``out_dir``; see the module doc."""
    from emobench import __version__

    t0 = time.perf_counter()
    out_dir = Path(out_dir).resolve()
    _check_out(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    roots = [Path(d) for d in result_dirs]
    col = collect(roots)
    report = BuildReport(out_dir, problems=list(col.problems), duplicates=col.duplicates, ignored=col.ignored)
    env = template_env()
    staging = make_temp_dir(out_dir.parent, f".{out_dir.name}.building-")
    try:
        base: dict[str, Any] = dict(title=title, version=__version__,
                                    built=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"))
        runs = _run_pages(env, col.runs, staging, report, base, progress)
        views = task_views(runs)
        ctx: dict[str, Any] = dict(base, tasks=_nav(runs), n_runs=len(runs),
                                   synthetic=any(r.doc.get("synthetic") for r in runs))
        for v in views:
            _write(staging / task_page(v.task),
                   env.get_template("task.html.j2").render(root="", view=v, **ctx))
            report.pages.append(task_page(v.task))
        rows = overview_rows(runs)
        _write(staging / "index.html", env.get_template("index.html.j2").render(
            root="", rows=rows, pareto=_pareto_figure(runs), ignored=col.ignored,
            problems=[(_shown(p.path, roots), p) for p in report.problems],
            duplicates=col.duplicates, **ctx))
        report.pages.insert(0, "index.html")
        shutil.copytree(ASSETS / "static", staging / "static")
        report.n_runs = len(runs)
        report.seconds = time.perf_counter() - t0
        _write(staging / MARKER, json.dumps({"emobench_version": __version__, "built": ctx["built"],
                                             "runs": len(runs), "problems": [str(p) for p in report.problems]}))
        _swap(staging, out_dir)
    except BaseException as exc:
        shutil.rmtree(staging, ignore_errors=True)
        if isinstance(exc, (EmobenchError, KeyboardInterrupt)):
            raise
        if isinstance(exc, Exception):
            raise EmobenchError(f"could not build the site in {out_dir} ({type(exc).__name__}: {exc}); "
                                "the previous site there is unchanged") from exc
        raise
    return report

"""Build the static site: result folders in, a folder of HTML/CSS/JS/CSV out.

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
from emobench.leaderboard import about, claims, paths, runpage
from emobench.leaderboard import scores as C
from emobench.leaderboard.collect import SITE_MARKER, Problem, Run, collect
from emobench.leaderboard.figures import Palette, metric_info
from emobench.leaderboard.overview import Styles, labels, system_rows, task_chart
from emobench.leaderboard.render import template_env
from emobench.leaderboard.taskpage import task_view

ASSETS = Path(__file__).resolve().parent  # templates/ and static/ ship inside the package
MARKER = SITE_MARKER  # marks a folder as ours, so a rebuild may replace it (and collect skips it)
MAX_PREDICTIONS_BYTES = 64 * 2**20  # larger prediction sidecars stay beside their result file


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


def _nav(runs: list[Run]) -> list[tuple[str, str, str]]:
    """(task, page, short title) per task, in the paper's order."""
    titles = {}
    for r in sorted(runs, key=lambda r: str(r.doc.get("created_at"))):
        titles[r.doc["task"]] = (r.doc.get("task_info") or {}).get("title") or r.doc["task"]
    return [(t, paths.task_page(t), str(titles[t]).split(" · ")[0]) for t in sorted(titles, key=paths.task_sort_key)]


def _predictions(run: Run) -> Path | None:
    """The run's predictions sidecar beside its JSON, if it is a plain file name that exists there."""
    name = run.doc.get("predictions_file")
    if not isinstance(name, str) or not name or Path(name).name != name or name.startswith("."):
        return None
    src = run.path.parent / name
    return src if src.is_file() and src.stat().st_size <= MAX_PREDICTIONS_BYTES else None


def _run_pages(env, runs: list[Run], staging: Path, report: BuildReport, base: dict[str, Any], progress) -> list[Run]:
    """Render every run's page; a run whose page fails is reported and left out of the site."""
    tpl = env.get_template("run.html.j2")
    (staging / "runs").mkdir(parents=True, exist_ok=True)
    pages: dict[int, str] = {}
    for i, run in enumerate(runs):
        stem = paths.run_stem(run.run_id, run.run_hash)
        preds = _predictions(run)
        try:
            ctx = runpage.context(run, predictions_href=Path(stem).name + ".predictions.csv" if preds else None,
                                  metrics_href=Path(stem).name + ".metrics.csv", json_href=Path(stem).name + ".json")
            pages[i] = tpl.render(root="../", **ctx, **base)
        except Exception as exc:  # one odd file must not take the whole site down
            report.problems.append(Problem(str(run.path), "(render)", f"{type(exc).__name__}: {exc}", "render"))
            continue
        _write(staging / f"{stem}.html", pages[i])
        shutil.copyfile(run.path, staging / f"{stem}.json")
        if preds:
            shutil.copyfile(preds, staging / f"{stem}.predictions.csv")
        report.pages.append(f"{stem}.html")
        if progress:
            progress("run pages", i + 1, len(runs))
    return [runs[i] for i in sorted(pages)]


def _data(runs: list[Run], staging: Path) -> dict[str, str]:
    """The tidy table of every run on the site as CSV (and Parquet when pyarrow is importable), and each
    run's rows beside its page."""
    from emobench.results.table import tidy

    (staging / "data").mkdir(parents=True, exist_ok=True)
    frame = tidy(r.doc for r in runs)
    frame.to_csv(staging / "data" / "metrics.csv", index=False)
    stems = {r.run_id: paths.run_stem(r.run_id, r.run_hash) for r in runs}
    for run_id, rows in frame.groupby("run_id", sort=False):
        rows.to_csv(staging / f"{stems[run_id]}.metrics.csv", index=False)
    out = {"csv": "data/metrics.csv"}
    try:
        frame.to_parquet(staging / "data" / "metrics.parquet", index=False)
        out["parquet"] = "data/metrics.parquet"
    except ImportError:
        pass
    return out


def _overview(runs: list[Run]) -> dict[str, Any]:
    points = [p for r in runs for p in C.run_points(r)]
    styles, names = Styles.of(points), labels(points)
    infos = {r.doc["task"]: r.doc.get("task_info") or {} for r in sorted(runs, key=lambda r: str(r.doc.get("created_at")))}
    tasks = sorted({p.task for p in points}, key=paths.task_sort_key)
    charts = [task_chart(t, [p for p in points if p.task == t], infos[t], styles, names) for t in tasks]
    rows, cohorts = system_rows(points, runs, names)
    columns = [{"task": t, "href": paths.task_page(t), "title": str(infos[t].get("title") or t).split(" · ")[0],
                "metric": infos[t].get("primary"), **metric_info(infos[t], infos[t].get("primary", ""))} for t in tasks]
    return {"charts": charts, "rows": rows, "columns": columns, "cohorts": sorted(cohorts.items()),
            "has_real": any(not r.doc.get("synthetic") for r in runs)}


def build_site(result_dirs: Iterable[str | Path], out_dir: str | Path, *, title: str = "emobench leaderboard",
               progress: Callable[[str, int, int], None] | None = None) -> BuildReport:
    """Build the site from every result file under ``result_dirs`` into ``out_dir``; see the module doc."""
    from emobench import __version__
    from emobench.results.schema import SCHEMA_VERSION
    from emobench.results.table import COLUMN_DOCS

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
        base: dict[str, Any] = dict(title=title, version=__version__, schema_version=SCHEMA_VERSION,
                                    built=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                                    tasks=_nav(col.runs), has_real=any(not r.doc.get("synthetic") for r in col.runs),
                                    synthetic=any(r.doc.get("synthetic") for r in col.runs))
        runs = _run_pages(env, col.runs, staging, report, base, progress)
        if _nav(runs) != base["tasks"]:  # a task lost every run: re-render so no page links to its missing page
            shutil.rmtree(staging / "runs", ignore_errors=True)
            report.pages = []
            base["tasks"] = _nav(runs)
            runs = _run_pages(env, runs, staging, report, base, None)
        ctx: dict[str, Any] = dict(base, tasks=_nav(runs), n_runs=len(runs),
                                   has_real=any(not r.doc.get("synthetic") for r in runs),
                                   synthetic=any(r.doc.get("synthetic") for r in runs), downloads=_data(runs, staging))
        palette = Palette()
        for task, page, _ in ctx["tasks"]:
            view = task_view(task, [r for r in runs if r.doc["task"] == task], palette)
            _write(staging / page, env.get_template("task.html.j2").render(root="", view=view, **ctx))
            report.pages.append(page)
        results = claims.evaluate(runs)
        _write(staging / "claims.html", env.get_template("claims.html.j2").render(root="", claims=results, **ctx))
        _write(staging / "about.html", env.get_template("about.html.j2").render(
            root="", about_tasks=about.tasks(runs), metrics=about.metrics(runs), about=about,
            ci_levels=about.ci_levels(runs),
            column_docs=COLUMN_DOCS, **ctx))
        _write(staging / "index.html", env.get_template("index.html.j2").render(
            root="", ov=_overview(runs), ignored=col.ignored, duplicates=col.duplicates,
            problems=[(_shown(p.path, roots), p) for p in report.problems], **ctx))
        report.pages[:0] = ["index.html", "claims.html", "about.html"]
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

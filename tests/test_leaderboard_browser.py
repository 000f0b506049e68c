"""The built site in headless Chromium (Debian's /usr/bin/chromium driven by Playwright for Python).

Screenshots of every page at 1280 and 390 px go to $EMOBENCH_ARTIFACTS (or a pytest tmp folder); their
paths are listed in ``screenshots.txt`` there, page heights in ``page-heights.json``; ``-s`` prints them.
"""

from __future__ import annotations

import json
import os
import shutil
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urljoin, urlparse

import pytest
from test_site_real_runs import real_results

from emobench.leaderboard import build_site, collect, paths, scores
from emobench.leaderboard.overview import Styles, labels, task_chart
from emobench.leaderboard.serve import start_background
from emobench.leaderboard.synthetic import make_result, write_results
from emobench.leaderboard.taskpage import task_view

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("EMOBENCH_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'
BIDI = "up\u202eevil"
RICH = "[/x] [bold]not markup[/bold]"
TASKS = ("rq1", "rq2", "rq3", "rq4", "ood-ser")
WIDTHS = (1280, 390)


def _serve(folder):
    server, url = start_background(folder)
    return server, url


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("lb")
    results = root / "results"
    write_results(results, 50)  # 10 systems on every task
    evil = make_result(51)
    evil["run_id"], evil["upstream"]["name"], evil["notes"] = XSS, BIDI, [XSS, RICH]
    (results / "evil.json").write_text(json.dumps(evil))
    (results / "future.json").write_text(json.dumps({**evil, "schema_version": 99}))
    real = real_results(tmp_path_factory)
    report = build_site([results, real], root / "site")
    server, url = _serve(root / "site")
    runs = collect([results, real]).runs
    real_rq1 = next(r for r in runs if r.doc["task"] == "rq1" and r.path.parent == real)
    evil_run = next(r for r in runs if r.run_id == XSS)
    pages = [p for p in report.pages if not p.startswith("runs/")]
    pages += [paths.run_stem(r.run_id, r.run_hash) + ".html" for r in (real_rq1, evil_run)]
    yield {"report": report, "url": url, "dir": root / "site", "runs": runs, "pages": pages, "evil": evil_run}
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists() or not shutil.which(CHROMIUM):
        pytest.skip(f"chromium not found at {CHROMIUM}: apt-get install chromium (or set EMOBENCH_CHROMIUM)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory):
    out = Path(os.environ.get("EMOBENCH_ARTIFACTS") or tmp_path_factory.mktemp("screenshots"))
    out.mkdir(parents=True, exist_ok=True)
    return out


def _open(browser, url, scheme="light", width=1280):
    page = browser.new_page(viewport={"width": width, "height": 900}, color_scheme=scheme)
    problems: list[str] = []
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("response", lambda r: problems.append(f"HTTP {r.status} {r.url}") if r.status >= 400 else None)
    page.on("dialog", lambda d: (problems.append(f"dialog: {d.message}"), d.dismiss()))
    page.goto(url, wait_until="load")
    return page, problems


CLIPPED = """() => {
  const bad = [];
  for (const el of document.querySelectorAll('td, th, figcaption, h1, h2, h3, .legend-item, label, dd')) {
    if (!el.offsetParent) continue;
    const cs = getComputedStyle(el);
    const clips = ['hidden', 'clip'].includes(cs.overflowX) || cs.textOverflow === 'ellipsis';
    if (clips && el.scrollWidth > el.clientWidth + 1) bad.push(el.textContent.trim().slice(0, 60));
  }
  for (const el of document.querySelectorAll('main > *, main section > *')) {
    const r = el.getBoundingClientRect();
    if (el.offsetParent && r.right > window.innerWidth + 1) bad.push('sticks out: ' + el.tagName + ' ' + el.className);
  }
  return bad;
}"""


def test_every_page_loads_cleanly_fits_1280_and_390_px_and_is_screenshotted(site, browser, artifacts):
    shots = []
    for name in site["pages"]:
        for width in WIDTHS:
            for scheme in ("light", "dark") if name == "index.html" and width == 1280 else ("light",):
                page, problems = _open(browser, site["url"] + name, scheme, width)
                assert page.locator("h1").count() == 1, name
                overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
                assert overflow <= 0, f"{name} at {width} px: {overflow} px of horizontal overflow"
                assert page.evaluate(CLIPPED) == [], (name, width)
                shot = artifacts / f"{name.replace('/', '_').removesuffix('.html')}-{width}-{scheme}.png"
                page.screenshot(path=str(shot), full_page=True)
                shots.append(shot)
                page.close()
                assert not problems, f"{name}: {problems}"
    (artifacts / "screenshots.txt").write_text("\n".join(map(str, shots)) + "\n")
    print("\nscreenshots:\n" + "\n".join(map(str, shots)))
    assert all(s.stat().st_size > 5_000 for s in shots)


def test_overview_and_task_tables_need_no_sideways_scroll_at_1280_px(site, browser):
    for name in ["index.html", "claims.html", "about.html"] + [paths.task_page(t) for t in TASKS]:
        page, problems = _open(browser, site["url"] + name)
        scrolled = page.evaluate("""() => [...document.querySelectorAll('.table-wrap')]
            .filter(w => w.offsetParent && w.scrollWidth > w.clientWidth + 1).map(w => w.innerText.slice(0, 60))""")
        assert scrolled == [], name
        page.close()
        assert not problems


def _figure_counts(page, fig_id):
    return page.locator(f'[id="{fig_id}"]').evaluate("""f => ({
        declared: +f.dataset.nSeries, series: f.querySelectorAll('g.series').length,
        points: f.querySelectorAll('.pt').length, refs: f.querySelectorAll('g.ref').length,
        visible: !!f.offsetParent})""")


def test_task_figures_have_the_expected_series_counts(site, browser):
    for task in TASKS:
        view = task_view(task, [r for r in site["runs"] if r.doc["task"] == task])
        assert len(view.panels) >= 10
        page, problems = _open(browser, site["url"] + paths.task_page(task))
        for panel in view.panels:
            for group in panel.groups:
                for chart, n in zip(group.charts, group.n_series, strict=True):
                    got = _figure_counts(page, chart.fig_id)
                    assert got["declared"] == got["series"] == n, (task, chart.fig_id)
                    assert got["points"] == sum(len(s.points) for s in chart.series), (task, chart.fig_id)
                    assert got["refs"] == len(chart.refs)
                    assert got["visible"] == panel.shown, (task, chart.fig_id)
        assert sum(p.shown for p in view.panels) == 2
        page.close()
        assert not problems


def test_overview_charts_have_one_series_per_system_and_the_front(site, browser):
    points = [p for r in site["runs"] for p in scores.run_points(r)]
    styles, names = Styles.of(points), labels(points)
    page, problems = _open(browser, site["url"] + "index.html")
    for task in TASKS:
        info = next(r.doc["task_info"] for r in site["runs"] if r.doc["task"] == task)
        chart = task_chart(task, [p for p in points if p.task == task], info, styles, names)
        got = _figure_counts(page, chart.fig_id)
        assert got["series"] == len(chart.series) and got["points"] == chart.n_points > 10, task
        assert page.locator(f'[id="{chart.fig_id}"] .pt.front').count() >= 1
        families = page.locator(f'[id="{chart.fig_id}"] .legend-item[data-attr="family"]').count()
        assert families == len({p.family for p in points if p.task == task})
    assert not problems


def test_the_picker_shows_and_hides_systems(site, browser):
    page, problems = _open(browser, site["url"] + "task-rq3.html")
    panels = page.locator("section.panel")
    visible = lambda: sum(panels.nth(i).is_visible() for i in range(panels.count()))  # noqa: E731
    assert visible() == 2
    page.click('[data-pick="none"]')
    assert visible() == 0 and "0 of" in page.locator("[data-pick-count]").inner_text()
    box = page.locator(".picker-list input").nth(4)
    box.check()
    panel = page.locator(f'[id="{box.get_attribute("value")}"]')
    assert visible() == 1 and panel.is_visible() and panel.locator("svg.chart").first.is_visible()
    page.click('[data-pick="all"]')
    assert visible() == panels.count()
    assert not problems


def test_sorting_filtering_and_paging_never_hide_rows_silently(site, browser):
    page, problems = _open(browser, site["url"] + "index.html")
    rows = page.locator("#overview tbody tr")
    total = rows.count()
    assert total > 30
    shown = page.locator("#overview tbody tr:not([hidden])")
    assert shown.count() == 30
    count = page.locator('[data-count="overview"]').inner_text()
    assert count == f"showing 30 of {total} of {total} rows"
    button = page.locator("button.show-all")
    assert f"Show all {total} rows ({total - 30} more)" == button.inner_text()
    button.click()
    assert shown.count() == total
    headers = page.locator("#overview thead th")
    idx = next(i for i in range(headers.count()) if headers.nth(i).inner_text().startswith("RQ3"))
    headers.nth(idx).locator("button").click()
    values = page.eval_on_selector_all("#overview tbody tr", f"rs => rs.map(r => r.cells[{idx}].dataset.sort)")
    present = [float(v) for v in values if v]
    assert present == sorted(present) and values[len(present):] == [""] * (len(values) - len(present))  # blanks last
    page.select_option('select[data-filter="upstream"][data-table="overview"]', "wavlm")
    assert set(shown.evaluate_all("rs => rs.map(r => r.dataset.upstream)")) == {"wavlm"}
    page.select_option('select[data-filter="domain"][data-table="overview"]', "in-domain")
    assert shown.count() == 0  # wavlm lists none of the evaluated corpora in its training data
    page.select_option('select[data-filter="upstream"][data-table="overview"]', "emotion2vec")
    assert shown.count() > 0
    assert not problems


def test_hover_shows_values_and_legend_toggles_a_family(site, browser):
    page, problems = _open(browser, site["url"] + "index.html")
    chart = page.locator('[id="overview-rq1"]')
    chart.locator(".pt").last.hover()  # drawn last, so on top
    tip = page.locator(".tooltip")
    assert tip.is_visible() and "bit/s" in tip.inner_text() and "depth" in tip.inner_text()
    legend = chart.locator('.legend-item[data-attr="family"]').first
    family = legend.get_attribute("data-value")
    legend.click()
    assert legend.get_attribute("aria-pressed") == "false"
    series = chart.locator(f'g.series[data-family="{family}"]')
    assert series.count() > 0 and not any(series.nth(i).is_visible() for i in range(series.count()))
    assert not problems


def test_links_resolve_and_only_the_about_page_links_out(site, browser):
    seen, bad = set(), []
    for name in site["pages"]:
        page, problems = _open(browser, site["url"] + name)
        hrefs = page.eval_on_selector_all("a[href], link[href], script[src]", "els => els.map(e => e.href || e.src)")
        page.close()
        assert not problems
        for href in hrefs:
            target = urljoin(site["url"] + name, href).split("#")[0]
            if target.startswith("data:"):  # the empty favicon
                continue
            if urlparse(target).netloc != urlparse(site["url"]).netloc:
                assert name == "about.html" and urlparse(target).netloc in ("arxiv.org", "anonymous.4open.science"), target
                continue
            if target in seen:
                continue
            seen.add(target)
            try:
                with urllib.request.urlopen(target) as resp:
                    assert resp.status == 200
            except urllib.error.HTTPError as exc:
                bad.append(f"{name} -> {target}: {exc.code}")
    assert not bad
    assert any(t.endswith("data/metrics.csv") for t in seen) and any(t.endswith(".predictions.csv") for t in seen)
    assert len(seen) > 60  # every run page is linked from somewhere


def test_hostile_strings_in_result_files_render_as_inert_text(site, browser):
    evil_page = paths.run_stem(site["evil"].run_id, site["evil"].run_hash) + ".html"
    for name in ("index.html", "task-rq2.html", "claims.html", evil_page):
        page, problems = _open(browser, site["url"] + name)
        assert not problems, problems  # an alert() would show up here as a dialog
        assert page.locator('img[src="x"]').count() == 0
        assert page.locator("script").count() == 1  # only our own leaderboard.js
        text = page.locator("body").inner_text()
        assert "\u202e" not in text and "⟨U+202E⟩" in text, name
        if name != "index.html":  # the overview names systems, not runs
            assert XSS in text, name
        page.close()
    page, _ = _open(browser, site["url"] + evil_page)
    assert RICH in page.locator("body").inner_text()
    page, _ = _open(browser, site["url"] + "index.html")
    assert "future.json" in page.locator(".problems").inner_text()


def test_the_confusion_picker_shows_one_matrix(site, browser):
    real_rq1 = site["pages"][-2]
    page, problems = _open(browser, site["url"] + real_rq1)
    matrices = page.locator("[data-confusion-index]")
    assert matrices.count() == 9  # continuous + 8 depths
    assert [matrices.nth(i).is_visible() for i in range(3)] == [True, False, False]
    page.select_option("select[data-confusion]", "3")
    assert matrices.nth(3).is_visible() and not matrices.nth(0).is_visible()
    assert matrices.nth(3).locator("tbody tr").count() == 4
    assert not problems


def test_synthetic_runs_are_hidden_and_ranked_apart_beside_real_ones(tmp_path, browser):
    results = tmp_path / "results"
    write_results(results, 10)
    real = make_result(0)
    real.update(synthetic=False, run_id="a-real-run", run_hash="9" * 16)
    (results / "real.json").write_text(json.dumps(real))
    build_site([results], tmp_path / "site")
    server, url = _serve(tmp_path / "site")
    try:
        page, problems = _open(browser, url + "index.html")
        rows = page.locator("#overview tbody tr:visible")
        assert rows.count() == 1 and "#1 of 1" in rows.first.inner_text()
        assert page.locator('svg g.series[data-synthetic="1"]:visible').count() == 0
        page.check("[data-synthetic-toggle]")
        assert rows.count() > 1 and page.locator('svg g.series[data-synthetic="1"]:visible').count() > 0
        page.goto(url + "task-rq2.html")  # the choice holds across pages
        assert page.locator("[data-synthetic-toggle]").is_checked()
        assert not problems
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.slow
def test_page_heights_at_10_and_50_systems(tmp_path, browser, artifacts):
    """Every task page stays readable at 50 systems: the picker draws two, long tables page."""
    heights: dict[int, dict[str, int]] = {}
    for n in (10, 50):
        write_results(tmp_path / f"r{n}", 5 * n)
        report = build_site([tmp_path / f"r{n}"], tmp_path / f"s{n}")
        server, url = _serve(tmp_path / f"s{n}")
        try:
            heights[n] = {}
            for name in [p for p in report.pages if not p.startswith("runs/")]:
                page, problems = _open(browser, url + name)
                heights[n][name] = page.evaluate("document.documentElement.scrollHeight")
                page.close()
                assert not problems
        finally:
            server.shutdown()
            server.server_close()
    (artifacts / "page-heights.json").write_text(json.dumps(heights, indent=2))
    print("\npage heights (px at 1280 wide), 10 vs 50 systems:")
    for name in heights[10]:
        print(f"  {name:20s} {heights[10][name]:6d} {heights[50][name]:6d}")
    for name in heights[10]:
        assert heights[50][name] < 12_000, name
        if name.startswith("task-"):
            assert heights[50][name] < 1.6 * heights[10][name] + 1500, name


def test_site_from_an_embedded_run(browser, tmp_path, artifacts):
    """The site of the README's first command: `emobench run` on the embedded default (or the --out
    folder named by EMOBENCH_EMBEDDED_RESULTS, to check an existing run)."""
    folder = os.environ.get("EMOBENCH_EMBEDDED_RESULTS")
    if not folder:
        from typer.testing import CliRunner

        from emobench.cli.main import app

        folder = str(tmp_path / "results")
        result = CliRunner().invoke(app, ["run", "--out", folder, "--cache-dir", str(tmp_path / "cache"), "--no-site"])
        assert result.exit_code == 0, result.output
    report = build_site([folder], tmp_path / "site")
    assert report.ok and report.n_runs >= 1, report.problems
    server, url = _serve(tmp_path / "site")
    try:
        for name in report.pages:
            page, problems = _open(browser, url + name)
            if name.startswith("task-"):
                assert page.locator("figure.plot .pt").count() > 0, name
            for href in page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)"):
                if urlparse(href).netloc == urlparse(url).netloc:
                    with urllib.request.urlopen(href.split("#")[0]) as resp:
                        assert resp.status == 200, href
            page.screenshot(path=str(artifacts / f"embedded-{name.replace('/', '_').removesuffix('.html')}.png"),
                            full_page=True)
            page.close()
            assert not problems, (name, problems)
    finally:
        server.shutdown()
        server.server_close()

"""The built site in headless Chromium (Debian's /usr/bin/chromium driven by Playwright for Python).

Screenshots of every page go to $EMOBENCH_ARTIFACTS (or a pytest tmp folder); their paths are listed in
``screenshots.txt`` there and printed with ``-s``.
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

from emobench.leaderboard import build_site, collect
from emobench.leaderboard.points import operating_points
from emobench.leaderboard.rows import run_page, task_page
from emobench.leaderboard.serve import start_background
from emobench.leaderboard.synthetic import make_result, write_results
from emobench.leaderboard.views import task_views

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("EMOBENCH_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("lb")
    results = root / "results"
    write_results(results, 40)
    evil = make_result(41)
    evil["run_id"], evil["upstream"]["name"], evil["notes"] = XSS, XSS, [XSS]
    (results / "evil.json").write_text(json.dumps(evil))
    (results / "future.json").write_text(json.dumps({**evil, "schema_version": 99}))
    report = build_site([results], root / "site")
    server, url = start_background(root / "site")
    yield {"report": report, "url": url, "dir": root / "site", "runs": collect([results]).runs, "evil": evil}
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


def _open(browser, url, scheme="light"):
    page = browser.new_page(viewport={"width": 1400, "height": 900}, color_scheme=scheme)
    problems: list[str] = []
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("response", lambda r: problems.append(f"HTTP {r.status} {r.url}") if r.status >= 400 else None)
    page.on("dialog", lambda d: (problems.append(f"dialog: {d.message}"), d.dismiss()))
    page.goto(url, wait_until="load")
    return page, problems


def _pages(site) -> list[str]:
    runs = [p for p in site["report"].pages if p.startswith("runs/")]
    evil = next(p for p in runs if "script" in p)
    return [p for p in site["report"].pages if not p.startswith("runs/")] + [runs[0], evil]


def test_every_page_loads_cleanly_and_is_screenshotted(site, browser, artifacts):
    shots = []
    for name in _pages(site):
        for scheme in ("light", "dark") if name == "index.html" else ("light",):
            page, problems = _open(browser, site["url"] + name, scheme)
            assert page.locator("h1").count() == 1, name
            shot = artifacts / f"{name.replace('/', '_').removesuffix('.html')}-{scheme}.png"
            page.screenshot(path=str(shot), full_page=True)
            shots.append(shot)
            page.close()
            assert not problems, f"{name}: {problems}"
    (artifacts / "screenshots.txt").write_text("\n".join(map(str, shots)) + "\n")
    print("\nscreenshots:\n" + "\n".join(map(str, shots)))
    assert all(s.stat().st_size > 10_000 for s in shots)


def _column(page, table, index):
    return page.eval_on_selector_all(
        f"#{table} tbody tr:not([hidden])",
        f"rows => rows.map(r => r.cells[{index}].getAttribute('data-sort'))")


def test_clicking_a_column_header_sorts(site, browser):
    page, problems = _open(browser, site["url"] + "index.html")
    headers = page.locator("#overview thead th")
    idx = next(i for i in range(headers.count()) if headers.nth(i).inner_text().startswith("Bitrate"))
    headers.nth(idx).locator("button").click()
    values = [float(v) for v in _column(page, "overview", idx) if v]
    assert values == sorted(values) and len(values) > 3
    assert headers.nth(idx).get_attribute("aria-sort") == "ascending"
    headers.nth(idx).locator("button").click()
    values = [float(v) for v in _column(page, "overview", idx) if v]
    assert values == sorted(values, reverse=True)
    # text columns sort too
    headers.nth(0).locator("button").click()
    names = page.eval_on_selector_all("#overview tbody tr", "rows => rows.map(r => r.cells[0].textContent)")
    assert names == sorted(names, key=str.lower)
    assert not problems


def test_a_filter_hides_rows(site, browser):
    page, problems = _open(browser, site["url"] + "index.html")
    total = page.locator("#overview tbody tr").count()
    page.select_option('select[data-filter="upstream"][data-table="overview"]', "fbank")
    visible = page.locator("#overview tbody tr:not([hidden])")
    assert 0 < visible.count() < total
    assert set(visible.evaluate_all("rows => rows.map(r => r.dataset.upstream)")) == {"fbank"}
    assert page.locator('[data-count="overview"]').inner_text() == f"{visible.count()} of {total} rows"
    page.select_option('select[data-filter="upstream"][data-table="overview"]', "")
    page.fill('input[data-search][data-table="overview"]', "no-such-system-anywhere")
    assert page.locator("#overview tbody tr:not([hidden])").count() == 0
    # task pages filter their run tables the same way
    page.goto(site["url"] + "task-rq1.html")
    runs = page.locator("#runs-rq1 tbody tr")
    page.select_option('select[data-filter="quantizer"][data-table="runs-rq1"]', "rvq")
    shown = page.locator("#runs-rq1 tbody tr:not([hidden])").count()
    assert 0 < shown < runs.count()
    assert not problems


def test_plots_render_the_expected_number_of_points(site, browser):
    runs = [r for r in site["runs"]]
    expected = {"index.html": {"pareto": len(operating_points(runs))}}
    for view in task_views(runs):
        expected[task_page(view.task)] = {f.fig_id: f.n_points for p in view.panels for f in p.figures}
    assert expected["index.html"]["pareto"] > 20
    for name, figs in expected.items():
        page, problems = _open(browser, site["url"] + name)
        for fig_id, n in figs.items():
            fig = page.locator(f'[id="{fig_id}"]')
            assert fig.get_attribute("data-n-points") == str(n), (name, fig_id)
            assert fig.locator("circle.pt").count() == n, (name, fig_id)
            if n:
                assert fig.locator("svg.chart").is_visible() and fig.locator(".legend-item").count() >= 1
        page.close()
        assert not problems


def test_hover_shows_values_and_legend_toggles_a_series(site, browser):
    page, problems = _open(browser, site["url"] + "index.html")
    point = page.locator("#pareto circle.pt").first
    point.hover()
    tip = page.locator(".tooltip")
    assert tip.is_visible() and "bitrate" in tip.inner_text() and "bit/s" in tip.inner_text()
    first = page.locator("#pareto .legend-item").first
    first.click()
    assert first.get_attribute("aria-pressed") == "false"
    assert not page.locator('#pareto g.series[data-series="0"]').is_visible()
    assert not problems


def test_links_resolve(site, browser):
    seen, bad = set(), []
    for name in [p for p in site["report"].pages if not p.startswith("runs/")] + _pages(site)[-2:]:
        page, problems = _open(browser, site["url"] + name)
        hrefs = page.eval_on_selector_all("a[href], link[href], script[src]",
                                          "els => els.map(e => e.href || e.src)")
        page.close()
        assert not problems
        for href in hrefs:
            target = urljoin(site["url"] + name, href).split("#")[0]
            if urlparse(target).netloc != urlparse(site["url"]).netloc or target in seen:
                assert not target.startswith("http") or urlparse(target).netloc == urlparse(site["url"]).netloc, target
                continue
            seen.add(target)
            try:
                with urllib.request.urlopen(target) as resp:
                    assert resp.status == 200
            except urllib.error.HTTPError as exc:
                bad.append(f"{name} -> {target}: {exc.code}")
    assert not bad
    assert len(seen) > 40


def test_names_holding_html_render_as_plain_text(site, browser):
    evil_run = next(r for r in site["runs"] if r.run_id == XSS)
    for name in ("index.html", "task-rq2.html", run_page(evil_run)):
        page, problems = _open(browser, site["url"] + name)
        assert not problems, problems  # an alert() would show up here as a dialog
        assert page.locator('img[src="x"]').count() == 0
        assert page.locator("script").count() == 1  # only our own leaderboard.js
        assert XSS in page.locator("body").inner_text()
        page.close()
    # the future-version file is named on the index, not rendered
    page, _ = _open(browser, site["url"] + "index.html")
    assert "future.json" in page.locator(".problems").inner_text()


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
    runs = collect([folder]).runs
    expected = {"index.html": {"pareto": len(operating_points(runs))}}
    for view in task_views(runs):
        expected[task_page(view.task)] = {f.fig_id: f.n_points for p in view.panels for f in p.figures}
    server, url = start_background(tmp_path / "site")
    try:
        for name in report.pages:
            page, problems = _open(browser, url + name)
            for fig_id, n in expected.get(name, {}).items():
                assert page.locator(f'[id="{fig_id}"] circle.pt').count() == n > 0, (name, fig_id)
            for href in page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)"):
                with urllib.request.urlopen(href.split("#")[0]) as resp:
                    assert resp.status == 200, href
            page.screenshot(path=str(artifacts / f"embedded-{name.replace('/', '_').removesuffix('.html')}.png"),
                            full_page=True)
            page.close()
            assert not problems, (name, problems)
    finally:
        server.shutdown()
        server.server_close()

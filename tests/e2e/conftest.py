"""Browser journeys: a live server on real hosts (platform and `<sub>.localhost`) driven by
Playwright with the Debian chromium (`/usr/bin/chromium`; never `playwright install`).

- Every test here is marked `e2e` (`pytest -m e2e`, or `-m "not e2e"` to leave them out).
- `e2e_server`: Django's LiveServerThread inside `committed` (tests/conftest.py): what the
  server writes is committed and visible to both threads; the shops, audit rows and hand-offs
  a journey created are removed afterwards. Not pytest-django's `live_server`: it flushes
  every table at the end, which would also delete the session-scoped test shops.
- `browser_page`: a fresh chromium page (own context: no cookies shared between tests);
  `open_page(**context_options)` for more (e.g. `java_script_enabled=False`).
- `shot(page, "step")`: a screenshot in test-artifacts/screenshots/<test>-<step>.png; a
  failing test gets one of every open page automatically (`<test>-failed-<n>.png`).
- The test body may query the ORM while the browser runs (DJANGO_ALLOW_ASYNC_UNSAFE is set for
  the browser's lifetime only); such queries use their own connection, closed at teardown.

Run: `.venv/bin/python -m pytest tests/e2e` (`-m e2e` from the whole suite). pytest-playwright's
own `page`/`browser` fixtures are not used; `-p no:playwright` is optional.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO_ROOT / "test-artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DEFAULT_TIMEOUT_MS = 10_000
E2E_DIR = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config, items):
    for item in items:
        if E2E_DIR in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.e2e)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    # Lets fixtures know, at teardown, whether the test failed (for the failure screenshot).
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


def chromium_path() -> str | None:
    if Path(CHROMIUM).exists():
        return CHROMIUM
    return shutil.which("chromium")


@pytest.fixture(scope="session")
def _chromium_executable() -> str:
    path = chromium_path()
    if path is None:
        pytest.skip("Debian chromium not installed: apt-get install chromium (the .ci/run script does)")
    return path


# ---------------------------------------------------------------------------------------------
# Live server
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LiveServer:
    port: int

    @property
    def platform_url(self) -> str:
        return f"http://localhost:{self.port}"

    def shop_url(self, subdomain: str) -> str:
        return f"http://{subdomain}.localhost:{self.port}"

    def url(self, path: str = "/", *, shop: str | None = None) -> str:
        base = self.shop_url(shop) if shop else self.platform_url
        return base + path


@pytest.fixture
def _pool_ready(_platform, django_db_blocker) -> None:
    """One ready shop in the pool before the journey starts, as in production: a signup then
    claims it in milliseconds instead of migrating a schema inside the browser's request (which
    takes seconds more with every app's migrations, and longer on a loaded machine). Made
    before `committed` takes its snapshot, so an unclaimed one is kept for the next test."""
    from tenants.models import Shop, ShopStatus
    from tenants.services import shop_create_pooled

    with django_db_blocker.unblock():
        # Two: the journey claims one, and the other is what the next shop is copied from
        # (half a second, instead of migrating a schema when the pool runs dry).
        while Shop.objects.filter(status=ShopStatus.POOLED).count() < 2:
            shop_create_pooled()


@pytest.fixture
def e2e_server(_pool_ready, committed) -> Iterator[LiveServer]:
    """A live server for one test, serving /static/ too; its own DB connections (the data is
    committed, so both threads see it)."""
    from django.conf import settings
    from django.contrib.staticfiles.handlers import StaticFilesHandler as _StaticFilesHandler
    from django.db import connection
    from django.test.testcases import LiveServerThread

    assert settings.BASE_DOMAIN == "localhost", "e2e hosts are <sub>.localhost (pytest-env)"
    assert connection.settings_dict["NAME"].startswith("test_"), "not on the test database"
    thread = LiveServerThread("localhost", static_handler=_StaticFilesHandler, port=0)
    thread.daemon = True
    thread.start()
    thread.is_ready.wait()
    if thread.error:
        raise thread.error
    try:
        yield LiveServer(port=thread.port)
    finally:
        thread.terminate()


# ---------------------------------------------------------------------------------------------
# Browser
# ---------------------------------------------------------------------------------------------
@pytest.fixture
def _browser(_chromium_executable, e2e_server, monkeypatch):
    """One chromium per test (closed before the live server stops)."""
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=DEFAULT_TIMEOUT_MS)
    # Playwright's sync API keeps an asyncio loop running in the test thread; without this,
    # Django's ORM in this thread (the test's own queries, fixture clean-up) refuses to run
    # "from an async context". Only while the browser runs: a process-wide setting would leak
    # into subprocesses (`manage.py check --deploy` fails on it, async.E001).
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(
            executable_path=_chromium_executable, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()
    finally:
        # While that loop runs, Django keeps this thread's connections in a context-local
        # store (asgiref Local), apart from the usual ones: the test's own queries opened
        # connections there. Close them while it still runs, or they outlive the test and
        # the test database cannot be dropped at the end of the session.
        from django.db import connections

        connections.close_all()
        playwright.stop()


def _test_slug(request: pytest.FixtureRequest) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name).strip("_")


def save_screenshot(page, name: str) -> Path:
    """Save a full-page screenshot as test-artifacts/screenshots/<name>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    # caret="initial": hiding the caret makes Playwright set each field's inline style, left
    # as style=""; htmx then copies that attribute when it settles a swap, which the
    # Content-Security-Policy blocks (a violation the journey did not cause).
    page.screenshot(path=str(path), full_page=True, caret="initial")
    return path


@pytest.fixture
def open_page(_browser, request) -> Iterator[Callable[..., object]]:
    """`open_page(**context_options)`: a page in a new browser context (own cookies).
    Each page collects uncaught JavaScript errors in `page.js_errors`."""
    contexts = []
    pages = []

    def make(**context_options):
        options = {"locale": "en-US", "viewport": {"width": 1280, "height": 900}}
        options.update(context_options)
        context = _browser.new_context(**options)
        context.set_default_timeout(DEFAULT_TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        page.js_errors = []
        page.on("pageerror", lambda exc: page.js_errors.append(str(exc)))
        pages.append(page)
        return page

    yield make

    call = getattr(request.node, "rep_call", None)
    if call is not None and call.failed:
        for number, page in enumerate(pages, start=1):
            try:
                save_screenshot(page, f"{_test_slug(request)}-failed-{number}")
            except Exception:  # a crashed page must not hide the test's own failure
                pass
    for context in contexts:
        context.close()


@pytest.fixture
def browser_page(open_page):
    """A fresh chromium page, JavaScript on, English, 10 s default timeout."""
    return open_page()


@pytest.fixture
def shot(request) -> Callable[..., Path]:
    """`shot(page, "step")` -> test-artifacts/screenshots/<test-name>-<step>.png"""

    def take(page, step: str) -> Path:
        return save_screenshot(page, f"{_test_slug(request)}-{step}")

    return take


# ---------------------------------------------------------------------------------------------
# Content-Security-Policy: a journey fails if the browser blocked anything on the way
# ---------------------------------------------------------------------------------------------
# Playwright's init scripts and bindings are injected through the DevTools protocol, outside
# the page's policy, so the listener itself is never blocked.
_CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolation(`${e.effectiveDirective} blocked ${e.blockedURI || "inline code"}`
                        + ` on ${e.documentURI} (${e.sourceFile || "?"}:${e.lineNumber})`
                        + (e.sample ? `: ${e.sample}` : ""));
}, true);
"""


@pytest.fixture(autouse=True)
def csp_violations(monkeypatch) -> Iterator[list[str]]:
    """Every browser context of the test reports what the page's policy blocked (an inline
    script, a style attribute, a form posted elsewhere...); any report fails the test."""
    from playwright.sync_api import Browser

    violations: list[str] = []
    new_context = Browser.new_context

    def report(message: str) -> None:  # a plain function: Playwright tags what it exposes
        violations.append(message)

    def reporting_context(self, **options):
        context = new_context(self, **options)
        context.expose_function("__cspViolation", report)
        context.add_init_script(_CSP_LISTENER)
        return context

    monkeypatch.setattr(Browser, "new_context", reporting_context)
    yield violations
    assert violations == [], "Content-Security-Policy violations:\n" + "\n".join(violations)

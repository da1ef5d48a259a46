"""Login in a real chromium: the httpOnly cookie survives reloads, deep links and new tabs, dies at
logout (a replayed copy is refused), and no request ever leaves this machine."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from flowtype_core.accounts import AccountStore
from tests.browser.conftest import app_env
from tests.browser.test_e2e_typing import PASSWORD, UI_TIMEOUT_MS, App
from ui.login_cookie import COOKIE_NAME

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def served(serve_streamlit: Callable[..., Any], tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    base = tmp_path_factory.mktemp("login")
    data = base / "data"
    accounts = AccountStore(data)
    accounts.create_user("rita", PASSWORD, role="researcher", name="Rita [a link](http://example.com)")
    accounts.create_user("pam", PASSWORD, role="participant", name="Pam")
    env = app_env(base, data)
    return serve_streamlit(ROOT / "app.py", env).url, data


@pytest.fixture
def outside_requests(browser_context: BrowserContext) -> Iterator[list[str]]:
    """Every request the browser makes (blob: and data: URLs stay inside the page)."""
    seen: list[str] = []
    browser_context.on("request", lambda r: seen.append(r.url))
    yield seen


def session_cookie(context: BrowserContext) -> dict[str, Any]:
    (cookie,) = [c for c in context.cookies() if c["name"] == COOKIE_NAME]
    return cookie


def title(page: Page, text: str) -> None:
    expect(page.get_by_role("heading", name=text).first).to_be_visible(timeout=UI_TIMEOUT_MS)


def test_deep_link_reload_and_new_tab_stay_logged_in(
    page: Page, browser_context: BrowserContext, served: tuple[str, Path], outside_requests: list[str]
) -> None:
    url, _ = served
    app = App(page, f"{url}/sync")
    app.log_in("rita")
    title(page, "Sync")  # the page the link asked for, not the home page
    assert page.url == f"{url}/sync"
    cookie = session_cookie(browser_context)
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert COOKIE_NAME not in page.evaluate("document.cookie")  # page scripts cannot read it
    assert page.evaluate("crossOriginIsolated") is True  # COOP/COEP: the fine timer resolution
    # The display name is shown as text: its Markdown link is not a link.
    expect(page.get_by_text("Logged in as Rita [a link](http://example.com) (researcher)")).to_be_visible()
    expect(page.get_by_role("link", name="a link")).to_have_count(0)

    page.reload()
    app.see("Logged in as")
    title(page, "Sync")

    tab = browser_context.new_page()
    other = App(tab, f"{url}/analytics")
    other.see("Logged in as")
    title(tab, "Analytics")
    assert outside_requests, "no request was seen at all"
    left = [
        u for u in outside_requests if urlsplit(u.removeprefix("blob:")).hostname not in ("127.0.0.1", None)
    ]
    assert not left, f"requests left the machine: {left}"


def test_a_cookie_replayed_after_logout_is_refused(
    page: Page, browser_context: BrowserContext, served: tuple[str, Path]
) -> None:
    url, _ = served
    app = App(page, url)
    app.log_in("pam")
    copied = session_cookie(browser_context)
    app.log_out()
    browser_context.clear_cookies()
    browser_context.add_cookies(
        [{k: copied[k] for k in ("name", "value", "domain", "path", "httpOnly", "sameSite", "secure")}]
    )
    page.goto(f"{url}/typing_test")
    app.see("Log in to FlowType")
    expect(page.get_by_text("Logged in as")).to_have_count(0)


def test_a_participant_cookie_ends_with_the_browser(
    page: Page, browser_context: BrowserContext, served: tuple[str, Path]
) -> None:
    """On a shared lab machine the next person must not inherit the participant's login."""
    url, _ = served
    App(page, url).log_in("pam")
    assert session_cookie(browser_context)["expires"] == -1  # a browser-session cookie


def test_wrong_passwords_lock_the_account(page: Page, served: tuple[str, Path]) -> None:
    url, data = served
    AccountStore(data).create_user("locky", PASSWORD, role="participant")
    app = App(page, url)
    app.see("Log in to FlowType")
    sessions = AccountStore(data).sessions
    for attempt in range(1, 6):
        app.fill("Username", "locky")
        app.fill("Password", "not-the-password")
        app.click("Login")
        app.see("Username or password is incorrect.")
        # The message of the attempt before may still show: wait until the server counted this one.
        deadline = time.monotonic() + UI_TIMEOUT_MS / 1000
        while len(sessions.recent_failures("locky")) < attempt:
            assert time.monotonic() < deadline, f"failed login {attempt} was never counted"
            time.sleep(0.1)  # poll interval only
    app.fill("Username", "locky")
    app.fill("Password", PASSWORD)
    app.click("Login")
    app.see("Too many failed logins for this account.")

"""The login cookie, set and cleared by HTTP responses so that page scripts can never read it.

A cookie is httpOnly only when an HTTP response sets it, and a Streamlit script run answers over
the websocket, so the cookie has two halves in one process:
- the script, after a successful login, files the session's token under a one-time `ticket`
  (`TICKET_TTL_S`, in memory) and mounts `hand_over`, whose JS POSTs the ticket to `SET_PATH`
  and then loads the page that was asked for; the new page load's websocket carries the cookie,
  which `cookie_token` reads (`st.context.cookies`) and the session registry checks on every run;
- the routes (`routes()`, mounted by `app.py`'s `st.App`) swap the ticket for a `Set-Cookie`
  (HttpOnly, SameSite=Strict, Secure behind HTTPS, Max-Age or none) or expire the cookie.
The token never appears in a URL or in anything a page script can read.
"""

from __future__ import annotations

import secrets
import threading
import time
from pathlib import Path

import streamlit as st
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

COOKIE_NAME = "flowtype_session"
SET_PATH = "/_flowtype/session"
CLEAR_PATH = "/_flowtype/logout"
TICKET_TTL_S = 60.0

_tickets: dict[str, tuple[str, float, int | None]] = {}  # ticket -> (token, deadline, max-age)
_lock = threading.Lock()


def issue_ticket(token: str, max_age_s: int | None) -> str:
    """File `token` for one cookie hand-over; `max_age_s` None makes a browser-session cookie."""
    ticket = secrets.token_urlsafe(24)
    now = time.monotonic()
    with _lock:
        for stale in [t for t, (_, deadline, _) in _tickets.items() if deadline < now]:
            del _tickets[stale]
        _tickets[ticket] = (token, now + TICKET_TTL_S, max_age_s)
    return ticket


def _redeem(ticket: object) -> tuple[str, int | None] | None:
    if not isinstance(ticket, str):
        return None
    with _lock:
        filed = _tickets.pop(ticket, None)
    if filed is None or filed[1] < time.monotonic():
        return None
    return filed[0], filed[2]


def _is_https(request: Request) -> bool:
    return request.url.scheme == "https" or request.headers.get("x-forwarded-proto", "").lower() == "https"


async def _set_cookie(request: Request) -> Response:
    try:
        body = await request.json()
    except ValueError:
        body = None
    redeemed = _redeem(body.get("ticket") if isinstance(body, dict) else None)
    if redeemed is None:
        return JSONResponse({"error": "unknown or expired ticket"}, status_code=400)
    token, max_age = redeemed
    response = Response(status_code=204, headers={"Cache-Control": "no-store"})
    response.set_cookie(
        COOKIE_NAME,
        token,
        max_age=max_age,
        path="/",
        secure=_is_https(request),
        httponly=True,
        samesite="strict",
    )
    return response


async def _clear_cookie(request: Request) -> Response:
    response = Response(status_code=204, headers={"Cache-Control": "no-store"})
    response.delete_cookie(COOKIE_NAME, path="/", secure=_is_https(request), httponly=True, samesite="strict")
    return response


def routes() -> list[Route]:
    """The two cookie routes, for `st.App(routes=...)`."""
    return [
        Route(SET_PATH, _set_cookie, methods=["POST"]),
        Route(CLEAR_PATH, _clear_cookie, methods=["POST"]),
    ]


def cookie_token() -> str | None:
    """The login token this browser sent when the page loaded (None without one)."""
    try:
        return st.context.cookies.get(COOKIE_NAME) or None
    except (AttributeError, RuntimeError):  # no request behind this run (AppTest)
        return None


_component = st.components.v2.component(
    "flowtype_login_cookie",
    html='<span class="ft-login-cookie" data-testid="ft-login-cookie"></span>',
    js=(Path(__file__).with_name("static") / "login_cookie.js").read_text(encoding="utf-8"),
)


def hand_over(ticket: str, next_path: str) -> bool:
    """Have the browser swap `ticket` for the cookie, then load `next_path` (a path on this app).

    Returns True on the run after the browser could not do it (the login then lasts only as
    long as this tab's connection)."""
    result = _component(
        key="flowtype_login_cookie",
        data={"url": SET_PATH.lstrip("/"), "ticket": ticket, "next": next_path},
        on_failed_change=lambda: None,
    )
    return bool(result.get("failed"))


def clear() -> None:
    """Have the browser drop a cookie the server no longer honours (after logout or revocation)."""
    _component(
        key="flowtype_login_cookie_clear", data={"url": CLEAR_PATH.lstrip("/"), "ticket": "", "next": None}
    )

"""Test support: the local Stripe server (tests/support/localstripe_ext.py) as pytest fixtures.

- `local_stripe` (session): the server, started once per test process on 127.0.0.1 with a free
  port, in a background thread; stopped at the end of the session. Nothing leaves loopback.
- `stripe_settings` (function): points Django's STRIPE_* settings at it for one test, with no
  webhook URL and an empty delivery log (so tests do not see each other's events).

    def test_pay(stripe_settings):
        session = gateway.checkout_session_create(account="acct_shop", ...)
        stripe_settings.configure_webhook(live_server.url + "/stripe/webhook/")
        assert stripe_settings.pay(session.id).paid
        body, header = stripe_settings.sign({"id": "evt_1", "object": "event", ...})

Registered for every test in tests/conftest.py (`pytest_plugins`).
"""

from __future__ import annotations

import asyncio
import http.client
import json
import re
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from html import unescape
from urllib.parse import urlencode, urlsplit

import pytest
import stripe
from aiohttp import web

from tests.support.localstripe_ext import build_app


@dataclass(frozen=True)
class PayResult:
    status: int  # 303 when paid (redirected to success_url), 402 declined, 400 invalid input
    redirect_url: str | None
    error: str | None  # the message the hosted page shows

    @property
    def paid(self) -> bool:
        return self.status == 303


class LocalStripe:
    """A running local Stripe stand-in and helpers to drive it from tests."""

    secret_key = "sk_test_localstripe"

    def __init__(self) -> None:
        self.webhook_secret = "whsec_" + secrets.token_hex(16)
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stop: asyncio.Event | None = None

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- life cycle ---------------------------------------------------------------------------
    def start(self) -> LocalStripe:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        app = build_app(webhook_secret=self.webhook_secret)
        ready, failure = threading.Event(), []

        async def serve() -> None:
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            await web.SockSite(runner, sock).start()
            self._stop = asyncio.Event()
            ready.set()
            await self._stop.wait()
            await runner.cleanup()
            # localstripe schedules its own (undelivered) webhooks a second later: drop them.
            others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in others:
                task.cancel()
            await asyncio.gather(*others, return_exceptions=True)

        def run() -> None:
            self._loop = asyncio.new_event_loop()
            try:
                self._loop.run_until_complete(serve())
            except OSError as exc:  # could not serve: tell start() instead of hanging it
                failure.append(exc)
                ready.set()
            finally:
                self._loop.close()

        self._thread = threading.Thread(target=run, name="local-stripe", daemon=True)
        self._thread.start()
        if not ready.wait(15) or failure:
            raise RuntimeError(f"the local Stripe server did not start: {failure}")
        return self

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(15)

    # -- test control -------------------------------------------------------------------------
    def configure_webhook(self, url: str, *, secret: str | None = None,
                          async_settle_seconds: float | None = None,
                          delivery_delay_seconds: float = 0) -> None:
        """Send events to `url` ("" = send nowhere, only record them). Delayed (SEPA) payments
        settle after `async_settle_seconds`, or only through `settle()` when None. With
        `delivery_delay_seconds`, events leave that long after they happen (the customer sees
        the shop's "processing" page first); otherwise the hosted page waits for the webhook's
        answer before redirecting."""
        self._request("POST", "/_config/shop_webhook", {
            "url": url, "secret": secret or self.webhook_secret,
            "async_settle_seconds": async_settle_seconds,
            "delivery_delay_seconds": delivery_delay_seconds})

    def reset(self) -> None:
        """No webhook URL, an empty delivery log (localstripe's objects stay)."""
        self.configure_webhook("")
        self._request("DELETE", "/_config/shop_webhook/deliveries")

    def sign(self, payload: dict | str, *, timestamp: int | None = None,
             secret: str | None = None) -> tuple[str, str]:
        """(body, Stripe-Signature header) for a webhook payload, signed with the SDK's helper
        and this server's webhook secret (or `secret`); `timestamp` makes stale ones."""
        body = payload if isinstance(payload, str) else json.dumps(payload)
        header = stripe.WebhookSignature.generate_signature_header(
            body, secret or self.webhook_secret, timestamp=timestamp)
        return body, header

    def make_event(self, type: str, obj: dict, *, account: str | None = None,
                   id: str | None = None, created: int | None = None) -> dict:
        """An event shaped like Stripe's, around `obj` (e.g. a session dict from `session()`)."""
        event = {"id": id or "evt_" + secrets.token_hex(12), "object": "event",
                 "api_version": stripe.api_version, "created": created or int(time.time()),
                 "data": {"object": obj}, "livemode": False, "pending_webhooks": 1,
                 "request": {"id": None, "idempotency_key": None}, "type": type}
        if account:
            event["account"] = account
        return event

    def pay(self, session_id: str, card: str = "4242424242424242", *,
            iban: str | None = None) -> PayResult:
        """Fill in the hosted checkout page as a customer would, over HTTP (the card form, or
        the delayed SEPA debit form when `iban` is given). When it returns, the webhook (if
        one is configured) has been delivered and answered."""
        page = self._request("GET", f"/pay/{session_id}", raw=True)
        if page.status != 200:
            return PayResult(page.status, None, _page_error(page.body) or page.body[:200])
        form = {"method": "sepa_debit", "iban": iban} if iban else {"method": "card",
                                                                     "card_number": card}
        answer = self._request("POST", f"/pay/{session_id}", form, form_encoded=True, raw=True)
        return PayResult(answer.status, answer.location, _page_error(answer.body))

    def settle(self, session_id: str, outcome: str | None = None) -> str:
        """Settle a delayed (SEPA) payment: "succeeded" or "failed" (default: what its IBAN
        says). Sends the async_payment_* event(s) and returns the outcome."""
        return self._request("POST", f"/_config/checkout/sessions/{session_id}/settle",
                             {"outcome": outcome} if outcome else {})["outcome"]

    def session(self, session_id: str) -> dict:
        """The session as the server keeps it: Stripe's fields plus `stripe_account`,
        `line_items`, `payment_intent_data` (fee, metadata), `payment_method_type`."""
        return self._request("GET", f"/_config/checkout/sessions/{session_id}")

    def payment_intent(self, payment_intent: str) -> dict:
        return self._request("GET", f"/v1/payment_intents/{payment_intent}", auth=True)

    def deliveries(self, type: str | None = None) -> list[dict]:
        """Every event sent (oldest first): id, type, account, body, header, url, status (the
        webhook's HTTP answer), error, response. `body`/`header` can be posted again as is
        (within the signature's 300 s tolerance)."""
        sent = self._request("GET", "/_config/shop_webhook/deliveries")
        return [d for d in sent if type is None or d["type"] == type]

    def events(self, type: str | None = None) -> list[dict]:
        return [json.loads(d["body"]) for d in self.deliveries(type)]

    def redeliver(self, event_id: str) -> dict:
        """Send an event again, freshly signed (as Stripe retries a failed delivery)."""
        return self._request("POST", f"/_config/shop_webhook/redeliver/{event_id}")

    def onboard(self, link_url: str) -> str:
        """Complete the hosted onboarding behind an account link; returns where it redirects."""
        path = urlsplit(link_url).path
        return self._request("POST", path, {}, form_encoded=True, raw=True).location or ""

    # -- HTTP ---------------------------------------------------------------------------------
    def _request(self, method: str, path: str, data: dict | None = None, *,
                 form_encoded: bool = False, raw: bool = False, auth: bool = False):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        headers = {"Authorization": f"Bearer {self.secret_key}"} if auth else {}
        body = None
        if data is not None:
            if form_encoded:
                body = urlencode(data)
                headers["Content-Type"] = "application/x-www-form-urlencoded"
            else:
                body = json.dumps({k: v for k, v in data.items() if v is not None})
                headers["Content-Type"] = "application/json"
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            text = response.read().decode()
        finally:
            connection.close()
        if raw:
            return _Raw(response.status, response.getheader("Location"), text)
        if response.status >= 400:
            raise AssertionError(f"local Stripe {method} {path}: {response.status} {text}")
        return json.loads(text)


@dataclass(frozen=True)
class _Raw:
    status: int
    location: str | None
    body: str


def _page_error(body: str) -> str | None:
    found = re.search(r'role="alert"[^>]*>(.*?)</p>', body, re.S)
    return unescape(found.group(1)).strip() if found else None


@pytest.fixture(scope="session")
def local_stripe() -> Iterator[LocalStripe]:
    server = LocalStripe().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def stripe_settings(local_stripe: LocalStripe, settings) -> LocalStripe:
    """Django's STRIPE_* settings point at the local server for this test (restored after)."""
    settings.STRIPE_SECRET_KEY = local_stripe.secret_key
    settings.STRIPE_API_BASE = local_stripe.api_base
    settings.STRIPE_WEBHOOK_SECRET = local_stripe.webhook_secret
    local_stripe.reset()
    return local_stripe

"""The Stripe gateway against the local Stripe server (tests/support): Checkout Sessions on a
connected account, the hosted page and its signed webhooks, refunds, accounts, errors.
No database: the gateway is a thin client of Stripe."""

from __future__ import annotations

import http.server
import re
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from billing import stripe_gateway as gateway

ACCOUNT = "acct_shopalpha"
ROOT = Path(__file__).resolve().parents[2]


def create(**overrides) -> gateway.CheckoutSession:
    params = {
        "account": ACCOUNT, "amount_cents": 12_345, "currency": "EUR",
        "description": "Alpha Shop — Order C-2026-00042", "customer_email": "ann@example.test",
        "success_url": "http://alpha.localhost/pay/done/?session={CHECKOUT_SESSION_ID}",
        "cancel_url": "http://alpha.localhost/pay/cancelled/",
        "metadata": {"shop": "shop_abc", "payment": "7", "client_reference_id": "payment-7"},
        "application_fee_cents": 123, "idempotency_key": "checkout-" + secrets.token_hex(8),
    }
    params.update(overrides)
    return gateway.checkout_session_create(**params)


class Receiver:
    """A tiny HTTP server standing for the shop's webhook endpoint: records what it gets."""

    def __init__(self) -> None:
        self.requests: list[tuple[bytes, dict[str, str]]] = []
        received = self.requests

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                received.append((body, dict(self.headers)))
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b'{"received": true}')

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/stripe/webhook/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver(stripe_settings) -> Iterator[Receiver]:
    receiver = Receiver()
    stripe_settings.configure_webhook(receiver.url)
    yield receiver
    receiver.close()


@pytest.fixture
def paid(stripe_settings) -> gateway.CheckoutSession:
    session = create(amount_cents=10_000, application_fee_cents=100)
    assert stripe_settings.pay(session.id).paid
    return gateway.checkout_session_retrieve(account=ACCOUNT, session_id=session.id)


# ---------------------------------------------------------------------------------------------
# Configuration
# ---------------------------------------------------------------------------------------------
def test_without_a_secret_key_cards_are_off_and_calls_say_so(settings):
    settings.STRIPE_SECRET_KEY = ""

    assert gateway.is_configured() is False
    with pytest.raises(gateway.GatewayError) as caught:
        gateway.account_status(account=ACCOUNT)
    assert caught.value.code == "configuration"
    assert "no Stripe key" in caught.value.message


def test_with_a_secret_key_cards_are_configured(stripe_settings):
    assert gateway.is_configured() is True


# ---------------------------------------------------------------------------------------------
# Checkout Sessions
# ---------------------------------------------------------------------------------------------
def test_a_session_is_created_on_the_connected_account_with_the_fee_and_metadata(stripe_settings):
    session = create()

    assert session.id.startswith("cs_test_")
    assert session.url == f"{stripe_settings.api_base}/pay/{session.id}"
    assert (session.status, session.payment_status, session.payment_intent) == (
        "open", "unpaid", None)
    assert (session.amount_total, session.currency) == (12_345, "eur")
    assert session.metadata == {"shop": "shop_abc", "payment": "7",
                                "client_reference_id": "payment-7"}
    kept = stripe_settings.session(session.id)
    assert kept["stripe_account"] == ACCOUNT
    assert kept["mode"] == "payment"
    assert kept["payment_intent_data"]["application_fee_amount"] == 123
    assert kept["payment_intent_data"]["metadata"] == session.metadata
    assert kept["client_reference_id"] == "payment-7"
    assert kept["customer_email"] == "ann@example.test"
    assert kept["line_items"] == [{"description": "Alpha Shop — Order C-2026-00042",
                                   "quantity": 1, "unit_amount": 12_345,
                                   "amount_total": 12_345, "currency": "eur"}]


def test_the_same_idempotency_key_returns_the_same_session(stripe_settings):
    first = create(idempotency_key="checkout-shop_abc-7")

    again = create(idempotency_key="checkout-shop_abc-7")
    other = create(idempotency_key="checkout-shop_abc-8")

    assert again.id == first.id
    assert other.id != first.id


def test_the_same_idempotency_key_with_other_details_is_refused(stripe_settings):
    create(idempotency_key="checkout-shop_abc-9")

    with pytest.raises(gateway.GatewayError) as caught:
        create(idempotency_key="checkout-shop_abc-9", amount_cents=9_999)
    assert caught.value.code == "idempotency"


def test_a_session_is_retrieved_on_its_account_only(stripe_settings):
    session = create()

    found = gateway.checkout_session_retrieve(account=ACCOUNT, session_id=session.id)
    assert found == session
    with pytest.raises(gateway.GatewayError) as caught:
        gateway.checkout_session_retrieve(account="acct_someoneelse", session_id=session.id)
    assert "No such checkout.session" in caught.value.message


def test_an_open_session_can_be_expired_and_then_cannot_be_paid(stripe_settings):
    session = create()

    expired = gateway.checkout_session_expire(account=ACCOUNT, session_id=session.id)

    assert expired.status == "expired"
    assert gateway.checkout_session_expire(account=ACCOUNT, session_id=session.id) == expired
    assert stripe_settings.pay(session.id).status == 410
    assert [e["type"] for e in stripe_settings.events()] == ["checkout.session.expired"]


def test_a_paid_session_cannot_be_expired(paid):
    with pytest.raises(gateway.GatewayError) as caught:
        gateway.checkout_session_expire(account=ACCOUNT, session_id=paid.id)
    assert "open" in caught.value.message


# ---------------------------------------------------------------------------------------------
# The hosted page and its webhooks
# ---------------------------------------------------------------------------------------------
def test_paying_completes_the_session_and_sends_a_signed_completed_event(stripe_settings,
                                                                         receiver):
    session = create()

    result = stripe_settings.pay(session.id)

    assert result.paid
    assert result.redirect_url == f"http://alpha.localhost/pay/done/?session={session.id}"
    now = gateway.checkout_session_retrieve(account=ACCOUNT, session_id=session.id)
    assert (now.status, now.payment_status) == ("complete", "paid")
    assert now.payment_intent.startswith("pi_")
    [(body, headers)] = receiver.requests  # delivered before the redirect
    event = gateway.event_from_webhook(payload=body, signature=headers["Stripe-Signature"])
    assert event["type"] == "checkout.session.completed"
    assert event["account"] == ACCOUNT
    sent = event["data"]["object"]
    assert (sent["id"], sent["payment_status"], sent["payment_intent"]) == (
        session.id, "paid", now.payment_intent)
    assert sent["metadata"] == session.metadata
    intent = stripe_settings.payment_intent(now.payment_intent)
    assert (intent["status"], intent["amount"], intent["application_fee_amount"]) == (
        "succeeded", 12_345, 123)
    assert intent["metadata"] == session.metadata
    assert stripe_settings.deliveries()[0]["status"] == 200


def test_events_can_reach_the_shop_after_the_customer_is_back(stripe_settings, receiver):
    stripe_settings.configure_webhook(receiver.url, delivery_delay_seconds=1)
    session = create()

    assert stripe_settings.pay(session.id).paid
    assert receiver.requests == []  # the customer's browser is on the "processing" page

    deadline = time.monotonic() + 10
    while not receiver.requests and time.monotonic() < deadline:
        time.sleep(0.05)
    [(body, headers)] = receiver.requests
    event = gateway.event_from_webhook(payload=body, signature=headers["Stripe-Signature"])
    assert event["data"]["object"]["id"] == session.id


def test_a_declined_card_leaves_the_session_open_and_sends_nothing(stripe_settings, receiver):
    session = create()

    result = stripe_settings.pay(session.id, card="4000000000000002")

    assert (result.paid, result.status, result.error) == (False, 402, "Your card was declined.")
    now = gateway.checkout_session_retrieve(account=ACCOUNT, session_id=session.id)
    assert (now.status, now.payment_status, now.payment_intent) == ("open", "unpaid", None)
    assert receiver.requests == []
    assert stripe_settings.deliveries() == []
    assert stripe_settings.pay(session.id).paid  # another card afterwards works


def test_a_delayed_debit_completes_unpaid_then_succeeds(stripe_settings):
    session = create()

    assert stripe_settings.pay(session.id, iban="FR1420041010050500013M02606").paid
    [completed] = stripe_settings.events()
    assert completed["data"]["object"]["payment_status"] == "unpaid"
    assert stripe_settings.settle(session.id) == "succeeded"

    assert [e["type"] for e in stripe_settings.events()] == [
        "checkout.session.completed", "checkout.session.async_payment_succeeded"]
    now = gateway.checkout_session_retrieve(account=ACCOUNT, session_id=session.id)
    assert (now.status, now.payment_status) == ("complete", "paid")


def test_a_delayed_debit_that_fails_sends_async_payment_failed(stripe_settings):
    session = create()
    stripe_settings.pay(session.id, iban="DE62370400440532013001")

    assert stripe_settings.settle(session.id) == "failed"

    events = stripe_settings.events()
    assert [e["type"] for e in events] == [
        "checkout.session.completed", "payment_intent.payment_failed",
        "checkout.session.async_payment_failed"]
    assert all(e["account"] == ACCOUNT for e in events)
    assert events[1]["data"]["object"]["last_payment_error"]["message"]
    now = gateway.checkout_session_retrieve(account=ACCOUNT, session_id=session.id)
    assert now.payment_status == "unpaid"


def test_delayed_debits_can_settle_by_themselves(stripe_settings):
    stripe_settings.configure_webhook("", async_settle_seconds=0.05)
    session = create()
    stripe_settings.pay(session.id, iban="FR1420041010050500013M02606")

    deadline = time.monotonic() + 5
    while len(stripe_settings.events()) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)

    assert stripe_settings.events()[-1]["type"] == "checkout.session.async_payment_succeeded"


# ---------------------------------------------------------------------------------------------
# Refunds
# ---------------------------------------------------------------------------------------------
def test_a_refund_works_and_its_idempotency_key_makes_it_once(stripe_settings, paid):
    refund = gateway.refund_create(account=ACCOUNT, payment_intent=paid.payment_intent,
                                   amount_cents=4_000, idempotency_key="refund-shop_abc-1",
                                   metadata={"refund": "1"})
    again = gateway.refund_create(account=ACCOUNT, payment_intent=paid.payment_intent,
                                  amount_cents=4_000, idempotency_key="refund-shop_abc-1",
                                  metadata={"refund": "1"})

    assert refund == again
    assert (refund.status, refund.amount_cents) == ("succeeded", 4_000)
    assert refund.id.startswith("re_")
    [event] = stripe_settings.events("charge.refunded")
    charge = event["data"]["object"]
    assert event["account"] == ACCOUNT
    assert (charge["payment_intent"], charge["amount_refunded"], charge["refunded"]) == (
        paid.payment_intent, 4_000, False)
    assert [r["metadata"] for r in charge["refunds"]["data"]] == [{"refund": "1"}]
    assert charge["metadata"] == paid.metadata


def test_refunding_more_than_what_is_left_is_refused(stripe_settings, paid):
    gateway.refund_create(account=ACCOUNT, payment_intent=paid.payment_intent, amount_cents=6_000,
                          idempotency_key="refund-a", metadata={})

    with pytest.raises(gateway.GatewayError) as caught:
        gateway.refund_create(account=ACCOUNT, payment_intent=paid.payment_intent,
                              amount_cents=4_001, idempotency_key="refund-b", metadata={})
    assert "greater than unrefunded amount" in caught.value.message
    rest = gateway.refund_create(account=ACCOUNT, payment_intent=paid.payment_intent,
                                 amount_cents=4_000, idempotency_key="refund-c", metadata={})
    assert rest.status == "succeeded"
    with pytest.raises(gateway.GatewayError) as caught:
        gateway.refund_create(account=ACCOUNT, payment_intent=paid.payment_intent,
                              amount_cents=1, idempotency_key="refund-d", metadata={})
    assert caught.value.message == "This payment was already refunded in full at Stripe."


def test_a_refund_on_another_account_is_refused(stripe_settings, paid):
    with pytest.raises(gateway.GatewayError) as caught:
        gateway.refund_create(account="acct_someoneelse", payment_intent=paid.payment_intent,
                              amount_cents=100, idempotency_key="refund-x", metadata={})
    assert "No such payment_intent" in caught.value.message
    assert stripe_settings.events("charge.refunded") == []


# ---------------------------------------------------------------------------------------------
# Webhook signatures
# ---------------------------------------------------------------------------------------------
def test_a_correctly_signed_event_is_returned_as_a_dict(stripe_settings):
    body, header = stripe_settings.sign(stripe_settings.make_event(
        "checkout.session.completed", {"id": "cs_test_1"}, account=ACCOUNT, id="evt_1"))

    event = gateway.event_from_webhook(payload=body.encode(), signature=header)

    assert type(event) is dict
    assert (event["id"], event["account"], event["data"]["object"]["id"]) == (
        "evt_1", ACCOUNT, "cs_test_1")


@pytest.mark.parametrize("case", ["forged", "tampered", "stale", "missing", "garbage"])
def test_a_bad_signature_is_refused(stripe_settings, case):
    event = stripe_settings.make_event("checkout.session.completed", {"id": "cs_test_1"})
    body, header = stripe_settings.sign(event)
    if case == "forged":
        body, header = stripe_settings.sign(event, secret="whsec_not_the_platforms")
    elif case == "tampered":
        body = body.replace("cs_test_1", "cs_test_2")
    elif case == "stale":
        body, header = stripe_settings.sign(event, timestamp=int(time.time()) - 301)
    elif case == "missing":
        header = None
    elif case == "garbage":
        body = b"\xff\xfe not json"

    with pytest.raises(gateway.SignatureError):
        gateway.event_from_webhook(payload=body if isinstance(body, bytes) else body.encode(),
                                   signature=header)


def test_without_a_webhook_secret_every_event_is_refused(stripe_settings, settings):
    body, header = stripe_settings.sign(stripe_settings.make_event("charge.refunded", {}))
    settings.STRIPE_WEBHOOK_SECRET = ""

    with pytest.raises(gateway.SignatureError):
        gateway.event_from_webhook(payload=body.encode(), signature=header)


# ---------------------------------------------------------------------------------------------
# Connected accounts
# ---------------------------------------------------------------------------------------------
def test_the_status_of_a_connected_account(stripe_settings):
    enabled = gateway.account_status(account=ACCOUNT)
    disabled = gateway.account_status(account="acct_disabled_shop")

    assert (enabled.id, enabled.charges_enabled, enabled.details_submitted,
            enabled.payouts_enabled) == (ACCOUNT, True, True, True)
    assert enabled.display_name
    assert disabled.charges_enabled is False


def test_a_checkout_on_an_account_that_cannot_charge_says_what_to_do(stripe_settings):
    with pytest.raises(gateway.GatewayError) as caught:
        create(account="acct_disabled_shop")

    assert caught.value.code == "account"
    assert "acct_disabled_shop" in caught.value.message
    assert "onboarding" in caught.value.message


def test_a_new_account_is_onboarded_through_its_link(stripe_settings):
    account = gateway.account_create(email=f"owner-{secrets.token_hex(4)}@alpha.test")
    assert account.startswith("acct_")
    assert gateway.account_status(account=account).charges_enabled is False

    link = gateway.account_onboarding_link(account=account,
                                           refresh_url="http://alpha.localhost/stripe/refresh/",
                                           return_url="http://alpha.localhost/stripe/return/")
    assert link.startswith(stripe_settings.api_base)
    assert stripe_settings.onboard(link) == "http://alpha.localhost/stripe/return/"

    assert gateway.account_status(account=account).charges_enabled is True
    assert stripe_settings.events("account.updated")[0]["account"] == account


# ---------------------------------------------------------------------------------------------
# Failures
# ---------------------------------------------------------------------------------------------
def test_stripe_out_of_reach_gives_a_clear_error_quickly(stripe_settings, settings, monkeypatch):
    with socket.socket() as probe:  # a port nobody listens on once closed
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    settings.STRIPE_API_BASE = f"http://127.0.0.1:{closed_port}"
    monkeypatch.setattr(gateway, "MAX_NETWORK_RETRIES", 0)

    started = time.monotonic()
    with pytest.raises(gateway.GatewayError) as caught:
        create()

    assert time.monotonic() - started < 2
    assert caught.value.code == "network"
    assert "could not be reached" in caught.value.message


def test_a_refused_key_is_a_configuration_error(stripe_settings, settings):
    settings.STRIPE_SECRET_KEY = "not-a-secret-key"

    with pytest.raises(gateway.GatewayError) as caught:
        gateway.account_status(account=ACCOUNT)
    assert caught.value.code == "configuration"


def test_no_module_but_the_gateway_imports_stripe():
    importing = re.compile(r"^\s*(import stripe\b|from stripe\b)", re.M)
    skipped = {".venv", ".git", ".data", "tests", "node_modules", "staticfiles", "media"}
    found = {
        str(path.relative_to(ROOT))
        for path in ROOT.rglob("*.py")
        if not skipped.intersection(path.relative_to(ROOT).parts)
        and importing.search(path.read_text(encoding="utf-8", errors="replace"))
    }
    assert found == {"billing/stripe_gateway.py"}

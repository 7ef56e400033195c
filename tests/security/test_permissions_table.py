"""Who may run which transition, for every staff role and every workflow action, written once
in TABLE and checked on both surfaces:

- the dashboard: the action's button (the form or link that runs it) is on the object's page
  exactly when the role may run it; the form posted by a role that may not answers 403 and
  changes nothing; posted by a role that may, it does the work;
- the API: a role that may not gets 403 with a message and nothing changes; a role that may
  gets the work done.

The table says what the business expects (DESIGN.md, docs/decisions.md, each app's
`role_permissions`): sales confirm orders and run quotes, the warehouse prepares and ships,
the manager cancels orders and plans milestones, the accountant keeps the books; tasks and
tickets are everyone's work but the accountant's (who only reads them); the owner may do
everything. Each (workflow, action) is one test: its object is built once with the services,
and each role's allowed run is rolled back (a savepoint) so the next role finds it unchanged.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from billing.models import Invoice, InvoiceStatus, Payment, Refund
from billing.services.invoices import credit_note_create, invoice_create, invoice_issue
from billing.services.payments import payment_record
from catalog.models import Project, StockMovement
from catalog.services.stock import stock_receive
from sales.models import Order, OrderStatus, Quote, QuoteStatus
from sales.services.orders import LineInput, order_transition
from sales.services.quotes import quote_accept, quote_create, quote_line_input, quote_send
from sales.services.workflow import ORDER_ACTIONS, QUOTE_ACTIONS
from streams.models import (
    Comment,
    Event,
    Milestone,
    MilestoneStatus,
    Notification,
    Task,
    TaskStatus,
    Ticket,
    TicketStatus,
)
from streams.selectors_milestones import ACTION_ORDER as MILESTONE_ACTIONS
from streams.services.milestones import milestone_create, milestone_start
from streams.services.work import task_create, ticket_raise
from streams.subjects import content_type_id
from tenants.accounts.roles import ACCOUNTANT, MANAGER, OWNER, SALES, WAREHOUSE
from tenants.accounts.services import api_token_create
from tests.conftest import host_of, in_schema, login, owner_of
from tests.sales.factories import BASE_URL, customer, goods, place_order, registered, staff

pytestmark = pytest.mark.django_db

ROLES = (OWNER, MANAGER, SALES, WAREHOUSE, ACCOUNTANT)
BOSSES = frozenset({OWNER, MANAGER})
SELLERS = BOSSES | {SALES}
SHIPPERS = BOSSES | {WAREHOUSE}
BOOKKEEPERS = BOSSES | {ACCOUNTANT}
WORKERS = BOSSES | {SALES, WAREHOUSE}

# (workflow, action) -> the roles that may run it. Everyone else is refused.
TABLE: dict[tuple[str, str], frozenset[str]] = {
    # Orders: sales confirm, the warehouse prepares, ships and delivers, the manager cancels.
    ("order", "confirm"): SELLERS,
    ("order", "start_processing"): SHIPPERS,
    ("order", "ship"): SHIPPERS,
    ("order", "deliver"): SHIPPERS,
    ("order", "cancel"): BOSSES,
    # Quotes are the sales team's, including answers a customer gives by phone or on paper.
    ("quote", "send"): SELLERS,
    ("quote", "accept"): SELLERS,
    ("quote", "decline"): SELLERS,
    ("quote", "convert"): SELLERS,
    ("quote", "cancel"): SELLERS,
    ("quote", "revise"): SELLERS,
    # The books are the accountant's (and the manager's).
    ("invoice", "issue"): BOOKKEEPERS,
    ("invoice", "record_payment"): BOOKKEEPERS,
    ("invoice", "credit_note"): BOOKKEEPERS,
    ("invoice", "refund"): BOOKKEEPERS,
    ("invoice", "cancel_by_credit"): BOOKKEEPERS,
    # Milestones are planned and run by the manager.
    ("milestone", "start"): BOSSES,
    ("milestone", "complete"): BOSSES,
    ("milestone", "delay"): BOSSES,
    ("milestone", "cancel"): BOSSES,
    # Tasks: everyone at work creates, assigns and moves them; deleting is the manager's.
    ("task", "create"): WORKERS,
    ("task", "assign"): WORKERS,
    ("task", "status"): WORKERS,
    ("task", "delete"): BOSSES,
    # Customer tickets: answered by whoever deals with customers and goods.
    ("ticket", "reply"): WORKERS,
    ("ticket", "assign"): WORKERS,
    ("ticket", "close"): WORKERS,
}

LEGAL = {"legal_name": "Alpha SAS", "siren": "732829320", "siret": "73282932000074",
         "vat_number": "FR44732829320", "address_line1": "1 rue de la Paix",
         "postal_code": "75002", "city": "Paris"}
# Rows whose number moves with any work a refused request might have done.
COUNTED = (Event, Order, Quote, Invoice, Payment, Refund, Milestone, Task, Ticket, Comment,
           Notification, StockMovement)


# --- the shop and its staff ----------------------------------------------------------------------

@dataclass
class World:
    shop: Any
    users: dict[str, Any]
    pages: dict[str, Client]  # dashboard clients, signed in per role
    apis: dict[str, Client]  # API clients, with a token per role

    @contextmanager
    def inside(self) -> Iterator[None]:
        with in_schema(self.shop):
            connection.tenant = self.shop  # billing reads the seller's identity from it
            yield


@pytest.fixture
def world(shop, db) -> World:
    type(shop).objects.filter(pk=shop.pk).update(**LEGAL)  # rolled back with the test
    saved = {key: getattr(shop, key) for key in LEGAL}
    for key, value in LEGAL.items():
        setattr(shop, key, value)
    host = host_of(shop)
    users, pages, apis = {}, {}, {}
    with in_schema(shop):
        for role in ROLES:
            users[role] = owner_of(shop) if role == OWNER else staff(role)
            _token, key = api_token_create(user=users[role], name=f"{role} sync")
            apis[role] = Client(HTTP_HOST=host, HTTP_AUTHORIZATION=f"Token {key}")
    for role in ROLES:
        pages[role] = login(Client(HTTP_HOST=host), shop, users[role])
    try:
        yield World(shop=shop, users=users, pages=pages, apis=apis)
    finally:
        for key, value in saved.items():  # the session's shop object is shared by every test
            setattr(shop, key, value)


class _Undo(Exception):
    pass


@contextmanager
def rolled_back() -> Iterator[None]:
    """Whatever happens inside is undone (a savepoint), so each role finds the same object."""
    try:
        with transaction.atomic():
            yield
            raise _Undo
    except _Undo:
        pass


# --- one case per (workflow, action) -------------------------------------------------------------

@dataclass(frozen=True)
class Case:
    """How to reach the action's starting state, where its button is, how the dashboard form and
    the API call run it, and how to see that it ran. Each callable gets the objects `setup`
    made (a namespace whose `row` is the one the action changes) and the world."""

    setup: Callable[[World], SimpleNamespace]
    page: Callable[[SimpleNamespace], str]
    button: Callable[[SimpleNamespace], str]
    form: Callable[[SimpleNamespace, World], tuple[str, dict]]
    api: Callable[[SimpleNamespace, World], tuple[str, str, dict]]
    done: Callable[[SimpleNamespace], bool]


def _fresh(row):
    return type(row).objects.filter(pk=row.pk).first()


def _status_is(status: str) -> Callable[[SimpleNamespace], bool]:
    return lambda ns: getattr(_fresh(ns.row), "status", None) == status


# Orders -------------------------------------------------------------------------------------------
ORDER_STEPS = ["confirm", "start_processing", "ship"]


def _order_in(state_steps: int) -> Callable[[World], SimpleNamespace]:
    def setup(world: World) -> SimpleNamespace:
        order = place_order((goods(f"SKU-{secrets.token_hex(3)}"), 1))
        for action in ORDER_STEPS[:state_steps]:
            order = order_transition(order=order, action=action, by=None)
        return SimpleNamespace(row=order)
    return setup


def _order_case(action: str, steps: int, target: str, data: dict | None = None) -> Case:
    api_path = action.replace("_", "-")
    return Case(
        setup=_order_in(steps),
        page=lambda ns: reverse("sales_dashboard:order_detail", args=[ns.row.pk]),
        button=lambda ns: reverse("sales_dashboard:order_transition", args=[ns.row.pk, action]),
        form=lambda ns, w: (reverse("sales_dashboard:order_transition",
                                    args=[ns.row.pk, action]), data or {}),
        api=lambda ns, w: ("post", f"/api/v1/orders/{ns.row.pk}/{api_path}/", data or {}),
        done=_status_is(target))


# Quotes -------------------------------------------------------------------------------------------
def _quote(world: World, *, sent: bool) -> Quote:
    line = quote_line_input(name="Design work", quantity="2", unit_net="150.00",
                            tax_rate=Decimal("20.00"))
    quote = quote_create(customer=customer(f"q-{secrets.token_hex(3)}@example.test"), by=None,
                         lines=[line])
    if sent:
        quote = quote_send(quote=quote, by=None, base_url=BASE_URL)
    return quote


def _accepted_quote(world: World) -> SimpleNamespace:
    """Accepted online while the product was out of stock (so the order could not be placed),
    then received: staff convert it now."""
    product = goods(f"SKU-{secrets.token_hex(3)}", stock="0")
    quote = quote_create(customer=customer(f"q-{secrets.token_hex(3)}@example.test"), by=None,
                         lines=[quote_line_input(product=product, quantity="1")])
    quote = quote_send(quote=quote, by=None, base_url=BASE_URL)
    assert quote_accept(quote=quote, name="Marie Curie", accept_terms=True, ip=None) is None
    stock_receive(product=product, quantity=Decimal("3"), by=None, reason="Delivery")
    return SimpleNamespace(row=Quote.objects.get(pk=quote.pk))


def _quote_url(ns, action):
    return reverse("sales_dashboard:quote_action", args=[ns.row.pk, action])


def _quote_case(action: str, *, setup=None, target: str, form: dict | None = None,
                api: dict | None = None) -> Case:
    return Case(
        setup=setup or (lambda w: SimpleNamespace(row=_quote(w, sent=True))),
        page=lambda ns: reverse("sales_dashboard:quote_detail", args=[ns.row.pk]),
        button=lambda ns: _quote_url(ns, action),
        form=lambda ns, w: (_quote_url(ns, action), form or {}),
        api=lambda ns, w: ("post", f"/api/v1/quotes/{ns.row.pk}/{action}/", api or {}),
        done=lambda ns: _fresh(ns.row).status == target
        or (target == QuoteStatus.ACCEPTED and _fresh(ns.row).status == QuoteStatus.CONVERTED))


# Invoices -----------------------------------------------------------------------------------------
def _invoice(*, issued: bool = True, paid: str = "") -> Invoice:
    lines = [LineInput(name="Installation", quantity=Decimal("1"), unit_net=Decimal("100.00"),
                       tax_rate=Decimal("20.00"))]
    invoice = invoice_create(customer=customer(f"i-{secrets.token_hex(3)}@example.test"),
                             lines=lines, by=None)
    if issued:
        invoice = invoice_issue(invoice=invoice, by=None)
    if paid:
        payment_record(invoice=invoice, method="bank_transfer", amount=Decimal(paid), by=None)
    return Invoice.objects.get(pk=invoice.pk)


def _invoice_page(ns) -> str:
    return reverse("billing_dashboard:invoice_detail", args=[ns.row.pk])


def _paid_invoice(world: World) -> SimpleNamespace:
    invoice = _invoice(paid="120.00")
    return SimpleNamespace(row=invoice.payments.get(), invoice=invoice)


def _refund_url(ns) -> str:
    return reverse("billing_dashboard:payment_refund", args=[ns.invoice.pk, ns.row.pk])


def _credited_draft(world: World) -> SimpleNamespace:
    """An unpaid invoice and a draft credit note for all of it: issuing the note cancels it."""
    invoice = _invoice()
    note = credit_note_create(invoice=invoice, by=None, reason="Order returned")
    return SimpleNamespace(row=invoice, note=note)


PARTIAL_CREDIT = {"reason": "Discount granted",
                  "lines": [{"name": "Goodwill", "quantity": "1", "unit_net": "10.00",
                             "tax_rate": "20.00"}]}


# Milestones ---------------------------------------------------------------------------------------
def _milestone(*, started: bool = False) -> Callable[[World], SimpleNamespace]:
    def setup(world: World) -> SimpleNamespace:
        project = Project.objects.create(name="Les Jardins", slug=f"p-{secrets.token_hex(4)}")
        milestone = milestone_create(subject=project, by=None, data={"name": "Foundations"})
        if started:
            milestone = milestone_start(milestone=milestone, by=None)
        return SimpleNamespace(row=milestone)
    return setup


def _milestone_case(action: str, *, started: bool, target: str, message: str = "") -> Case:
    def url(ns):
        return reverse("streams:milestone_transition", args=[ns.row.pk, action])
    body = {"message": message} if message else {}
    return Case(
        setup=_milestone(started=started),
        page=lambda ns: reverse("streams:milestone_detail", args=[ns.row.pk]),
        button=url,
        form=lambda ns, w: (url(ns), body),
        api=lambda ns, w: ("post", f"/api/v1/milestones/{ns.row.pk}/{action}/",
                           {"reason": message} if action == "cancel" else body),
        done=_status_is(target))


# Tasks and tickets --------------------------------------------------------------------------------
def _project() -> Project:
    return Project.objects.create(name="Les Jardins", slug=f"p-{secrets.token_hex(4)}")


def _task(world: World) -> SimpleNamespace:
    return SimpleNamespace(row=task_create(subject=_project(), title="Pour the slab", by=None))


def _task_page(ns) -> str:
    return reverse("streams:task_detail", args=[ns.row.pk])


def _new_task_setup(world: World) -> SimpleNamespace:
    project = _project()
    return SimpleNamespace(row=project, type_id=content_type_id(Project))


def _ticket(world: World) -> SimpleNamespace:
    email = f"client-{secrets.token_hex(3)}@example.test"
    buyer = registered(email)
    order = place_order((goods(f"SKU-{secrets.token_hex(3)}"), 1), customer=buyer, email=email)
    ticket = ticket_raise(user=buyer.user, subject=order, title="Delivery date",
                          body="When will it arrive?")
    return SimpleNamespace(row=ticket)


def _ticket_page(ns) -> str:
    return reverse("streams:ticket_detail", args=[ns.row.pk])


def _ticket_url(name: str) -> Callable[[SimpleNamespace], str]:
    return lambda ns: reverse(f"streams:ticket_{name}", args=[ns.row.pk])


def _task_url(name: str) -> Callable[[SimpleNamespace], str]:
    return lambda ns: reverse(f"streams:task_{name}", args=[ns.row.pk])


def _owner_id(world: World) -> int:
    return world.users[OWNER].pk


def _today() -> str:
    return timezone.localdate().isoformat()


CASES: dict[tuple[str, str], Case] = {
    ("order", "confirm"): _order_case("confirm", 0, OrderStatus.CONFIRMED),
    ("order", "start_processing"): _order_case("start_processing", 1, OrderStatus.PROCESSING),
    ("order", "ship"): _order_case("ship", 2, OrderStatus.SHIPPED, {"tracking": "6A12345"}),
    ("order", "deliver"): _order_case("deliver", 3, OrderStatus.DELIVERED),
    ("order", "cancel"): _order_case("cancel", 1, OrderStatus.CANCELLED,
                                     {"reason": "The customer changed their mind"}),
    ("quote", "send"): _quote_case(
        "send", setup=lambda w: SimpleNamespace(row=_quote(w, sent=False)),
        target=QuoteStatus.SENT),
    ("quote", "accept"): _quote_case(
        "accept", target=QuoteStatus.ACCEPTED,
        form={"accept-name": "Marie Curie", "accept-accept_terms": "on"},
        api={"name": "Marie Curie", "accept_terms": True}),
    ("quote", "decline"): _quote_case(
        "decline", target=QuoteStatus.DECLINED, form={"decline-reason": "Too expensive"},
        api={"reason": "Too expensive"}),
    ("quote", "convert"): _quote_case("convert", setup=_accepted_quote,
                                      target=QuoteStatus.CONVERTED),
    ("quote", "cancel"): _quote_case(
        "cancel", target=QuoteStatus.CANCELLED, form={"cancel-reason": "Project abandoned"},
        api={"reason": "Project abandoned"}),
    ("quote", "revise"): _quote_case("revise", target=QuoteStatus.SUPERSEDED),
    ("invoice", "issue"): Case(
        setup=lambda w: SimpleNamespace(row=_invoice(issued=False)),
        page=_invoice_page,
        button=lambda ns: reverse("billing_dashboard:invoice_issue", args=[ns.row.pk]),
        form=lambda ns, w: (reverse("billing_dashboard:invoice_issue", args=[ns.row.pk]), {}),
        api=lambda ns, w: ("post", f"/api/v1/invoices/{ns.row.pk}/issue/", {}),
        done=_status_is(InvoiceStatus.ISSUED)),
    ("invoice", "record_payment"): Case(
        setup=lambda w: SimpleNamespace(row=_invoice()),
        page=_invoice_page,
        button=lambda ns: reverse("billing_dashboard:payment_record", args=[ns.row.pk]),
        form=lambda ns, w: (reverse("billing_dashboard:payment_record", args=[ns.row.pk]), {
            "payment-method": "bank_transfer", "payment-amount": "50.00",
            "payment-received_on": _today(), "payment-reference": "VIR 42"}),
        api=lambda ns, w: ("post", "/api/v1/payments/record/", {
            "invoice": ns.row.pk, "method": "bank_transfer", "amount": "50.00"}),
        done=_status_is(InvoiceStatus.PARTIALLY_PAID)),
    ("invoice", "credit_note"): Case(
        setup=lambda w: SimpleNamespace(row=_invoice()),
        page=_invoice_page,
        button=lambda ns: reverse("billing_dashboard:credit_note_new", args=[ns.row.pk]),
        form=lambda ns, w: (reverse("billing_dashboard:credit_note_new", args=[ns.row.pk]),
                            {"scope": "full", "reason": "Order returned"}),
        api=lambda ns, w: ("post", f"/api/v1/invoices/{ns.row.pk}/credit-note/",
                           PARTIAL_CREDIT),
        done=lambda ns: Invoice.objects.filter(credited_invoice=ns.row).exists()),
    ("invoice", "refund"): Case(
        setup=_paid_invoice,
        page=lambda ns: reverse("billing_dashboard:invoice_detail", args=[ns.invoice.pk]),
        button=_refund_url,
        form=lambda ns, w: (_refund_url(ns), {f"refund-{ns.row.pk}-amount": "20.00",
                                              f"refund-{ns.row.pk}-reason": "Scratched"}),
        api=lambda ns, w: ("post", f"/api/v1/payments/{ns.row.pk}/refund/",
                           {"amount": "20.00", "reason": "Scratched"}),
        done=lambda ns: _fresh(ns.row).amount_refunded == Decimal("20.00")),
    # On the dashboard, a credit note for all of an unpaid invoice is made as a draft, then
    # issued from its page, which cancels the invoice; the API makes and issues it at once.
    ("invoice", "cancel_by_credit"): Case(
        setup=_credited_draft,
        page=lambda ns: reverse("billing_dashboard:invoice_detail", args=[ns.note.pk]),
        button=lambda ns: reverse("billing_dashboard:invoice_issue", args=[ns.note.pk]),
        form=lambda ns, w: (reverse("billing_dashboard:invoice_issue", args=[ns.note.pk]), {}),
        api=lambda ns, w: ("post", f"/api/v1/invoices/{ns.row.pk}/credit-note/",
                           {"reason": "Order returned"}),
        done=_status_is(InvoiceStatus.CANCELLED)),
    ("milestone", "start"): _milestone_case("start", started=False,
                                            target=MilestoneStatus.IN_PROGRESS),
    ("milestone", "complete"): _milestone_case("complete", started=True,
                                               target=MilestoneStatus.COMPLETED),
    ("milestone", "delay"): _milestone_case("delay", started=False,
                                            target=MilestoneStatus.DELAYED,
                                            message="Rain all week"),
    ("milestone", "cancel"): _milestone_case("cancel", started=False,
                                             target=MilestoneStatus.CANCELLED,
                                             message="Not needed any more"),
    ("task", "create"): Case(
        setup=_new_task_setup,
        page=lambda ns: reverse("catalog_dashboard:project", args=[ns.row.pk]),
        button=lambda ns: reverse("streams:task_new"),
        form=lambda ns, w: (reverse("streams:task_new"), {
            "subject_type": ns.type_id, "subject_id": ns.row.pk, "task-title": "Order tiles"}),
        api=lambda ns, w: ("post", "/api/v1/tasks/", {
            "subject_type": "catalog.project", "subject_id": ns.row.pk,
            "title": "Order tiles"}),
        done=lambda ns: Task.objects.filter(subject_type_id=ns.type_id,
                                            subject_id=ns.row.pk).exists()),
    ("task", "assign"): Case(
        setup=_task, page=_task_page, button=_task_url("assign"),
        form=lambda ns, w: (_task_url("assign")(ns), {"assignee": _owner_id(w)}),
        api=lambda ns, w: ("post", f"/api/v1/tasks/{ns.row.pk}/assign/",
                           {"assignee": _owner_id(w)}),
        done=lambda ns: _fresh(ns.row).assignee_id is not None),
    ("task", "status"): Case(
        setup=_task, page=_task_page, button=_task_url("status"),
        form=lambda ns, w: (_task_url("status")(ns), {"status": TaskStatus.DONE}),
        api=lambda ns, w: ("post", f"/api/v1/tasks/{ns.row.pk}/status/",
                           {"status": TaskStatus.DONE}),
        done=_status_is(TaskStatus.DONE)),
    ("task", "delete"): Case(
        setup=_task, page=_task_page, button=_task_url("delete"),
        form=lambda ns, w: (_task_url("delete")(ns), {}),
        api=lambda ns, w: ("delete", f"/api/v1/tasks/{ns.row.pk}/", {}),
        done=lambda ns: _fresh(ns.row) is None),
    ("ticket", "reply"): Case(
        setup=_ticket, page=_ticket_page, button=_ticket_url("reply"),
        form=lambda ns, w: (_ticket_url("reply")(ns), {"reply-body": "It ships on Monday."}),
        api=lambda ns, w: ("post", f"/api/v1/tickets/{ns.row.pk}/reply/",
                           {"body": "It ships on Monday."}),
        done=_status_is(TicketStatus.ANSWERED)),
    ("ticket", "assign"): Case(
        setup=_ticket, page=_ticket_page, button=_ticket_url("assign"),
        form=lambda ns, w: (_ticket_url("assign")(ns), {"assignee": _owner_id(w)}),
        api=lambda ns, w: ("post", f"/api/v1/tickets/{ns.row.pk}/assign/",
                           {"assignee": _owner_id(w)}),
        done=lambda ns: _fresh(ns.row).assignee_id is not None),
    ("ticket", "close"): Case(
        setup=_ticket, page=_ticket_page, button=_ticket_url("close"),
        form=lambda ns, w: (_ticket_url("close")(ns), {}),
        api=lambda ns, w: ("post", f"/api/v1/tickets/{ns.row.pk}/close/", {}),
        done=_status_is(TicketStatus.CLOSED)),
}


# --- the checks ----------------------------------------------------------------------------------

def _fingerprint(ns: SimpleNamespace) -> tuple:
    """The changed row as stored, and how many rows of every kind the work might add (one
    query for all the counts)."""
    row = type(ns.row).objects.filter(pk=ns.row.pk).values().first()
    counts = ", ".join(f"(SELECT count(*) FROM {model._meta.db_table})" for model in COUNTED)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {counts}")
        return row, cursor.fetchone()


def _api_call(client: Client, method: str, url: str, body: dict):
    if method == "delete":
        return client.delete(url)
    return client.post(url, body, content_type="application/json")


def _refusal_message(response) -> str:
    """The words of an API answer's body, whatever its shape (`errors`, `detail`)."""
    try:
        body = response.json()
    except ValueError:
        return ""

    def words(value) -> list[str]:
        if isinstance(value, dict):
            return [w for item in value.values() for w in words(item)]
        if isinstance(value, list):
            return [w for item in value for w in words(item)]
        return [value] if isinstance(value, str) else []
    return " ".join(words({key: value for key, value in body.items()
                           if key in ("errors", "detail", "error", "message")}))


def _check_role(world: World, case: Case, ns: SimpleNamespace, role: str, allowed: bool,
                before: tuple) -> list[str]:
    problems = []
    pages, api = world.pages[role], world.apis[role]

    # The button is on the page exactly when the role may use it (a page the role may not open
    # shows no button at all).
    page = pages.get(case.page(ns))
    if page.status_code not in (200, 403):
        problems.append(f"{role}: the page answered {page.status_code}")
    shown = page.status_code == 200 and f'"{case.button(ns)}"' in page.content.decode()
    if shown != allowed:
        problems.append(f"{role}: the dashboard {'hides' if allowed else 'shows'} the button")

    for surface in ("dashboard", "API"):
        with rolled_back():
            if surface == "dashboard":
                url, data = case.form(ns, world)
                response = pages.post(url, data)
            else:
                method, url, body = case.api(ns, world)
                response = _api_call(api, method, url, body)
            with world.inside():
                ran = case.done(ns)
                after = before if allowed else _fingerprint(ns)
        code = response.status_code
        if allowed and (code >= 400 or not ran):
            problems.append(f"{role}: the {surface} refused an allowed action ({code}: "
                            f"{_refusal_message(response) or response.content[:300]!r})")
        if not allowed:
            if code != 403:
                problems.append(f"{role}: the {surface} answered {code}, not 403")
            elif surface == "API" and not _refusal_message(response):
                problems.append(f"{role}: the API's 403 says nothing: {response.content!r}")
            if after != before:
                problems.append(f"{role}: the {surface} refused, yet something changed")
    return problems


@pytest.mark.parametrize("key", list(TABLE), ids=lambda key: "-".join(key))
def test_each_role_runs_exactly_the_transitions_the_table_allows(key, world):
    case = CASES[key]
    with world.inside():
        ns = case.setup(world)
        before = _fingerprint(ns)  # every role's attempt is rolled back: it stays true
    problems = []
    for role in ROLES:
        problems += _check_role(world, case, ns, role, allowed=role in TABLE[key],
                                before=before)
    assert not problems, f"{key}:\n" + "\n".join(problems)


def test_the_table_covers_every_transition_of_every_workflow():
    """A transition added to a workflow must get its row here."""
    actions = {workflow: {a for w, a in TABLE if w == workflow} for workflow, _a in TABLE}
    assert set(TABLE) == set(CASES)
    assert actions["order"] == set(ORDER_ACTIONS)
    assert actions["quote"] == set(QUOTE_ACTIONS) | {"revise"}
    assert actions["milestone"] == set(MILESTONE_ACTIONS)
    assert {"issue", "record_payment", "credit_note"} <= actions["invoice"]

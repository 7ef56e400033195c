"""Tickets: a customer asks about one of their orders from their account and follows the
thread there; staff answer (the customer is emailed, the ticket is answered), note things the
customer never sees, assign, close and reopen; the customer's reply opens it again. Nobody
reaches another customer's orders or tickets, nor another shop's."""

from __future__ import annotations

import smtplib

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from streams.errors import WorkError
from streams.events import follow
from streams.models import (
    Comment,
    Event,
    Notification,
    NotificationReason,
    Ticket,
    TicketStatus,
)
from streams.services.work import (
    ticket_assign,
    ticket_close,
    ticket_customer_reply,
    ticket_note,
    ticket_reply,
)
from streams.subjects import content_type_id
from tests.conftest import host_of, in_schema, login, owner_of
from tests.sales.factories import lot, place_order
from tests.streams.work_support import (  # noqa: F401 (in_shop is a fixture)
    client_for,
    customer_client,
    customer_with_order,
    in_shop,
    raise_ticket,
    staff,
)

pytestmark = pytest.mark.usefixtures("in_shop")

NEW = "/account/tickets/new/"
STAFF_TICKETS = "/dashboard/activity/tickets/"
BASE_URL = "http://alpha.localhost"


def events_of(obj, verb: str | None = None):
    qs = Event.objects.filter(subject_type_id=content_type_id(obj), subject_id=obj.pk)
    return qs.filter(verb=verb) if verb else qs


# ---------------------------------------------------------------------------------------------
# Customers raise tickets about their own orders only
# ---------------------------------------------------------------------------------------------
def test_a_customer_asks_about_their_order_from_its_page(shop):
    paul, order = customer_with_order()
    watcher = staff("sales")
    follow(user=watcher, subject=order)
    client = customer_client(shop, paul)
    order_page = client.get(f"/account/orders/{order.number}/").content.decode()
    assert f'href="/account/tickets/new/?order={order.number}"' in order_page
    assert 'href="/account/tickets/"' in order_page, "the account navigation links the tickets"

    form = client.get(f"{NEW}?order={order.number}")
    assert form.status_code == 200 and f"Order {order.number}" in form.content.decode()
    response = client.post(NEW, {"fixed": "1", "about": f"order:{order.number}",
                                 "title": "Delivery date", "body": "When will it arrive?"},
                           follow=True)
    ticket = Ticket.objects.get()
    assert response.redirect_chain[-1][0] == f"/account/tickets/{ticket.pk}/"
    assert (ticket.subject, ticket.raised_by, ticket.status) == (order, paul.user,
                                                                 TicketStatus.OPEN)
    assert "When will it arrive?" in response.content.decode()
    raised = events_of(ticket, "raised").get()
    assert (raised.actor, raised.actor_kind) == (paul.user, "customer")
    on_order = events_of(order, "ticket_raised").get()
    assert on_order.data["ticket"] == ticket.pk
    assert Notification.objects.filter(recipient=watcher, event=on_order).exists()


def test_a_customer_picks_one_of_their_orders_when_none_is_given(shop):
    paul, order = customer_with_order()
    client = customer_client(shop, paul)
    page = client.get(NEW).content.decode()
    assert f'value="order:{order.number}"' in page
    missing = client.post(NEW, {"about": "", "title": "Hello", "body": "Question"})
    assert missing.status_code == 422
    assert "Choose what your question is about." in missing.content.decode()
    empty = client.post(NEW, {"about": f"order:{order.number}", "title": " ", "body": "Q"})
    assert empty.status_code == 422 and "Say what it is about." in empty.content.decode()
    assert not Ticket.objects.exists()
    client.post(NEW, {"about": f"order:{order.number}", "title": "Hello", "body": "Question"})
    assert Ticket.objects.get().subject == order


def test_a_customer_cannot_raise_a_ticket_on_someone_elses_order(shop):
    paul, _mine = customer_with_order()
    _marie, hers = customer_with_order()
    client = customer_client(shop, paul)
    assert client.get(f"{NEW}?order={hers.number}").status_code == 404
    assert client.get(f"{NEW}?order=C-0000-99999").status_code == 404
    for data in ({"fixed": "1", "about": f"order:{hers.number}"},
                 {"about": f"order:{hers.number}"}, {"about": f"lot:{hers.number}"}):
        response = client.post(NEW, {**data, "title": "Mine?", "body": "Let me in"})
        assert response.status_code == 404, data
    assert not Ticket.objects.exists()


def test_a_customer_may_ask_about_a_lot_they_bought(shop):
    paul, _order = customer_with_order()
    flat = lot("B12")
    place_order((flat, 1), customer=paul, email=paul.email)
    other_flat = lot("B13")
    client = customer_client(shop, paul)
    assert client.get(f"{NEW}?lot={other_flat.sku}").status_code == 404
    page = client.get(f"{NEW}?lot={flat.sku}")
    assert page.status_code == 200 and "Lot B12" in page.content.decode()
    client.post(NEW, {"fixed": "1", "about": f"lot:{flat.sku}", "title": "Keys",
                      "body": "When do I get the keys?"})
    assert Ticket.objects.get().subject_id == flat.pk


def test_a_customer_never_sees_or_answers_another_customers_ticket(shop):
    paul, _order = customer_with_order()
    marie, hers = customer_with_order()
    ticket = raise_ticket(marie, hers, title="Private matter")
    client = customer_client(shop, paul)
    listing = client.get("/account/tickets/").content.decode()
    assert "Private matter" not in listing
    assert client.get(f"/account/tickets/{ticket.pk}/").status_code == 404
    assert client.post(f"/account/tickets/{ticket.pk}/reply/",
                       {"body": "Hi"}).status_code == 404
    assert not Comment.objects.exists()
    own = customer_client(shop, marie).get(f"/account/tickets/{ticket.pk}/")
    assert own.status_code == 200 and "Private matter" in own.content.decode()


def test_ticket_pages_are_for_signed_in_customers_and_staff_pages_for_staff(shop):
    paul, order = customer_with_order()
    ticket = raise_ticket(paul, order)
    anonymous = Client(HTTP_HOST=host_of(shop))
    assert anonymous.get("/account/tickets/")["Location"].startswith("/account/login/")
    assert client_for(shop, staff("sales")).get("/account/tickets/").status_code == 403
    customer = customer_client(shop, paul)
    assert customer.get(STAFF_TICKETS).status_code == 403
    assert customer.get(f"{STAFF_TICKETS}{ticket.pk}/").status_code == 403


# ---------------------------------------------------------------------------------------------
# Staff answer: the thread, emails, statuses
# ---------------------------------------------------------------------------------------------
def test_a_staff_reply_emails_the_customer_and_marks_the_ticket_answered(
        shop, django_capture_on_commit_callbacks):
    paul, order = customer_with_order()
    ticket = raise_ticket(paul, order)
    seller = staff("sales")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(shop, seller).post(f"{STAFF_TICKETS}{ticket.pk}/reply/",
                                                 {"reply-body": "It ships on Monday."})
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.ANSWERED
    reply = Comment.objects.get()
    assert (reply.author, reply.customer_visible) == (seller, True)
    [email] = mail.outbox
    assert email.to == [paul.email]
    assert "It ships on Monday." in email.body
    assert f"/account/tickets/{ticket.pk}/" in email.body and "Alpha Shop" in email.subject
    replied = events_of(ticket, "replied").get()
    assert (replied.before, replied.after, replied.actor) == ("open", "answered", seller)
    page = customer_client(shop, paul).get(f"/account/tickets/{ticket.pk}/").content.decode()
    assert "It ships on Monday." in page and "badge-answered" in page


def test_a_mail_server_that_is_down_never_fails_the_reply(
        shop, monkeypatch, django_capture_on_commit_callbacks):
    paul, order = customer_with_order()
    ticket = raise_ticket(paul, order)

    def refuse(*args, **kwargs):
        raise smtplib.SMTPServerDisconnected("down")

    monkeypatch.setattr("streams.services.work.send_mail", refuse)
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(shop, staff("sales")).post(f"{STAFF_TICKETS}{ticket.pk}/reply/",
                                                         {"reply-body": "On its way."})
    assert response.status_code == 302
    assert Ticket.objects.get(pk=ticket.pk).status == TicketStatus.ANSWERED
    assert Comment.objects.get().body == "On its way."


def test_an_empty_reply_is_refused_next_to_the_field_and_changes_nothing(
        shop, django_capture_on_commit_callbacks):
    paul, order = customer_with_order()
    ticket = raise_ticket(paul, order)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(shop, staff("sales")).post(f"{STAFF_TICKETS}{ticket.pk}/reply/",
                                                         {"reply-body": "   "})
    assert response.status_code == 422
    assert 'id="id_reply-body_error"' in response.content.decode()
    assert Ticket.objects.get(pk=ticket.pk).status == TicketStatus.OPEN
    assert not Comment.objects.exists() and not mail.outbox


def test_the_customer_reply_opens_an_answered_or_closed_ticket_again():
    paul, order = customer_with_order()
    ticket = raise_ticket(paul, order)
    seller = staff("sales")
    ticket_assign(ticket=ticket, assignee=seller, by=staff("manager"))
    ticket_reply(ticket=ticket, body="Monday.", by=seller, base_url=BASE_URL)
    ticket_customer_reply(ticket=ticket, body="Which Monday?", user=paul.user)
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN
    reopened = events_of(ticket, "customer_replied").get()
    assert (reopened.before, reopened.after, reopened.actor_kind) == ("answered", "open",
                                                                      "customer")
    assert Notification.objects.filter(recipient=seller, event=reopened,
                                       reason=NotificationReason.FOLLOW).exists()
    ticket_close(ticket=ticket, by=seller)
    ticket_customer_reply(ticket=ticket, body="Still here", user=paul.user)
    assert Ticket.objects.get(pk=ticket.pk).status == TicketStatus.OPEN


def test_the_customer_replies_from_their_account_and_bad_input_changes_nothing(shop):
    paul, order = customer_with_order()
    ticket = raise_ticket(paul, order)
    client = customer_client(shop, paul)
    refused = client.post(f"/account/tickets/{ticket.pk}/reply/", {"body": ""})
    assert refused.status_code == 422 and "Write your message." in refused.content.decode()
    assert not Comment.objects.exists()
    done = client.post(f"/account/tickets/{ticket.pk}/reply/", {"body": "Also: blue?"},
                       follow=True)
    assert "Also: blue?" in done.content.decode()


def test_internal_notes_stay_with_staff():
    paul, order = customer_with_order()
    ticket = raise_ticket(paul, order)
    ticket_note(ticket=ticket, body="Customer is a VIP", by=staff("sales"))
    assert Ticket.objects.get(pk=ticket.pk).status == TicketStatus.OPEN
    login_shop = connection.tenant
    page = customer_client(login_shop, paul).get(f"/account/tickets/{ticket.pk}/")
    assert "Customer is a VIP" not in page.content.decode()
    staff_page = client_for(login_shop, staff("sales")).get(f"{STAFF_TICKETS}{ticket.pk}/")
    assert "Customer is a VIP" in staff_page.content.decode()
    assert "Internal note" in staff_page.content.decode()


def test_assigning_a_ticket_notifies_the_assignee_unless_they_take_it():
    paul, order = customer_with_order()
    ticket = raise_ticket(paul, order)
    manager, seller = staff("manager"), staff("sales")
    ticket_assign(ticket=ticket, assignee=seller, by=manager)
    assert Notification.objects.get(recipient=seller).reason == NotificationReason.ASSIGNED
    ticket_assign(ticket=ticket, assignee=manager, by=manager)
    assert not Notification.objects.filter(recipient=manager).exists()
    with pytest.raises(WorkError, match="already assigned"):
        ticket_assign(ticket=ticket, assignee=manager, by=manager)


def test_close_and_reopen_from_the_page_with_htmx(shop):
    paul, order = customer_with_order()
    ticket = raise_ticket(paul, order)
    client = client_for(shop, staff("sales"))
    closed = client.post(f"{STAFF_TICKETS}{ticket.pk}/close/", HTTP_HX_REQUEST="true",
                         HTTP_HX_TARGET="ticket-header")
    html = closed.content.decode()
    assert html.lstrip().startswith('<div class="page-header doc-header" id="ticket-header"')
    assert "badge-closed" in html and "Reopen ticket" in html
    again = client.post(f"{STAFF_TICKETS}{ticket.pk}/close/")
    assert again.status_code == 409
    client.post(f"{STAFF_TICKETS}{ticket.pk}/reopen/")
    assert Ticket.objects.get(pk=ticket.pk).status == TicketStatus.OPEN
    assert list(events_of(ticket).filter(verb__in=["closed", "reopened"])
                .order_by("at", "id").values_list("verb", flat=True)) == ["closed", "reopened"]


@pytest.mark.parametrize(("role", "allowed"), [("accountant", False), ("warehouse", True),
                                               ("sales", True)])
def test_replying_needs_the_right_to_change_tickets(shop, role, allowed):
    paul, order = customer_with_order()
    ticket = raise_ticket(paul, order)
    client = client_for(shop, staff(role))
    assert client.get(f"{STAFF_TICKETS}{ticket.pk}/").status_code == 200, "every role reads"
    for url, data in (("reply/", {"reply-body": "Hello"}), ("note/", {"note-body": "Hm"}),
                      ("close/", {})):
        response = client.post(f"{STAFF_TICKETS}{ticket.pk}/{url}", data)
        assert (response.status_code in (200, 302)) is allowed, url
    assert Comment.objects.exists() is allowed


# ---------------------------------------------------------------------------------------------
# The staff list
# ---------------------------------------------------------------------------------------------
def test_the_list_filters_unassigned_mine_and_status_at_a_constant_cost(
        shop, django_assert_max_num_queries):
    seller = staff("sales")
    paul, order = customer_with_order()
    mine = raise_ticket(paul, order, title="Mine")
    ticket_assign(ticket=mine, assignee=seller, by=seller)
    raise_ticket(paul, order, title="Nobody's")
    closed = raise_ticket(paul, order, title="Closed one")
    ticket_close(ticket=closed, by=seller)
    client = client_for(shop, seller)

    def titles(query: str) -> set[str]:
        return {row["title"] for row in client.get(f"{STAFF_TICKETS}?{query}").context["rows"]}

    assert titles("assignee=me") == {"Mine"}
    assert titles("assignee=none&status=pending") == {"Nobody's"}
    assert titles("status=closed") == {"Closed one"}
    with CaptureQueriesContext(connection) as few:
        client.get(STAFF_TICKETS)
    Ticket.objects.bulk_create([Ticket(subject_type_id=mine.subject_type_id, subject_id=order.pk,
                                       subject_label="Order", title=f"Bulk {i}", body="x",
                                       raised_by=paul.user, assignee=seller)
                                for i in range(100)])
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(STAFF_TICKETS).context["page"].count == 103


# ---------------------------------------------------------------------------------------------
# Another shop
# ---------------------------------------------------------------------------------------------
def test_another_shops_staff_and_customers_never_reach_a_ticket(shop, other_shop):
    paul, order = customer_with_order()
    ticket = raise_ticket(paul, order, title="Alpha's question")
    with in_schema(other_shop):
        intruder = login(Client(HTTP_HOST=host_of(other_shop)), other_shop,
                         owner_of(other_shop))
        assert intruder.get(f"{STAFF_TICKETS}{ticket.pk}/").status_code == 404
        assert "Alpha's question" not in intruder.get(STAFF_TICKETS).content.decode()
        assert intruder.get(f"/api/v1/tickets/{ticket.pk}/").status_code == 404
        assert not Ticket.objects.exists()


def test_a_reply_with_htmx_answers_the_thread_and_the_new_status(shop):
    paul, order = customer_with_order()
    ticket = raise_ticket(paul, order)
    response = client_for(shop, staff("sales")).post(
        f"{STAFF_TICKETS}{ticket.pk}/reply/", {"reply-body": "Packed today."},
        HTTP_HX_REQUEST="true", HTTP_HX_TARGET="ticket-thread")
    html = response.content.decode()
    assert html.lstrip().startswith('<section class="card" id="ticket-thread"')
    assert "Packed today." in html and "Reply sent" in html
    assert 'id="ticket-header" hx-swap-oob="true"' in html and "badge-answered" in html

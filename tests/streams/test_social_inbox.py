"""The inbox and its badge, the follow button, the digest email: what staff see of their
notifications, at a cost that does not grow with them."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.db import connection
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from streams.models import DigestSubscription, Event, Follow, Notification, NotificationReason
from streams.tasks import email_digest_task
from tests.sales.factories import registered
from tests.streams.social_support import (
    client_for,
    follow,
    in_shop,
    panel_html,
    staff,
    subject,
    url_of,
)

pytestmark = pytest.mark.usefixtures("in_shop")
__all__ = ["in_shop"]

INBOX = "/dashboard/activity/inbox/"
HTMX = {"HTTP_HX_REQUEST": "true"}


def notifications(user, obj, n: int, *, verb: str = "updated", read: bool = False,
                  reason: str = NotificationReason.FOLLOW) -> list[Notification]:
    ct, pk = url_of(obj)
    events = Event.objects.bulk_create([
        Event(subject_type_id=ct, subject_id=pk, subject_label=f"Customer {obj.last_name}",
              verb=verb, actor_kind="staff", actor_name="Ada Lovelace", message=f"note {i}")
        for i in range(n)])
    return Notification.objects.bulk_create([
        Notification(recipient=user, event=event, reason=reason,
                     read_at=timezone.now() if read else None) for event in events])


# ---------------------------------------------------------------------------------------------
# Inbox
# ---------------------------------------------------------------------------------------------
def test_inbox_lists_newest_first_with_unread_highlighted_and_opening_marks_read(shop):
    ada, marie = staff("sales"), subject("Curie")
    old = notifications(ada, marie, 1, read=True)[0]
    new = notifications(ada, marie, 1, verb="commented", reason=NotificationReason.MENTION)[0]
    client = client_for(shop, ada)

    html = client.get(INBOX).content.decode()

    assert html.index(f"{INBOX}{new.pk}/open/") < html.index(f"{INBOX}{old.pk}/open/")
    unread = re.findall(r'<li class="inbox-item unread">.*?</li>', html, re.S)
    assert len(unread) == 1 and "New comment" in unread[0] and "You were mentioned" in unread[0]
    response = client.get(f"{INBOX}{new.pk}/open/")
    assert response.status_code == 302
    assert response["Location"] == f"/dashboard/sales/customers/{marie.pk}/"
    new.refresh_from_db()
    assert new.read_at is not None


def test_someone_elses_notification_is_not_found(shop):
    theirs = notifications(staff("sales"), subject(), 1)[0]
    client = client_for(shop, staff("sales"))
    assert client.get(f"{INBOX}{theirs.pk}/open/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_unread_filter_and_mark_all_read_up_to_what_was_seen(shop):
    ada, marie = staff("sales"), subject()
    seen = notifications(ada, marie, 3)
    notifications(ada, marie, 2, read=True)
    client = client_for(shop, ada)
    page = client.get(INBOX, {"show": "unread"})
    assert len(page.context["rows"]) == 3 and page.context["newest_id"] == seen[-1].pk
    arrived_meanwhile = notifications(ada, marie, 1)[0]

    response = client.post(f"{INBOX}read-all/", {"up_to": seen[-1].pk, "show": "unread"},
                           **HTMX)

    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="inbox-badge"' in html and 'hx-swap-oob="true"' in html  # the badge follows
    assert list(Notification.objects.filter(read_at__isnull=True)) == [arrived_meanwhile]
    # Without JavaScript: back to the inbox.
    response = client.post(f"{INBOX}read-all/", {})
    assert response.status_code == 302 and response["Location"] == INBOX
    assert not Notification.objects.filter(read_at__isnull=True).exists()


def test_a_tampered_mark_all_read_changes_nothing(shop):
    ada = staff("sales")
    notifications(ada, subject(), 2)
    response = client_for(shop, ada).post(f"{INBOX}read-all/", {"up_to": "abc"}, follow=True)
    assert "Reload the inbox and try again" in response.content.decode()
    assert Notification.objects.filter(read_at__isnull=True).count() == 2


def test_inbox_empty_states(shop):
    client = client_for(shop, staff("sales"))
    assert "Nothing here yet." in client.get(INBOX).content.decode()
    assert "you are all caught up" in client.get(INBOX, {"show": "unread"}).content.decode()


def test_the_inbox_is_for_staff_only(shop):
    customer = client_for(shop, registered("paul@example.test").user)
    assert customer.get(INBOX).status_code == 403
    badge = customer.get(f"{INBOX}badge/")
    assert badge.status_code == 286 and badge.content == b""  # stops polling


def test_inbox_query_count_is_the_same_for_10_and_1000(shop, django_assert_max_num_queries):
    ada, marie = staff("sales"), subject()
    notifications(ada, marie, 10)
    client = client_for(shop, ada)
    client.get(INBOX)
    with CaptureQueriesContext(connection) as small:
        assert client.get(INBOX).status_code == 200
    notifications(ada, marie, 990)
    for params in ({}, {"show": "unread", "page": "7"}):
        with django_assert_max_num_queries(len(small.captured_queries)):
            response = client.get(INBOX, params)
        assert len(response.context["rows"]) == 25
    assert response.context["page"].count == 1000


# ---------------------------------------------------------------------------------------------
# Badge
# ---------------------------------------------------------------------------------------------
def badge_html(user) -> str:
    request = RequestFactory().get("/dashboard/")
    request.user = user
    return render_to_string("streams/_inbox_badge.html", {"user": user}, request=request)


def test_the_badge_counts_unread_in_one_query_and_caps_at_99_plus(django_assert_num_queries):
    ada, marie = staff("sales"), subject()
    notifications(ada, marie, 3)
    notifications(ada, marie, 2, read=True)
    with django_assert_num_queries(1):
        html = badge_html(ada)
    assert '<span class="count" aria-hidden="true">3</span>' in html
    assert "3 unread notifications" in html
    assert 'hx-trigger="every 30s"' in html and 'href="/dashboard/activity/inbox/"' in html
    notifications(ada, marie, 150)
    with django_assert_num_queries(1):
        assert '<span class="count" aria-hidden="true">99+</span>' in badge_html(ada)


def test_no_badge_and_no_query_for_customers(django_assert_num_queries):
    customer = registered("paul@example.test").user
    with django_assert_num_queries(0):
        assert badge_html(customer).strip() == ""


def test_the_badge_is_polled_and_on_every_dashboard_page(shop):
    ada = staff("sales")
    notifications(ada, subject(), 2)
    client = client_for(shop, ada)
    page = client.get("/dashboard/").content.decode()
    # The page carries the badge without counting; it asks for its count once loaded.
    assert 'id="inbox-badge"' in page and 'hx-trigger="load, every 30s"' in page
    assert 'class="count"' not in page
    polled = client.get(f"{INBOX}badge/", **HTMX)
    assert polled.status_code == 200
    assert polled.content.decode().strip().startswith('<a id="inbox-badge"')
    assert '<span class="count" aria-hidden="true">2</span>' in polled.content.decode()
    assert "no-cache" in polled["Cache-Control"]


def test_a_dashboard_page_costs_the_same_with_1000_unread(shop):
    ada = staff("sales")
    client = client_for(shop, ada)
    client.get("/dashboard/")
    with CaptureQueriesContext(connection) as none:
        client.get("/dashboard/")
    notifications(ada, subject(), 1000)
    with CaptureQueriesContext(connection) as many:
        client.get("/dashboard/")
    assert len(many.captured_queries) == len(none.captured_queries)


# ---------------------------------------------------------------------------------------------
# Follow button
# ---------------------------------------------------------------------------------------------
def follow_url(obj) -> str:
    ct, pk = url_of(obj)
    return f"/dashboard/activity/{ct}/{pk}/follow/"


def test_follow_change_level_and_unfollow_from_the_panel(shop):
    ada, marie = staff("sales"), subject()
    page = f"/dashboard/sales/customers/{marie.pk}/"
    assert ">Follow</button>" in panel_html(marie, ada)
    client = client_for(shop, ada)

    response = client.post(follow_url(marie), {"level": "all", "next": page})
    assert response.status_code == 302 and response["Location"] == page
    assert Follow.objects.get(user=ada).level == "all"

    response = client.post(follow_url(marie), {"level": "important"}, **HTMX)
    html = response.content.decode()
    assert response.status_code == 200 and html.lstrip().startswith('<div id="follow-')
    assert '<option value="important" selected>' in html and "Following" in html
    assert "important changes only" in html  # the toast
    assert Follow.objects.get(user=ada).level == "important"

    response = client.post(follow_url(marie), {"unfollow": "1"}, **HTMX)
    assert ">Follow</button>" in response.content.decode()
    assert not Follow.objects.exists()


def test_a_bad_level_is_refused_and_changes_nothing(shop):
    ada, marie = staff("sales"), subject()
    follow(ada, marie, "mute")
    client = client_for(shop, ada)
    response = client.post(follow_url(marie), {"level": "loud"}, **HTMX)
    assert response.status_code == 422
    assert "Choose what to hear about" in response.content.decode()
    assert Follow.objects.get(user=ada).level == "mute"
    response = client.post(follow_url(marie), {"level": ""}, follow=True)
    assert "Choose what to hear about" in response.content.decode()


def test_following_what_does_not_exist_or_is_not_followable_is_not_found(shop):
    client = client_for(shop, staff("sales"))
    marie = subject()
    ct, pk = url_of(marie)
    assert client.post(f"/dashboard/activity/{ct}/{pk + 999}/follow/",
                       {"level": "all"}).status_code == 404
    untracked = url_of(staff("sales"))[0]
    assert client.post(f"/dashboard/activity/{untracked}/{pk}/follow/",
                       {"level": "all"}).status_code == 404
    customer = client_for(shop, registered("paul@example.test").user)
    assert customer.post(follow_url(marie), {"level": "all"}).status_code == 403
    assert not Follow.objects.exists()


# ---------------------------------------------------------------------------------------------
# Digest
# ---------------------------------------------------------------------------------------------
def test_the_digest_emails_opted_in_staff_their_unread_notifications_once(
        shop, django_capture_on_commit_callbacks):
    ada, bob, marie = staff("sales", "ada@staff.test"), staff("sales"), subject("Curie")
    client = client_for(shop, ada)
    client.post(f"{INBOX}digest/", {"digest": "on"})
    assert DigestSubscription.objects.filter(user=ada).exists()
    notifications(ada, marie, 2)
    notifications(ada, marie, 1, read=True)
    notifications(bob, marie, 2)  # bob did not ask for it

    with django_capture_on_commit_callbacks(execute=True):
        assert email_digest_task() == 1

    [email] = mail.outbox
    assert email.to == ["ada@staff.test"]
    assert email.subject == "Alpha Shop: 2 unread notifications"
    assert "Customer Curie" in email.body
    assert f"http://{shop.get_primary_domain().domain}{INBOX}" in email.body
    assert Notification.objects.filter(recipient=ada, emailed_at__isnull=False).count() == 2
    with django_capture_on_commit_callbacks(execute=True):
        assert email_digest_task() == 0  # nothing new: no second email
    client.post(f"{INBOX}digest/", {})
    assert not DigestSubscription.objects.exists()

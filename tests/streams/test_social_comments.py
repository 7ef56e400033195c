"""Comments on any object's page: threads, edits that keep history, deletions that leave a
tombstone, mentions highlighted, text escaped; refused input changes nothing and is kept."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sales.services.quotes import quote_create
from streams.models import Comment, CommentRevision, Event
from streams.services.social import comment_create, comment_edit
from tests.sales.factories import registered
from tests.streams.social_support import (
    client_for,
    in_shop,
    panel_html,
    staff,
    subject,
    url_of,
)

pytestmark = pytest.mark.usefixtures("in_shop")
__all__ = ["in_shop"]

BASE = "/dashboard/activity"
HTMX = {"HTTP_HX_REQUEST": "true"}


def comments_url(obj) -> str:
    ct, pk = url_of(obj)
    return f"{BASE}/{ct}/{pk}/comments/"


def post(by, obj, body: str, **extra) -> Comment:
    ct, pk = url_of(obj)
    return comment_create(by=by, subject_type_id=ct, subject_id=pk, body=body, **extra)


def test_staff_comment_and_reply_from_the_page_with_and_without_htmx(shop):
    marie, ada = subject(), staff("sales", "ada@staff.test")
    client = client_for(shop, ada)
    page = f"/dashboard/sales/customers/{marie.pk}/"

    response = client.post(comments_url(marie), {"body": "Called her.", "next": page})
    root = Comment.objects.get()
    assert response.status_code == 302 and response["Location"] == f"{page}#comment-{root.pk}"

    response = client.post(comments_url(marie), {"body": "She calls back at 5.",
                                                 "parent": root.pk}, **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith(f'<section class="card comments" id="comments-{url_of(marie)[0]}')
    assert "Called her." in html and "She calls back at 5." in html
    assert 'class="comment-replies"' in html
    assert "Comment posted." in html  # the toast, out of band
    # The author follows the customer now: the follow box beside says so (out of band).
    assert f'id="follow-{url_of(marie)[0]}-{marie.pk}" class="follow-box" hx-swap-oob="true"' in html
    assert "Following" in html
    assert "streams:changed" in response["HX-Trigger"]  # the timeline beside it reloads
    reply = Comment.objects.latest("id")
    assert reply.parent_id == root.pk
    # One "commented" event per comment, by its author.
    assert list(Event.objects.values_list("verb", "actor")) == [("commented", ada.pk)] * 2


def test_a_reply_to_a_reply_stays_one_level_under_the_first_comment():
    marie, ada = subject(), staff("sales")
    root = post(ada, marie, "First")
    reply = post(ada, marie, "Second", parent_id=root.pk)
    answer = post(ada, marie, "Third", parent_id=reply.pk)
    assert answer.parent_id == root.pk


@pytest.mark.parametrize(("body", "message"), [
    ("", "Write something before posting."),
    ("   \n  ", "Write something before posting."),
    ("x" * 5001, "A comment has at most 5,000 characters; this one has 5,001."),
])
def test_a_refused_comment_says_why_keeps_the_text_and_changes_nothing(shop, body, message):
    marie = subject()
    client = client_for(shop, staff("sales"))
    response = client.post(comments_url(marie), {"body": body}, **HTMX)
    assert response.status_code == 422
    html = response.content.decode()
    assert message in html
    if body.strip():
        assert f">{body}</textarea>" in html  # what was typed is still there
    # Without JavaScript: a page with the form, the message and the text.
    page = client.post(comments_url(marie), {"body": body})
    assert page.status_code == 422 and message in page.content.decode()
    assert not Comment.objects.exists() and not Event.objects.exists()


def test_replying_to_a_comment_of_another_object_is_refused(shop):
    marie, other = subject(), subject("Other")
    elsewhere = post(staff("sales"), other, "Elsewhere")
    client = client_for(shop, staff("sales"))
    response = client.post(comments_url(marie), {"body": "Hi", "parent": elsewhere.pk}, **HTMX)
    assert response.status_code == 422
    html = response.content.decode()
    assert "not on this page any more" in html and ">Hi</textarea>" in html
    assert Comment.objects.count() == 1


def test_editing_keeps_the_history_and_shows_edited(shop):
    marie, ada = subject(), staff("sales")
    comment = post(ada, marie, "Delivery on Monday")
    client = client_for(shop, ada)
    response = client.post(f"{BASE}/comments/{comment.pk}/edit/",
                           {"body": "Delivery on Tuesday"}, **HTMX)
    assert response.status_code == 200
    comment.refresh_from_db()
    assert comment.body == "Delivery on Tuesday" and comment.edited_at is not None
    assert list(comment.revisions.values_list("body", flat=True)) == ["Delivery on Monday"]
    html = panel_html(marie, ada)
    assert "edited" in html and "Delivery on Monday" in html and "Delivery on Tuesday" in html
    # The timeline's excerpt follows the text.
    assert Event.objects.get(verb="commented").message == "Delivery on Tuesday"


def test_editing_to_the_same_text_keeps_no_revision():
    marie, ada = subject(), staff("sales")
    comment = post(ada, marie, "Same")
    comment_edit(by=ada, comment_id=comment.pk, body="  Same ")
    assert not CommentRevision.objects.exists()


def test_only_the_author_edits_a_comment(shop):
    marie, ada = subject(), staff("sales")
    comment = post(ada, marie, "Mine")
    other = client_for(shop, staff("manager"))
    assert other.post(f"{BASE}/comments/{comment.pk}/edit/", {"body": "Theirs"}).status_code == 403
    assert other.get(f"{BASE}/comments/{comment.pk}/edit/").status_code == 403
    comment.refresh_from_db()
    assert comment.body == "Mine" and not comment.revisions.exists()


def test_edit_page_without_javascript(shop):
    marie, ada = subject(), staff("sales")
    comment = post(ada, marie, "Draft <b>note</b>")
    page = client_for(shop, ada).get(f"{BASE}/comments/{comment.pk}/edit/")
    assert page.status_code == 200
    assert "Draft &lt;b&gt;note&lt;/b&gt;</textarea>" in page.content.decode()


def test_deleting_leaves_a_tombstone_and_the_replies(shop):
    marie, ada, bob = subject(), staff("sales"), staff("sales", "bob@staff.test")
    root = post(ada, marie, "Secret price: 12 000 €")
    comment_edit(by=ada, comment_id=root.pk, body="Secret price: 11 000 € @bob")
    post(bob, marie, "Noted", parent_id=root.pk)

    response = client_for(shop, ada).post(f"{BASE}/comments/{root.pk}/delete/", **HTMX)

    assert response.status_code == 200
    html = panel_html(marie, bob)
    assert "This comment was deleted." in html and "Noted" in html
    assert "Secret price" not in html
    root.refresh_from_db()
    assert (root.body, root.deleted_by) == ("", ada)
    assert not root.revisions.exists() and not root.mentions.exists()
    assert Event.objects.filter(verb="commented", data__comment=root.pk).get().message == ""
    # Only the comments that are not deleted are counted.
    assert 'Comments <span class="count">1</span>' in html


@pytest.mark.parametrize(("role", "allowed"), [("manager", True), ("sales", False),
                                               ("owner", True)])
def test_managers_delete_anyones_comment_others_only_their_own(shop, role, allowed):
    marie = subject()
    comment = post(staff("sales"), marie, "Hello")
    client = client_for(shop, staff(role))
    response = client.post(f"{BASE}/comments/{comment.pk}/delete/")
    assert response.status_code == (302 if allowed else 403)
    comment.refresh_from_db()
    assert (comment.deleted_at is not None) is allowed


def test_deleting_twice_says_so(shop):
    marie, ada = subject(), staff("sales")
    comment = post(ada, marie, "Hello")
    client = client_for(shop, ada)
    client.post(f"{BASE}/comments/{comment.pk}/delete/")
    response = client.post(f"{BASE}/comments/{comment.pk}/delete/", follow=True)
    assert "This comment was already deleted." in response.content.decode()


def test_text_is_escaped_with_line_breaks_and_mentions_highlighted():
    marie, ada = subject(), staff("sales")
    staff("sales", "carla@staff.test")
    post(ada, marie, '<script>alert("x")</script>\nAsk @carla, not @nobody.')
    html = panel_html(marie, ada)
    assert "<script>alert" not in html
    assert ('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;<br>Ask '
            '<span class="mention">@carla</span>, not @nobody.') in html


def test_roles_that_cannot_see_the_object_cannot_comment_or_follow(shop):
    quote = quote_create(customer=subject(), by=staff("sales"))
    clerk = client_for(shop, staff("warehouse"))  # warehouse staff do not see quotes
    assert clerk.post(comments_url(quote), {"body": "Hi"}).status_code == 403
    ct, pk = url_of(quote)
    assert clerk.post(f"{BASE}/{ct}/{pk}/follow/", {"level": "all"}).status_code == 403
    assert not Comment.objects.exists()
    seller = client_for(shop, staff("sales"))
    assert seller.post(comments_url(quote), {"body": "Hi"}).status_code == 302


def test_customers_and_strangers_cannot_comment(shop):
    marie = subject()
    customer = client_for(shop, registered("paul@example.test").user)
    assert customer.post(comments_url(marie), {"body": "Hi"}).status_code == 403
    anonymous = client_for(shop, staff("sales"))
    anonymous.logout()
    assert anonymous.post(comments_url(marie), {"body": "Hi"}).status_code == 302  # sign in
    assert not Comment.objects.exists()


def test_unknown_objects_and_kinds_are_not_found(shop):
    client = client_for(shop, staff("sales"))
    marie = subject()
    ct, pk = url_of(marie)
    assert client.post(f"{BASE}/{ct}/{pk + 1000}/comments/", {"body": "Hi"}).status_code == 404
    untracked = url_of(staff("sales"))[0]  # users are not followed or commented on
    assert client.post(f"{BASE}/{untracked}/{pk}/comments/", {"body": "Hi"}).status_code == 404
    assert client.post(f"{BASE}/comments/999999/edit/", {"body": "x"}).status_code == 404
    assert not Comment.objects.exists()


def test_the_comments_block_costs_the_same_for_3_and_60_comments(django_assert_max_num_queries):
    marie, ada = subject(), staff("sales")
    staff("sales", "carla@staff.test")

    def thread(n: int) -> None:
        for i in range(n):
            root = post(ada, marie, f"Note {i} @carla")
            post(ada, marie, f"Reply {i}", parent_id=root.pk)
            comment_edit(by=ada, comment_id=root.pk, body=f"Note {i} edited @carla")

    thread(1)
    panel_html(marie, ada)  # caches: content types, permissions
    with CaptureQueriesContext(connection) as small:
        panel_html(marie, ada)
    thread(29)
    with django_assert_max_num_queries(len(small.captured_queries)):
        html = panel_html(marie, ada)
    assert html.count('class="comment"') == 60

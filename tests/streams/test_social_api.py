"""API of follows, notifications and comments: each staff member's own rows, objects named by
kind, the same refusals as the pages (nothing changes), documented in the schema."""

from __future__ import annotations

import pytest
from django.test import Client

from sales.services.quotes import quote_create
from streams.models import Comment, Follow, Notification
from tenants.accounts.services import api_token_create
from tests.conftest import host_of, in_schema
from tests.streams.social_support import follow, staff, subject, url_of
from tests.streams.test_social_inbox import notifications

pytestmark = pytest.mark.django_db

FOLLOWS, NOTIFICATIONS, COMMENTS = "/api/v1/follows/", "/api/v1/notifications/", "/api/v1/comments/"


def api_for(shop, user) -> Client:
    with in_schema(shop):
        _token, key = api_token_create(user=user, name="tests")
    return Client(HTTP_HOST=host_of(shop), HTTP_AUTHORIZATION=f"Token {key}")


@pytest.fixture
def ada(shop):
    with in_schema(shop):
        return staff("sales", "ada@staff.test")


@pytest.fixture
def marie(shop):
    with in_schema(shop):
        return subject("Curie")


def test_follow_change_level_list_and_unfollow(shop, ada, marie):
    api = api_for(shop, ada)
    created = api.post(FOLLOWS, {"subject_type": "sales.customer", "subject_id": marie.pk},
                       content_type="application/json")
    assert created.status_code == 201
    body = created.json()
    assert (body["subject_type"], body["subject_id"], body["level"]) == (
        "sales.customer", marie.pk, "all")
    again = api.post(FOLLOWS, {"subject_type": "sales.customer", "subject_id": marie.pk,
                               "level": "important"}, content_type="application/json")
    assert again.status_code == 200 and again.json()["id"] == body["id"]
    muted = api.patch(f"{FOLLOWS}{body['id']}/", {"level": "mute"},
                      content_type="application/json")
    assert muted.json()["level"] == "mute"
    listed = api.get(FOLLOWS, {"subject_type": "sales.customer", "subject_id": marie.pk}).json()
    assert [row["id"] for row in listed["results"]] == [body["id"]]
    assert api.delete(f"{FOLLOWS}{body['id']}/").status_code == 204
    with in_schema(shop):
        assert not Follow.objects.exists()


@pytest.mark.parametrize(("data", "code", "key"), [
    ({"subject_type": "sales.nothing", "subject_id": 1}, 400, "subject_type"),
    ({"subject_type": "sales.customer", "subject_id": 1, "level": "loud"}, 400, "level"),
    ({"subject_type": "sales.customer", "subject_id": 999999}, 404, "detail"),
])
def test_follow_refusals_change_nothing(shop, ada, data, code, key):
    response = api_for(shop, ada).post(FOLLOWS, data, content_type="application/json")
    assert response.status_code == code
    body = response.json()
    assert key in (body["errors"] if code == 400 else body)
    with in_schema(shop):
        assert not Follow.objects.exists()


def test_someone_elses_follow_is_not_found(shop, ada, marie):
    with in_schema(shop):
        theirs = follow(staff("sales"), marie)
    api = api_for(shop, ada)
    assert api.patch(f"{FOLLOWS}{theirs.pk}/", {"level": "mute"},
                     content_type="application/json").status_code == 404
    assert api.delete(f"{FOLLOWS}{theirs.pk}/").status_code == 404
    assert api.get(FOLLOWS).json()["count"] == 0


def test_a_role_that_cannot_see_quotes_cannot_follow_or_comment_on_one(shop):
    with in_schema(shop):
        quote = quote_create(customer=subject(), by=staff("sales"))
        clerk = staff("warehouse")
    api = api_for(shop, clerk)
    data = {"subject_type": "sales.quote", "subject_id": quote.pk}
    assert api.post(FOLLOWS, data, content_type="application/json").status_code == 403
    assert api.post(COMMENTS, {**data, "body": "Hi"},
                    content_type="application/json").status_code == 403
    assert api.get(COMMENTS, data).status_code == 403


def test_notifications_list_count_read_and_read_all(shop, ada, marie):
    with in_schema(shop):
        first, second, third = notifications(ada, marie, 3)
        notifications(staff("sales"), marie, 2)  # someone else's
    api = api_for(shop, ada)
    listed = api.get(NOTIFICATIONS).json()
    assert [row["id"] for row in listed["results"]] == [third.pk, second.pk, first.pk]
    row = listed["results"][0]
    assert (row["subject_type"], row["subject_id"], row["subject"], row["what"]) == (
        "sales.customer", marie.pk, "Customer Curie", "Details changed")
    assert api.get(f"{NOTIFICATIONS}unread-count/").json() == {"unread": 3}

    read = api.post(f"{NOTIFICATIONS}{second.pk}/read/")
    assert read.status_code == 200 and read.json()["unread"] is False
    assert [r["id"] for r in api.get(NOTIFICATIONS, {"unread": "true"}).json()["results"]] == [
        third.pk, first.pk]
    assert api.post(f"{NOTIFICATIONS}read-all/", {"up_to": first.pk},
                    content_type="application/json").json() == {"marked": 1}
    assert api.post(f"{NOTIFICATIONS}read-all/").json() == {"marked": 1}
    assert api.get(f"{NOTIFICATIONS}unread-count/").json() == {"unread": 0}
    with in_schema(shop):
        theirs = Notification.objects.exclude(recipient=ada).first()
        assert Notification.objects.exclude(recipient=ada).filter(read_at__isnull=True).count() == 2
    assert api.post(f"{NOTIFICATIONS}{theirs.pk}/read/").status_code == 404


def test_comments_post_reply_edit_delete(shop, ada, marie):
    with in_schema(shop):
        staff("manager", "carla@staff.test")
    api = api_for(shop, ada)
    subject_data = {"subject_type": "sales.customer", "subject_id": marie.pk}
    created = api.post(COMMENTS, {**subject_data, "body": "Ask @carla"},
                       content_type="application/json")
    assert created.status_code == 201
    root = created.json()
    assert (root["body"], root["author_name"], root["deleted"]) == ("Ask @carla",
                                                                   "ada@staff.test", False)
    assert len(root["mentions"]) == 1
    reply = api.post(COMMENTS, {**subject_data, "body": "Done", "parent": root["id"]},
                     content_type="application/json").json()
    assert reply["parent"] == root["id"]

    edited = api.patch(f"{COMMENTS}{root['id']}/", {"body": "Ask Carla"},
                       content_type="application/json").json()
    assert edited["body"] == "Ask Carla" and edited["revisions"][0]["body"] == "Ask @carla"
    assert edited["mentions"] == []

    assert api.delete(f"{COMMENTS}{root['id']}/").status_code == 204
    listed = api.get(COMMENTS, subject_data).json()["results"]
    assert [(c["id"], c["deleted"], c["body"]) for c in listed] == [
        (root["id"], True, ""), (reply["id"], False, "Done")]
    assert listed[0]["revisions"] == []


def test_comment_refusals_are_errors_by_field_and_change_nothing(shop, ada, marie):
    with in_schema(shop):
        theirs = Comment.objects.create(subject_type_id=url_of(marie)[0], subject_id=marie.pk,
                                        author=staff("sales"), body="Theirs")
    api = api_for(shop, ada)
    subject_data = {"subject_type": "sales.customer", "subject_id": marie.pk}
    empty = api.post(COMMENTS, {**subject_data, "body": "  "}, content_type="application/json")
    assert empty.status_code == 400
    assert empty.json() == {"errors": {"body": ["Write something before posting."]}}
    too_long = api.post(COMMENTS, {**subject_data, "body": "x" * 5001},
                        content_type="application/json")
    assert "at most 5,000 characters" in too_long.json()["errors"]["body"][0]
    assert api.get(COMMENTS, {"subject_type": "sales.customer"}).status_code == 400
    edit = api.patch(f"{COMMENTS}{theirs.pk}/", {"body": "Mine now"},
                     content_type="application/json")
    assert edit.status_code == 403 and edit.json() == {"detail": "Only its author can edit a "
                                                                 "comment."}
    assert api.delete(f"{COMMENTS}{theirs.pk}/").status_code == 403
    with in_schema(shop):
        assert list(Comment.objects.values_list("body", flat=True)) == ["Theirs"]


def test_anonymous_requests_are_refused(shop_client):
    for url in (FOLLOWS, NOTIFICATIONS, COMMENTS):
        assert shop_client.get(url).status_code == 401


def test_schema_documents_the_social_endpoints(shop_client):
    schema = shop_client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    paths = schema["paths"]
    assert {"get", "post"} <= set(paths[FOLLOWS]) and {"patch", "delete"} <= set(
        paths[f"{FOLLOWS}{{id}}/"])
    assert "get" in paths[f"{NOTIFICATIONS}unread-count/"]
    assert "post" in paths[f"{NOTIFICATIONS}{{id}}/read/"]
    assert "post" in paths[f"{NOTIFICATIONS}read-all/"]
    assert {"get", "post"} <= set(paths[COMMENTS])
    assert {"patch", "delete"} <= set(paths[f"{COMMENTS}{{id}}/"])
    assert {"400", "403", "404"} <= set(paths[COMMENTS]["post"]["responses"])
    assert "FollowLevelEnum" in schema["components"]["schemas"]

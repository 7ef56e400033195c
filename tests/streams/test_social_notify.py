"""Who hears about what: followers at their level, mentioned staff once each, never the one
who acted, never customers, inactive staff or another shop's staff."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django_tenants.utils import schema_context

from streams.events import record
from streams.models import (
    Comment,
    Event,
    Follow,
    FollowLevel,
    Importance,
    Notification,
    NotificationReason,
)
from streams.services.social import comment_create
from tenants.accounts.models import User
from tests.conftest import PASSWORD
from tests.sales.factories import registered
from tests.streams.social_support import follow, in_shop, staff, subject, url_of

pytestmark = pytest.mark.usefixtures("in_shop")
__all__ = ["in_shop"]


def inbox(user) -> dict[int, str]:
    """event id -> reason, for one user."""
    return dict(Notification.objects.filter(recipient=user).values_list("event_id", "reason"))


def post(by, obj, body: str, **extra) -> Comment:
    ct, pk = url_of(obj)
    return comment_create(by=by, subject_type_id=ct, subject_id=pk, body=body, **extra)


def test_followers_hear_at_their_level_never_the_actor_nor_the_muted():
    marie = subject()
    actor, everything, important, muted, stranger = (staff("sales") for _ in range(5))
    follow(actor, marie)
    follow(everything, marie)
    follow(important, marie, FollowLevel.IMPORTANT)
    follow(muted, marie, FollowLevel.MUTE)

    normal = record(subject=marie, verb="updated", actor=actor)
    urgent = record(subject=marie, verb="blocked", actor=None, importance=Importance.HIGH)

    assert inbox(everything) == {normal.pk: "follow", urgent.pk: "follow"}
    assert inbox(important) == {urgent.pk: "follow"}
    assert inbox(actor) == {urgent.pk: "follow"}  # only what someone else did
    assert inbox(muted) == {} and inbox(stranger) == {}


def test_customers_and_inactive_staff_never_get_notifications():
    marie = subject()
    customer_user = registered("paul@example.test").user
    gone = staff("sales")
    gone.is_active = False
    gone.save()
    follow(customer_user, marie)
    follow(gone, marie)
    record(subject=marie, verb="updated", importance=Importance.HIGH)
    assert not Notification.objects.filter(recipient__in=[customer_user, gone]).exists()


def test_a_comment_reaches_followers_and_mentioned_staff_once_each_with_the_reason():
    marie = subject()
    author = staff("sales", "ada.lovelace@staff.test")
    follower = staff("sales", "bob@staff.test")
    mentioned_follower = staff("manager", "carla.dupont@staff.test")
    mentioned_muted = staff("sales", "dan@staff.test")
    mentioned_stranger = staff("warehouse", "eve@staff.test")
    follow(follower, marie)
    follow(mentioned_follower, marie)
    follow(mentioned_muted, marie, FollowLevel.MUTE)

    comment = post(author, marie, "@carla.dupont @dan and @eve@staff.test: can you call her? "
                                  "Thanks @ada.lovelace.")

    event = Event.objects.get(verb="commented")
    assert (event.actor, event.subject_id, event.data["comment"]) == (author, marie.pk,
                                                                       comment.pk)
    assert inbox(follower) == {event.pk: NotificationReason.FOLLOW}
    for user in (mentioned_follower, mentioned_muted, mentioned_stranger):
        assert inbox(user) == {event.pk: NotificationReason.MENTION}, user.email
    assert inbox(author) == {}  # mentioning oneself notifies nobody
    assert set(comment.mentions.values_list("email", flat=True)) == {
        "carla.dupont@staff.test", "dan@staff.test", "eve@staff.test", "ada.lovelace@staff.test"}
    # The author follows what they commented on (at the level they had chosen, if any).
    assert Follow.objects.get(user=author).level == FollowLevel.ALL


def test_important_only_followers_do_not_hear_of_comments_unless_mentioned():
    marie = subject()
    important = staff("sales", "frank@staff.test")
    follow(important, marie, FollowLevel.IMPORTANT)
    post(staff("sales"), marie, "Routine note.")
    assert inbox(important) == {}
    post(staff("sales"), marie, "@frank have a look")
    assert list(inbox(important).values()) == [NotificationReason.MENTION]


def test_mentions_of_unknown_people_customers_inactive_or_ambiguous_names_do_nothing():
    marie = subject()
    registered("gina@example.test")  # a customer: never mentioned
    gone = staff("sales", "hugo@staff.test")
    gone.is_active = False
    gone.save()
    staff("sales", "ines@staff.test")
    staff("sales", "ines@other.test")  # two "ines": the short name says nobody

    comment = post(staff("sales"), marie,
                   "@nobody @gina @gina@example.test @hugo @ines and mail a@b.test")

    assert comment.mentions.count() == 0
    assert Notification.objects.count() == 0
    # The full email says which one.
    post(staff("sales"), marie, "@ines@other.test ok?")
    mention = Notification.objects.get(reason=NotificationReason.MENTION)
    assert mention.recipient.email == "ines@other.test"


def test_staff_of_another_shop_never_hear_even_with_the_same_email(shop, other_shop):
    marie = subject()
    ct, pk = url_of(marie)
    with schema_context(other_shop.schema_name):
        twin = User.objects.create_user("twin@staff.test", PASSWORD, is_staff=True)
        twin.groups.add(Group.objects.get(name="sales"))
        only_there = User.objects.create_user("elsewhere@staff.test", PASSWORD, is_staff=True)
        # A follow of "the same" kind and id in the other shop is about another object.
        Follow.objects.create(user=twin, subject_type_id=ct, subject_id=pk)
    here = staff("sales", "twin@staff.test")
    author = staff("sales")

    post(author, marie, "@twin and @elsewhere, see this")
    record(subject=marie, verb="blocked", importance=Importance.HIGH)

    assert set(Notification.objects.values_list("recipient", flat=True)) == {here.pk, author.pk}
    with schema_context(other_shop.schema_name):
        assert not Notification.objects.filter(recipient__in=[twin, only_there]).exists()
        assert not Event.objects.filter(subject_id=pk, verb="commented").exists()

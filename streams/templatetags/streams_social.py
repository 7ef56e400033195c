"""Tags of the social parts of the streams panel and of the top bar: the inbox badge's unread
count, the user's follow of a subject, a subject's comments. Each is one selector call with a
fixed number of queries."""

from __future__ import annotations

from django import template

from streams.models import FollowLevel
from streams.selectors_social import (
    UNREAD_BADGE_LIMIT,
    comment_html,
    comment_thread,
    follow_get,
    unread_count,
)
from streams.services.social import COMMENT_MAX_LENGTH, comment_may_delete

register = template.Library()


@register.simple_tag(takes_context=True)
def inbox_unread(context) -> int:
    """The user's unread notifications, counted up to the badge's limit (staff only: nothing
    is counted for anyone else)."""
    request = context.get("request")
    user = getattr(request, "user", None) or context.get("user")
    return unread_count(user=user, limit=UNREAD_BADGE_LIMIT)


@register.simple_tag
def inbox_limit() -> int:
    return UNREAD_BADGE_LIMIT


@register.simple_tag(takes_context=True)
def follow_state(context, subject_type_id: int, subject_id: int):
    if "follow" in context:  # the follow view passes the row it just wrote
        return context["follow"]
    return follow_get(user=context.get("user"), subject_type_id=subject_type_id,
                      subject_id=subject_id)


@register.simple_tag
def follow_levels() -> list[tuple[str, str]]:
    return [(value, str(label)) for value, label in FollowLevel.choices]


@register.simple_tag
def comments_of(subject_type_id: int, subject_id: int):
    return comment_thread(subject_type_id=subject_type_id, subject_id=subject_id)


@register.simple_tag
def comment_max_length() -> int:
    return COMMENT_MAX_LENGTH


@register.filter
def comment_body(comment):
    return comment_html(comment)


@register.filter
def may_delete(comment, user) -> bool:
    return bool(user and user.is_authenticated) and comment_may_delete(comment, user)

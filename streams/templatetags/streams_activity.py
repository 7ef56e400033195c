"""`{% activity_timeline subject_type_id subject_id user as timeline %}`: the first page of an
object's timeline, for templates/streams/_timeline.html (inside `{% streams_panel object %}`).
Empty for a user whose role may not view that kind of object."""

from django import template
from django.urls import reverse

from streams.selectors import may_view_type, timeline_page

register = template.Library()


@register.simple_tag
def activity_timeline(subject_type_id: int, subject_id: int, user) -> dict:
    if not may_view_type(user, subject_type_id):
        return {"hidden": True, "rows": [], "next_url": ""}
    page = timeline_page(subject_type_id=subject_type_id, subject_id=subject_id)
    return {
        "hidden": False,
        "rows": page.rows,
        "next_url": (reverse("streams:timeline", args=[subject_type_id, subject_id])
                     + "?page=2") if page.has_more else "",
    }

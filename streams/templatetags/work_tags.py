"""`{% tasks_section object %}`: the tasks of a project's (an order's, any tracked object's)
page, with add, status and assign forms, without the domain view knowing tasks exist."""

from django import template

from streams.subjects import content_type_id
from streams.views.work import tasks_section_context

register = template.Library()


@register.inclusion_tag("streams/work/_tasks_section.html", takes_context=True)
def tasks_section(context, subject):
    request = context["request"]
    section = tasks_section_context(request, subject_type_id=content_type_id(subject),
                                    subject_id=subject.pk, next_url=request.get_full_path())
    # The page's own messages are shown by its base template, not again by the section.
    return {**section, "csrf_token": context.get("csrf_token"), "perms": context.get("perms"),
            "oob_messages": False}

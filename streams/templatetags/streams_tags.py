"""`{% streams_panel object %}`: the follow button, comments and timeline of any object's page."""

from django import template

from streams.subjects import content_type_id

register = template.Library()


@register.inclusion_tag("streams/_panel.html", takes_context=True)
def streams_panel(context, subject):
    return {"request": context.get("request"), "subject": subject,
            "subject_type_id": content_type_id(subject), "subject_id": subject.pk,
            "user": context.get("user")}

"""`{% milestones_section object %}`: the milestones of a programme's or an order's page (the
schedule, its SVG timeline, totals, transitions, an add form), without the domain view
knowing milestones exist."""

from django import template

from streams.views.milestones import milestones_section_context

register = template.Library()


@register.inclusion_tag("streams/milestones/_section.html", takes_context=True)
def milestones_section(context, subject):
    request = context["request"]
    if not request.user.has_perm("streams.view_milestone"):
        return {"hidden": True}
    section = milestones_section_context(request, subject=subject,
                                         next_url=request.get_full_path())
    # The page's own messages are shown by its base template, not again by the section.
    return {**section, "csrf_token": context.get("csrf_token"), "perms": context.get("perms")}

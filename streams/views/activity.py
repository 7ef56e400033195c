"""Dashboard views: activity (see streams/urls_dashboard.py).

- The shop-wide feed (/dashboard/activity/): filters by who, what kind of object, importance
  and period; the table is one partial that HTMX swaps when a filter changes.
- An object's timeline, page by page (/dashboard/activity/<type>/<id>/timeline/?page=2): the
  "Load older" button of the timeline on every object's page appends the next page; without
  JavaScript it opens as a page of its own.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from streams.forms_activity import FeedFilterForm, staff_choices
from streams.selectors import (
    event_row,
    feed_events,
    subject_exists,
    timeline_page,
    view_permission,
    viewable_kinds,
)
from streams.subjects import tracking_for_type
from tenants.accounts.views import staff_required
from tenants.pagination import paginate

FEED_TEMPLATE = "streams/activity/feed.html"
TIMELINE_TEMPLATE = "streams/activity/timeline.html"


@require_GET
@staff_required()
def feed(request: HttpRequest) -> HttpResponse:
    kinds = viewable_kinds(request.user)
    form = FeedFilterForm(request.GET or None, kinds=kinds, staff=staff_choices())
    filters = form.filters()
    values = form.values() if form.is_bound else {}
    page = paginate(feed_events(user=request.user, filters=filters), page=values.get("page"),
                    query=request.GET)
    context = {
        "form": form, "page": page, "kinds": kinds,
        "rows": [event_row(event, with_subject=True) for event in page.items],
        "filtered": any(values.get(k) for k in ("who", "kind", "importance", "date_from",
                                                "date_to")),
    }
    template = FEED_TEMPLATE
    if request.htmx and request.htmx.target == "activity-feed":
        template += "#activity-feed"
    return render(request, template, context)


@require_GET
@staff_required()
def timeline(request: HttpRequest, ct: int, pk: int) -> HttpResponse:
    """One page of an object's timeline. Staff need the right to view that kind of object;
    an object that is not in this shop is simply not found."""
    tracking = tracking_for_type(ct)
    if tracking is None:
        raise Http404(_("No such object."))
    if not request.user.has_perm(view_permission(tracking)):
        raise PermissionDenied(_("Your role does not allow viewing this history."))
    if not subject_exists(tracking, pk):
        raise Http404(_("No such object."))
    try:
        number = max(int(request.GET.get("page") or 1), 1)
    except ValueError:
        number = 1  # a mangled link opens the newest page rather than an error
    page = timeline_page(subject_type_id=ct, subject_id=pk, page=number)
    base = reverse("streams:timeline", args=[ct, pk])
    context = {
        "rows": page.rows, "page": page,
        "next_url": f"{base}?page={page.number + 1}" if page.has_more else "",
        "newer_url": f"{base}?page={page.number - 1}" if page.number > 1 else "",
        "first_page": page.number == 1,
    }
    if request.htmx:
        return render(request, "streams/activity/_timeline_rows.html", context)
    subject = tracking.model._base_manager.filter(pk=pk).first()
    context.update({
        "subject_label": tracking.label(subject) if subject is not None else "",
        "subject_url": tracking.url(pk) if tracking.url else "",
        "kind": tracking.name,
    })
    return render(request, TIMELINE_TEMPLATE, context)


urlpatterns: list = [
    path("", feed, name="feed"),
    path("<int:ct>/<int:pk>/timeline/", timeline, name="timeline"),
]

"""Dashboard views of the social side of streams (mounted under /dashboard/activity/): the
follow button and the comments of any object's page (`{% streams_panel %}`), the inbox and
its badge in the top bar.

Every form posts normally and answers with a redirect back to the page it came from (its
`next`); with HTMX the same views answer the re-rendered partial instead. A refused comment
without JavaScript gets a small page with the form and what was typed, never lost input.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseStopPolling, trigger_client_event

from streams.errors import SocialError, SocialForbidden, SocialNotFound
from streams.models import FollowLevel
from streams.selectors_social import (
    comment_get,
    notification_row,
    notifications_for,
    subject_tracking,
)
from streams.services.social import (
    comment_create,
    comment_delete,
    comment_edit,
    digest_subscribe,
    digest_subscribed,
    follow_remove,
    follow_set,
    notification_mark_read,
    notifications_mark_all_read,
)
from streams.subjects import subject_url
from tenants.accounts.views import staff_required
from tenants.pagination import paginate

FOLLOWED = {
    FollowLevel.ALL: gettext_lazy("You follow it: you will hear about everything."),
    FollowLevel.IMPORTANT: gettext_lazy("You follow it: you will hear about important "
                                        "changes only."),
    FollowLevel.MUTE: gettext_lazy("Muted: you will hear about it only when mentioned."),
}
SHOW_CHOICES = [("", gettext_lazy("All")), ("unread", gettext_lazy("Unread"))]


def _refused(exc: SocialError) -> None:
    """Someone else's notification, an unknown kind of subject: the same 404 as a page that
    does not exist; a role that may not see the subject: 403. Other refusals are shown."""
    if isinstance(exc, SocialNotFound):
        raise Http404(exc.message)
    if isinstance(exc, SocialForbidden):
        raise PermissionDenied(exc.message)


def _back(request: HttpRequest, subject_type_id: int, subject_id: int) -> str:
    """Where a form sends the user back: its `next` if it is on this host, else the subject's
    page (or the inbox for a subject without one)."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(candidate, {request.get_host()},
                                                     require_https=request.is_secure()):
        return candidate
    return subject_url(subject_type_id, subject_id) or reverse("streams:inbox")


def _next_value(request: HttpRequest) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    return candidate if url_has_allowed_host_and_scheme(
        candidate, {request.get_host()}, require_https=request.is_secure()) else ""


def _partial(request: HttpRequest, template: str, context: dict, status: int = 200
             ) -> HttpResponse:
    """An HTMX answer: the partial, then the queued messages for the page's live region."""
    html = render_to_string(template, context, request=request)
    html += render_to_string("components/_oob_messages.html", {}, request=request)
    return HttpResponse(html, status=status)


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


# ---------------------------------------------------------------------------------------------
# Follow
# ---------------------------------------------------------------------------------------------
@require_POST
@staff_required()
def follow(request: HttpRequest, ct: int, pk: int) -> HttpResponse:
    """Follow at a level, change the level, or stop following (`unfollow`)."""
    context = {"subject_type_id": ct, "subject_id": pk, "user": request.user,
               "next_url": _next_value(request)}
    try:
        if request.POST.get("unfollow"):
            subject_tracking(user=request.user, subject_type_id=ct)
            follow_remove(user=request.user, subject_type_id=ct, subject_id=pk)
            row, message = None, _("You no longer follow it.")
        else:
            row = follow_set(user=request.user, subject_type_id=ct, subject_id=pk,
                             level=request.POST.get("level", ""))
            message = str(FOLLOWED[row.level])
    except SocialError as exc:
        _refused(exc)
        if request.htmx:
            return _partial(request, "streams/_follow_button.html",
                            {**context, "follow_error": exc.message}, status=422)
        messages.error(request, exc.message)
        return redirect(_back(request, ct, pk))
    messages.success(request, message)
    if request.htmx:
        return _partial(request, "streams/_follow_button.html", {**context, "follow": row})
    return redirect(_back(request, ct, pk))


# ---------------------------------------------------------------------------------------------
# Comments
# ---------------------------------------------------------------------------------------------
def _comments_answer(request: HttpRequest, ct: int, pk: int, *, error: dict | None = None,
                     anchor: str = "") -> HttpResponse:
    """After a comment action: the comments block (HTMX), or back to the page."""
    if request.htmx:
        context = {"subject_type_id": ct, "subject_id": pk, "user": request.user,
                   "next_url": _next_value(request), "comment_error": error}
        response = _partial(request, "streams/_comments.html", context,
                            status=422 if error else 200)
        if not error:
            # Commenting made the author a follower: the follow box beside says so.
            response.content += render_to_string("streams/_follow_button.html",
                                                  {**context, "oob": True}, request=request
                                                  ).encode()
            trigger_client_event(response, "streams:changed")  # the timeline has a new event
        return response
    if error:
        return render(request, "streams/social/comment_form.html",
                      {"error": error, "next_url": _next_value(request),
                       "subject_type_id": ct, "subject_id": pk}, status=422)
    return redirect(_back(request, ct, pk) + anchor)


@require_http_methods(["GET", "POST"])
@staff_required()
def comments(request: HttpRequest, ct: int, pk: int) -> HttpResponse:
    """GET: the comments block (HTMX) or the subject's page at its comments. POST: a new
    comment, or a reply (`parent`)."""
    if request.method == "GET":
        try:
            subject_tracking(user=request.user, subject_type_id=ct)
        except SocialError as exc:
            _refused(exc)
        if request.htmx:
            return _comments_answer(request, ct, pk)
        return redirect(_back(request, ct, pk) + f"#comments-{ct}-{pk}")
    body = request.POST.get("body", "")
    raw_parent = request.POST.get("parent")
    parent = _int_or_none(raw_parent)
    try:
        if raw_parent and parent is None:
            raise SocialError(_("The comment you reply to is not on this page any more."),
                              field="parent")
        comment = comment_create(by=request.user, subject_type_id=ct, subject_id=pk,
                                 body=body, parent_id=parent)
    except SocialError as exc:
        _refused(exc)
        # A reply to a comment that is gone has no reply form left: say it at the main one.
        where = "reply" if raw_parent and exc.field != "parent" else "new"
        return _comments_answer(request, ct, pk, error={
            "form": where, "message": exc.message, "body": body,
            "parent": parent if where == "reply" else None})
    messages.success(request, _("Comment posted."))
    return _comments_answer(request, ct, pk, anchor=f"#comment-{comment.pk}")


@require_http_methods(["GET", "POST"])
@staff_required()
def comment_edit_view(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: a page to edit one's comment (the block edits in place). POST: save the new
    text; the old one stays in the comment's history."""
    try:
        comment = comment_get(user=request.user, comment_id=pk)
    except SocialError as exc:
        _refused(exc)
        raise
    ct, subject_id = comment.subject_type_id, comment.subject_id
    if request.method == "GET":
        if comment.author_id != request.user.pk or comment.deleted_at is not None:
            raise PermissionDenied(_("Only its author can edit a comment."))
        return render(request, "streams/social/comment_form.html", {
            "error": {"form": "edit", "message": "", "body": comment.body, "comment": comment},
            "next_url": _next_value(request),
            "subject_type_id": ct, "subject_id": subject_id})
    body = request.POST.get("body", "")
    try:
        comment_edit(by=request.user, comment_id=pk, body=body)
    except SocialError as exc:
        _refused(exc)
        return _comments_answer(request, ct, subject_id, error={
            "form": "edit", "message": exc.message, "body": body, "comment": comment})
    messages.success(request, _("Comment saved."))
    return _comments_answer(request, ct, subject_id, anchor=f"#comment-{pk}")


@require_POST
@staff_required()
def comment_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        comment = comment_get(user=request.user, comment_id=pk)
    except SocialError as exc:
        _refused(exc)
        raise
    try:
        comment_delete(by=request.user, comment_id=pk)
    except SocialError as exc:
        _refused(exc)
        messages.error(request, exc.message)
        if request.htmx:
            return _comments_answer(request, comment.subject_type_id, comment.subject_id)
        return redirect(_back(request, comment.subject_type_id, comment.subject_id))
    messages.success(request, _("Comment deleted."))
    return _comments_answer(request, comment.subject_type_id, comment.subject_id,
                            anchor=f"#comment-{pk}")


# ---------------------------------------------------------------------------------------------
# Inbox
# ---------------------------------------------------------------------------------------------
def _inbox_context(request: HttpRequest, query: QueryDict) -> dict:
    show = "unread" if query.get("show") == "unread" else ""
    page = paginate(notifications_for(user=request.user, unread=bool(show)),
                    page=query.get("page"), query=query)
    base = reverse("streams:inbox")
    rows = [notification_row(n, lambda n: f"{base}{n.pk}/open/") for n in page.items]
    chips = [{"label": label, "current": value == show,
              "url": f"{base}?show={value}" if value else base}
             for value, label in SHOW_CHOICES]
    return {"page": page, "rows": rows, "show": show, "chips": chips,
            # "Mark all read" covers what the user has seen, not what arrives meanwhile.
            "newest_id": rows[0]["id"] if rows and page.number == 1 else None}


@require_GET
@staff_required()
def inbox(request: HttpRequest) -> HttpResponse:
    if request.htmx and request.htmx.target == "inbox-list":
        return render(request, "streams/social/inbox.html#inbox-list",
                      _inbox_context(request, request.GET))
    return render(request, "streams/social/inbox.html",
                  {**_inbox_context(request, request.GET),
                   "digest": digest_subscribed(user=request.user)})


@require_POST
@staff_required()
def inbox_digest(request: HttpRequest) -> HttpResponse:
    """Opt in or out of the daily email of unread notifications."""
    enabled = digest_subscribe(user=request.user, enabled=request.POST.get("digest") == "on")
    messages.success(request, _("You will get a daily email of your unread notifications.")
                     if enabled else _("No more digest emails."))
    return redirect("streams:inbox")


@require_POST
@staff_required()
def inbox_read_all(request: HttpRequest) -> HttpResponse:
    raw = request.POST.get("up_to")
    up_to = _int_or_none(raw)
    if raw and up_to is None:
        messages.error(request, _("Reload the inbox and try again: the list you saw is not "
                                  "known."))
        return redirect("streams:inbox")
    count = notifications_mark_all_read(user=request.user, up_to=up_to)
    messages.success(request, _("All caught up.") if count else _("Nothing was unread."))
    query = QueryDict(mutable=True)
    if request.POST.get("show") == "unread":
        query["show"] = "unread"
    if request.htmx:
        html = render_to_string("streams/social/inbox.html#inbox-list",
                                _inbox_context(request, query), request=request)
        html += render_to_string("streams/_inbox_badge.html", {"oob": True, "user":
                                                               request.user}, request=request)
        html += render_to_string("components/_oob_messages.html", {}, request=request)
        return HttpResponse(html)
    return redirect(reverse("streams:inbox") + (f"?{query.urlencode()}" if query else ""))


@require_GET
@staff_required()
def notification_open(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark the notification read and go to what it is about."""
    try:
        notification = notification_mark_read(user=request.user, notification_id=pk)
    except SocialError as exc:
        _refused(exc)
        raise
    event = notification.event
    url = subject_url(event.subject_type_id, event.subject_id)
    if not url:
        messages.info(request, _("%(subject)s has no page of its own.")
                      % {"subject": event.subject_label})
        return redirect("streams:inbox")
    return redirect(url)


@never_cache
@require_GET
def inbox_badge(request: HttpRequest) -> HttpResponse:
    """The badge's unread count, polled by the top bar. Anyone else (signed out meanwhile)
    stops the polling."""
    user = request.user
    if not (user.is_authenticated and user.is_active and user.is_staff):
        return HttpResponseStopPolling()
    return render(request, "streams/_inbox_badge.html")


urlpatterns: list = [
    path("inbox/", inbox, name="inbox"),
    path("inbox/badge/", inbox_badge, name="inbox_badge"),
    path("inbox/read-all/", inbox_read_all, name="inbox_read_all"),
    path("inbox/digest/", inbox_digest, name="inbox_digest"),
    path("inbox/<int:pk>/open/", notification_open, name="notification_open"),
    path("<int:ct>/<int:pk>/follow/", follow, name="follow"),
    path("<int:ct>/<int:pk>/comments/", comments, name="comments"),
    path("comments/<int:pk>/edit/", comment_edit_view, name="comment_edit"),
    path("comments/<int:pk>/delete/", comment_delete_view, name="comment_delete"),
]

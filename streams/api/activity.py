"""API: activity. `register(router)` adds this area's viewsets to the shop's API router.

`GET /api/v1/events/`: the shop's events, newest first, paginated, narrowed like the
dashboard's feed (who, what kind of object, importance, period); with `subject_type` and
`subject_id`, one object's timeline. Read-only; staff only (token or session), and only the
kinds of objects the user's role may view.
"""

from __future__ import annotations

from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import serializers, viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from streams.models import ActorKind, Event, Importance
from streams.selectors import (
    FeedFilters,
    event_row,
    feed_events,
    kind_key,
    subject_exists,
    view_permission,
    viewable_kinds,
)
from streams.subjects import tracked, tracking_for_type
from tenants.accounts.api_errors import DetailSerializer, ErrorsSerializer, api_exception_handler

IMPORTANCE_NAMES = {Importance.LOW: "low", Importance.NORMAL: "normal",
                    Importance.HIGH: "important"}
IMPORTANCE_VALUES = {name: value for value, name in IMPORTANCE_NAMES.items()}


def activity_exception_handler(exc, context):
    """The API's answer: a 400's field errors under `errors` as the other resources of this
    API answer (`{"errors": {"field": ["message"]}}`)."""
    return api_exception_handler(exc, context)


# --- query -----------------------------------------------------------------------------------

class EventQuerySerializer(serializers.Serializer):
    actor = serializers.IntegerField(required=False, min_value=1, help_text=gettext_lazy(
        "Only what this user did (a staff member's id)."))
    actor_kind = serializers.ChoiceField(
        required=False, choices=ActorKind.choices, help_text=gettext_lazy(
            "Only what staff did, what customers did, or what happened automatically."))
    subject_type = serializers.CharField(required=False, help_text=gettext_lazy(
        "Only events about this kind of object: `sales.order`, `sales.quote`, "
        "`sales.customer`, `billing.invoice`, `catalog.baseproduct`, `catalog.project`…"))
    subject_id = serializers.IntegerField(required=False, min_value=1, help_text=gettext_lazy(
        "With `subject_type`: one object's timeline."))
    importance = serializers.ChoiceField(
        required=False, choices=["normal", "important"], help_text=gettext_lazy(
            "At least this important (`important`: cancellations, payments, refunds, "
            "overdue invoices, acceptances…)."))
    date_from = serializers.DateField(required=False, help_text=gettext_lazy(
        "From this day (inclusive, in the shop's time zone)."))
    date_to = serializers.DateField(required=False, help_text=gettext_lazy(
        "Until this day (inclusive)."))
    page = serializers.IntegerField(required=False, min_value=1)

    def validate_subject_type(self, value: str) -> str:
        key = value.strip().lower()
        known = sorted(kind_key(t) for t in tracked())
        if key not in known:
            raise serializers.ValidationError(
                _("Unknown kind of object “%(kind)s”: use one of %(known)s.")
                % {"kind": value, "known": ", ".join(known)})
        return key

    def validate(self, attrs: dict) -> dict:
        if attrs.get("subject_id") and not attrs.get("subject_type"):
            raise serializers.ValidationError(
                {"subject_type": [_("Say what kind of object `subject_id` is "
                                    "(e.g. subject_type=sales.order).")]})
        start, end = attrs.get("date_from"), attrs.get("date_to")
        if start and end and end < start:
            raise serializers.ValidationError(
                {"date_to": [_("The end of the period is before its start.")]})
        return attrs


# --- output ----------------------------------------------------------------------------------

class EventSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    at = serializers.DateTimeField()
    verb = serializers.CharField(help_text=gettext_lazy(
        "What happened: a transition's name (`confirm`, `ship`, `issue`, `settle`…) or an "
        "event such as `created`, `placed`, `refund`, `stock_adjusted`."))
    verb_label = serializers.CharField(help_text=gettext_lazy("The same, in words."))
    subject_type = serializers.CharField(source="subject_kind",
                                         help_text=gettext_lazy("e.g. `sales.order`."))
    subject_id = serializers.IntegerField()
    subject_label = serializers.CharField(help_text=gettext_lazy(
        "The object's name when the event happened, e.g. “Order C-2026-00042”."))
    actor = serializers.IntegerField(source="actor_id", allow_null=True, help_text=gettext_lazy(
        "The user who acted (a staff member, or a signed-in customer), if any."))
    actor_kind = serializers.ChoiceField(choices=ActorKind.choices)
    actor_label = serializers.CharField(help_text=gettext_lazy(
        "Who, in words: a name, “The customer” or “Automatic”."))
    before = serializers.CharField(allow_blank=True, help_text=gettext_lazy(
        "The state left (transitions only)."))
    after = serializers.CharField(allow_blank=True, help_text=gettext_lazy(
        "The state reached (transitions only)."))
    detail = serializers.CharField(allow_blank=True, help_text=gettext_lazy(
        "A short detail line: a tracking number, an amount and method…"))
    message = serializers.CharField(allow_blank=True, help_text=gettext_lazy(
        "What the actor said: a cancellation reason, a customer's message…"))
    data = serializers.DictField()
    importance = serializers.SerializerMethodField()

    @extend_schema_field(serializers.ChoiceField(choices=list(IMPORTANCE_VALUES)))
    def get_importance(self, event: Event) -> str:
        return IMPORTANCE_NAMES.get(event.importance, "normal")

    def to_representation(self, event: Event) -> dict:
        # The words come from the subject's registration, as on the dashboard's rows.
        row = event_row(event)
        tracking = tracking_for_type(event.subject_type_id)
        event.verb_label, event.actor_label, event.detail = row["what"], row["who"], row["detail"]
        event.subject_kind = kind_key(tracking) if tracking else ""
        return super().to_representation(event)


EVENT_EXAMPLE = {
    "id": 812, "at": "2026-03-04T14:00:00Z", "verb": "ship", "verb_label": "Shipped",
    "subject_type": "sales.order", "subject_id": 42, "subject_label": "Order C-2026-00042",
    "actor": 3, "actor_kind": "staff", "actor_label": "Lucie Martin", "before": "processing",
    "after": "shipped", "detail": "Tracking: 6A12345678901", "message": "",
    "data": {"tracking": "6A12345678901"}, "importance": "normal"}




ERROR_400 = OpenApiResponse(ErrorsSerializer, description="A filter is not valid; its field "
                            "says why.", examples=[OpenApiExample(
                                "Bad period", value={"errors": {"date_to": [
                                    "The end of the period is before its start."]}})])
ERROR_403 = OpenApiResponse(DetailSerializer, description="The role may not view this kind "
                            "of object.")
ERROR_404 = OpenApiResponse(description="No such object (or event) in this shop.")


# --- resource --------------------------------------------------------------------------------

@extend_schema_view(
    list=extend_schema(
        summary="Activity: the shop's events, or one object's timeline",
        description="Newest first. Without filters: everything the user's role may view "
                    "(each kind of object needs its view permission, e.g. `sales.view_order`). "
                    "With `subject_type` and `subject_id`: that object's timeline (404 if it "
                    "is not in this shop, 403 if the role may not view it).",
        parameters=[EventQuerySerializer],
        responses={200: EventSerializer(many=True), 400: ERROR_400, 403: ERROR_403,
                   404: ERROR_404},
        examples=[OpenApiExample("Events", response_only=True, value={
            "count": 1, "next": None, "previous": None, "results": [EVENT_EXAMPLE]})]),
    retrieve=extend_schema(
        summary="One event",
        parameters=[OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH)],
        responses={200: EventSerializer, 404: ERROR_404},
        examples=[OpenApiExample("Event", response_only=True, value=EVENT_EXAMPLE)]),
)
@extend_schema(tags=["activity"])
class EventViewSet(viewsets.GenericViewSet):
    serializer_class = EventSerializer
    lookup_value_regex = r"\d+"

    def get_exception_handler(self):
        return activity_exception_handler

    def get_queryset(self):
        return feed_events(user=self.request.user)

    def list(self, request):
        query = EventQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        kind = params.get("subject_type")
        if kind:
            tracking = next(t for t in tracked() if kind_key(t) == kind)
            if not request.user.has_perm(view_permission(tracking)):
                raise PermissionDenied({"errors": {"subject_type": [
                    _("Your role does not allow viewing %(kind)s.")
                    % {"kind": str(tracking.name or kind).lower()}]}})
        events = feed_events(user=request.user, filters=FeedFilters(
            who=params.get("actor") or params.get("actor_kind"),
            kinds=(kind,) if kind else (),
            importance=IMPORTANCE_VALUES.get(params.get("importance", "")),
            date_from=params.get("date_from"), date_to=params.get("date_to")))
        if params.get("actor") and params.get("actor_kind"):
            events = events.filter(actor_kind=params["actor_kind"])
        if params.get("subject_id"):
            if not subject_exists(tracking, params["subject_id"]):
                raise Http404
            events = events.filter(subject_id=params["subject_id"])
        page = self.paginate_queryset(events)
        return self.get_paginated_response(EventSerializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        kinds = viewable_kinds(request.user)
        event = Event.objects.filter(pk=pk).first()
        tracking = tracking_for_type(event.subject_type_id) if event is not None else None
        if tracking is None or kind_key(tracking) not in kinds:
            raise Http404
        return Response(EventSerializer(event).data)


def register(router) -> None:
    router.register("events", EventViewSet, basename="event")

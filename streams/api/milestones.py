"""API: milestones of programmes and orders (`register(router)` adds them to /api/v1/).

- `milestones/`: list (`?subject_type=sales.order&subject_id=42`, `?status=`), create on a
  programme (`catalog.project`) or an order (`sales.order`), read, change some fields, delete
  (only a planned milestone nothing depends on);
- `milestones/{id}/dependencies/`: what it waits for (same subject, no cycle);
- `milestones/{id}/start/`, `complete/`, `delay/`, `cancel/`: its transitions. Completing a
  milestone of an order with a share (`bill_percent`) issues the instalment invoice, or is
  refused with billing's reason.

Subjects are named by kind and id: content type ids differ from one shop to the next. Staff
only (token or session), by role. Refusals, nothing changed: 400 `{"errors": {"field":
["message"]}}`; a transition the state does not allow 409, one the role does not allow 403,
both `{"errors": {"status": [...]}, "state": ..., "allowed": [...]}` with what this user may
run instead.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
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
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import set_rollback

from streams.errors import (
    MilestoneBillingRefused,
    MilestoneTransitionForbidden,
    MilestoneTransitionRefused,
    StreamsError,
)
from streams.models import Milestone, MilestoneStatus
from streams.selectors_milestones import (
    ACTION_ORDER,
    MILESTONE_SUBJECTS,
    may_view_subject,
    milestone_actions,
    milestone_get,
    milestones_filtered,
    subject_get,
    subject_model,
)
from streams.services.milestones import (
    milestone_create,
    milestone_delete,
    milestone_dependencies_set,
    milestone_transition,
    milestone_update,
)
from streams.subjects import content_type_id, label_for_type, subject_url
from tenants.accounts.api_auth import IsShopStaff
from tenants.accounts.api_errors import ErrorsSerializer, api_exception_handler

NON_FIELD = api_settings.NON_FIELD_ERRORS_KEY
VIEW, ADD = "streams.view_milestone", "streams.add_milestone"
CHANGE, DELETE = "streams.change_milestone", "streams.delete_milestone"


# --- errors and permissions --------------------------------------------------------------------

def _refusal(error: MilestoneTransitionRefused | MilestoneBillingRefused, *, state: str,
             allowed: list[str], forbidden: bool) -> Response:
    return Response({"errors": {"status": [error.message]}, "state": state,
                     "allowed": allowed},
                    status=status.HTTP_403_FORBIDDEN if forbidden else status.HTTP_409_CONFLICT)


def milestones_exception_handler(exc, context):
    """Streams refusals in the API's shapes; DRF's own 400s wrapped in `errors` too."""
    if isinstance(exc, MilestoneTransitionRefused):
        set_rollback()
        return _refusal(exc, state=exc.state, allowed=exc.allowed,
                        forbidden=isinstance(exc, MilestoneTransitionForbidden))
    if isinstance(exc, StreamsError):
        set_rollback()
        return Response({"errors": {exc.field or NON_FIELD: [exc.message]}},
                        status=status.HTTP_400_BAD_REQUEST)
    return api_exception_handler(exc, context)


class MilestonePermissions(permissions.BasePermission):
    """Reading needs the right to view milestones; each write its own right. Transitions
    only need to read: the service checks `streams.run_milestone` and answers 403 with what
    this user may do instead."""

    message = gettext_lazy("Your role does not allow this.")
    by_action = {"create": ADD, "partial_update": CHANGE, "destroy": DELETE,
                 "dependencies": CHANGE}

    def has_permission(self, request, view) -> bool:
        needed = [VIEW]
        extra = self.by_action.get(getattr(view, "action", None))
        if extra:
            needed.append(extra)
        return request.user.has_perms(needed)


# --- serializers -------------------------------------------------------------------------------

class MilestoneSubjectSerializer(serializers.Serializer):
    type = serializers.CharField(help_text=gettext_lazy(
        "Kind of object: `catalog.project` (a programme) or `sales.order`."))
    id = serializers.IntegerField()
    label = serializers.CharField(help_text=gettext_lazy("Its name when the milestone was made."))
    url = serializers.CharField(help_text=gettext_lazy("Its page in the dashboard."))


class MilestoneOwnerSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    name = serializers.CharField(source="get_full_name")


class MilestoneSerializer(serializers.ModelSerializer):
    subject = serializers.SerializerMethodField()
    owner = MilestoneOwnerSerializer(read_only=True, allow_null=True)
    depends_on = serializers.SerializerMethodField(help_text=gettext_lazy(
        "Ids of the milestones it waits for."))
    allowed_actions = serializers.SerializerMethodField(help_text=gettext_lazy(
        "The transitions this user may run now (`start`, `complete`, `delay`, `cancel`)."))
    billed_reference = serializers.CharField(read_only=True, help_text=gettext_lazy(
        "Number of the instalment invoice its completion issued."))

    class Meta:
        model = Milestone
        fields = ["id", "subject", "name", "description", "owner", "status", "position",
                  "planned_start", "planned_end", "actual_start", "actual_end", "progress",
                  "budget", "actual_cost", "bill_percent", "billed_at", "billed_reference",
                  "depends_on", "allowed_actions", "created_at"]
        read_only_fields = fields

    @extend_schema_field(MilestoneSubjectSerializer)
    def get_subject(self, milestone: Milestone) -> dict:
        return {"type": label_for_type(milestone.subject_type_id), "id": milestone.subject_id,
                "label": milestone.subject_label,
                "url": subject_url(milestone.subject_type_id, milestone.subject_id)}

    def get_depends_on(self, milestone: Milestone) -> list[int]:
        return [dep.pk for dep in milestone.depends_on.all()]

    def get_allowed_actions(self, milestone: Milestone) -> list[str]:
        return milestone_actions(milestone, self.context["request"].user)


class MilestoneWriteSerializer(serializers.Serializer):
    """Shapes only: the service checks the values (dates in order, shares within 100 %...)."""

    subject_type = serializers.ChoiceField(choices=MILESTONE_SUBJECTS, required=False,
                                           help_text=gettext_lazy(
                                               "On creation: `catalog.project` or `sales.order`."))
    subject_id = serializers.IntegerField(required=False, help_text=gettext_lazy(
        "On creation: the programme's or order's id."))
    name = serializers.CharField(required=False, allow_blank=True, max_length=150)
    description = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    owner = serializers.IntegerField(required=False, allow_null=True, help_text=gettext_lazy(
        "Id of an active staff member, or null."))
    planned_start = serializers.DateField(required=False, allow_null=True)
    planned_end = serializers.DateField(required=False, allow_null=True)
    actual_start = serializers.DateField(required=False, allow_null=True)
    actual_end = serializers.DateField(required=False, allow_null=True)
    progress = serializers.IntegerField(required=False, min_value=0, max_value=100)
    budget = serializers.DecimalField(required=False, max_digits=14, decimal_places=2,
                                      min_value=0)
    actual_cost = serializers.DecimalField(required=False, max_digits=14, decimal_places=2,
                                           min_value=0)
    bill_percent = serializers.DecimalField(
        required=False, allow_null=True, max_digits=5, decimal_places=2,
        help_text=gettext_lazy("An order's milestone: the share of the order its completion "
                               "bills. The order's schedule never exceeds 100 %."))
    position = serializers.IntegerField(required=False, min_value=0)

    def validate_owner(self, value):
        if value is None:
            return None
        user = get_user_model().objects.filter(pk=value, is_staff=True, is_active=True).first()
        if user is None:
            raise serializers.ValidationError(_("No active staff member has this id."))
        return user

    def service_data(self) -> dict:
        return {key: value for key, value in self.validated_data.items()
                if key not in ("subject_type", "subject_id")}


class DependenciesSerializer(serializers.Serializer):
    depends_on = serializers.ListField(child=serializers.IntegerField(), allow_empty=True,
                                       help_text=gettext_lazy(
                                           "Ids of milestones of the same programme or order; "
                                           "replaces the current list."))


class TransitionSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=1000,
                                   help_text=gettext_lazy("`cancel`: why (required)."))
    message = serializers.CharField(required=False, allow_blank=True, max_length=1000,
                                    help_text=gettext_lazy("`delay`: what holds it up."))


# One error shape across the API, one schema component (tenants.accounts.api_errors).
MilestoneErrorsSerializer = ErrorsSerializer


class MilestoneRefusedSerializer(serializers.Serializer):
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text=gettext_lazy("`status`: why the action cannot run."))
    state = serializers.ChoiceField(choices=MilestoneStatus.choices,
                                    help_text=gettext_lazy("The milestone's status now."))
    allowed = serializers.ListField(child=serializers.ChoiceField(choices=ACTION_ORDER),
                                    help_text=gettext_lazy(
                                        "The transitions this user may run on it now."))


ERROR_400 = OpenApiResponse(MilestoneErrorsSerializer,
                            description="Refused: see `errors`; nothing changed.")
ERROR_404 = OpenApiResponse(description="No such milestone in this shop (or its programme or "
                                        "order is not visible to this role).")
ERROR_403 = OpenApiResponse(MilestoneRefusedSerializer,
                            description="The role does not allow this action; nothing changed.")
ERROR_409 = OpenApiResponse(MilestoneRefusedSerializer, description=(
    "The milestone's status or its dependencies do not allow this action, or billing refused "
    "the instalment; nothing changed."))
REFUSED_EXAMPLES = [
    OpenApiExample("Waiting for its dependencies", response_only=True, status_codes=["409"],
                   value={"errors": {"status": [
                       "“Roof” waits for Walls (in progress): “Start” is possible once they "
                       "are completed (or cancelled)."]}, "state": "planned",
                       "allowed": ["delay", "cancel"]}),
    OpenApiExample("Billing refused", response_only=True, status_codes=["409"],
                   value={"errors": {"status": [
                       "80 % of order C-2026-00042 is already invoiced: at most 20 % is "
                       "left."]}, "state": "in_progress",
                       "allowed": ["complete", "delay", "cancel"]}),
    OpenApiExample("Not allowed for this role", response_only=True, status_codes=["403"],
                   value={"errors": {"status": ["Your role does not allow “Start”."]},
                          "state": "planned", "allowed": []}),
]
ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH)
CREATE_EXAMPLE = OpenApiExample("An instalment of an off-plan sale", request_only=True, value={
    "subject_type": "sales.order", "subject_id": 42, "name": "Foundations",
    "planned_start": "2026-03-01", "planned_end": "2026-05-31", "budget": "180000.00",
    "bill_percent": "35"})


# --- the resource ------------------------------------------------------------------------------

@extend_schema_view(
    list=extend_schema(summary="Milestones (of a programme or an order)", parameters=[
        OpenApiParameter("subject_type", OpenApiTypes.STR, enum=list(MILESTONE_SUBJECTS),
                         description="Kind of object: `catalog.project` or `sales.order`."),
        OpenApiParameter("subject_id", OpenApiTypes.INT,
                         description="With `subject_type`: one programme's or order's."),
        OpenApiParameter("status", OpenApiTypes.STR, enum=MilestoneStatus.values)],
        responses={200: MilestoneSerializer(many=True), 400: ERROR_400}),
    retrieve=extend_schema(summary="A milestone", parameters=[ID],
                           responses={200: MilestoneSerializer, 404: ERROR_404}),
    create=extend_schema(summary="Add a milestone to a programme or an order",
                         request=MilestoneWriteSerializer, examples=[CREATE_EXAMPLE],
                         responses={201: MilestoneSerializer, 400: ERROR_400}),
    partial_update=extend_schema(
        summary="Change some of a milestone's fields",
        description="One event lists what changed. A cancelled milestone no longer changes; "
                    "a completed one keeps its progress (100 %) and its billed share.",
        parameters=[ID], request=MilestoneWriteSerializer,
        responses={200: MilestoneSerializer, 400: ERROR_400, 404: ERROR_404}),
    destroy=extend_schema(
        summary="Delete a planned milestone nothing depends on",
        description="Any other is cancelled instead (it stays on the schedule).",
        parameters=[ID], responses={204: None, 400: ERROR_400, 404: ERROR_404}),
)
@extend_schema(tags=["milestones"])
class MilestoneViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin,
                       mixins.DestroyModelMixin, viewsets.GenericViewSet):
    permission_classes = [IsShopStaff, MilestonePermissions]
    serializer_class = MilestoneSerializer
    lookup_value_regex = r"\d+"
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_exception_handler(self):
        return milestones_exception_handler

    def get_queryset(self):
        params = self.request.query_params
        kind = (params.get("subject_type") or "").strip().lower()
        if self.action == "list" and kind and kind not in MILESTONE_SUBJECTS:
            raise StreamsError(_("Milestones belong to `catalog.project` or `sales.order`."),
                               field="subject_type")
        subject_id = params.get("subject_id")
        if self.action == "list" and subject_id is not None and not subject_id.isdigit():
            raise StreamsError(_("Give the id of the programme or order."),
                               field="subject_id")
        visible = [k for k in MILESTONE_SUBJECTS if may_view_subject(self.request.user, k)]
        qs = milestones_filtered(kind=kind if self.action == "list" else "",
                                 subject_id=int(subject_id) if subject_id and kind else None,
                                 status=params.get("status", "") if self.action == "list"
                                 else "")
        qs = qs.filter(subject_type_id__in=[content_type_id(subject_model(k)) for k in visible
                                            if subject_model(k) is not None])
        return qs.order_by("subject_type_id", "subject_id", "position", "pk")

    def get_object(self) -> Milestone:
        milestone = milestone_get(pk=self.kwargs["pk"])
        if milestone is None or not may_view_subject(
                self.request.user, label_for_type(milestone.subject_type_id)):
            raise NotFound(_("No such milestone."))
        return milestone

    def _output(self, milestone: Milestone, code: int = status.HTTP_200_OK) -> Response:
        fresh = milestone_get(pk=milestone.pk)
        return Response(MilestoneSerializer(fresh, context=self.get_serializer_context()).data,
                        status=code)

    def create(self, request):
        serializer = MilestoneWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        kind = serializer.validated_data.get("subject_type")
        subject_id = serializer.validated_data.get("subject_id")
        if not kind or subject_id is None:
            raise StreamsError(_("Say what the milestone is about: `subject_type` and "
                                 "`subject_id`."),
                               field="subject_type" if not kind else "subject_id")
        subject = subject_get(kind=kind, pk=subject_id)
        if subject is None or not may_view_subject(request.user, kind):
            raise StreamsError(_("No such programme or order in this shop."),
                               field="subject_id")
        milestone = milestone_create(subject=subject, by=request.user,
                                     data=serializer.service_data())
        return self._output(milestone, status.HTTP_201_CREATED)

    def partial_update(self, request, pk=None):
        milestone = self.get_object()
        serializer = MilestoneWriteSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        if {"subject_type", "subject_id"} & set(serializer.validated_data):
            raise StreamsError(_("A milestone cannot move to another programme or order."),
                               field="subject_type")
        milestone_update(milestone=milestone, by=request.user, data=serializer.service_data())
        return self._output(milestone)

    def destroy(self, request, pk=None):
        milestone_delete(milestone=self.get_object(), by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(summary="Set what a milestone waits for", parameters=[ID],
                   description="Milestones of the same programme or order only; a cycle "
                               "(even through others, or itself) is refused, naming the loop.",
                   request=DependenciesSerializer,
                   responses={200: MilestoneSerializer, 400: ERROR_400, 404: ERROR_404})
    @action(detail=True, methods=["post"])
    def dependencies(self, request, pk=None):
        milestone = self.get_object()
        serializer = DependenciesSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        milestone_dependencies_set(milestone=milestone, by=request.user,
                                   depends_on=serializer.validated_data["depends_on"])
        return self._output(milestone)

    def _transition(self, request, name: str) -> Response:
        milestone = self.get_object()
        serializer = TransitionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            data = serializer.validated_data
            milestone = milestone_transition(
                milestone=milestone, action=name, by=request.user,
                message=data.get("reason", "") if name == "cancel" else data.get("message", ""))
        except MilestoneBillingRefused as exc:  # the completion rolled back: answer its state
            fresh = milestone_get(pk=milestone.pk) or milestone
            return _refusal(exc, state=fresh.status, forbidden=False,
                            allowed=milestone_actions(fresh, request.user))
        return self._output(milestone)

    # One POST per transition, the same answers for each.
    _RUN = {"parameters": [ID], "request": TransitionSerializer, "examples": REFUSED_EXAMPLES,
            "responses": {200: MilestoneSerializer, 400: ERROR_400, 403: ERROR_403,
                          404: ERROR_404, 409: ERROR_409}}

    @extend_schema(summary="Start a milestone",
                   description="Once the milestones it waits for are completed (or cancelled).",
                   **_RUN)
    @action(detail=True, methods=["post"])
    def start(self, request, pk=None):
        return self._transition(request, "start")

    @extend_schema(summary="Complete a milestone",
                   description="100 % done. A milestone of an order with a share issues its "
                               "instalment invoice now (`billed_reference`); if billing refuses "
                               "(more than 100 % of the order invoiced, the shop's legal "
                               "identity incomplete) nothing changes (409).", **_RUN)
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        return self._transition(request, "complete")

    @extend_schema(summary="Mark a milestone delayed",
                   description="Its followers and its owner are told; `message` says what "
                               "holds it up.", **_RUN)
    @action(detail=True, methods=["post"])
    def delay(self, request, pk=None):
        return self._transition(request, "delay")

    @extend_schema(summary="Cancel a milestone",
                   description="It stays on the schedule and bills nothing; `reason` "
                               "(required) says why.", **_RUN)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        return self._transition(request, "cancel")


def register(router) -> None:
    router.register("milestones", MilestoneViewSet, basename="milestone")

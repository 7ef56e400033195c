"""API: tasks and tickets. `register(router)` adds this area's viewsets to the shop's API router.

- `/api/v1/tasks/`: tasks on any tracked object (a programme, an order…), filtered by subject,
  assignee, status, priority, due date; created, edited, deleted; `assign` and `status`
  actions. Each change is one event, as from the dashboard (streams.services.work).
- `/api/v1/tickets/`: customers' questions, for staff: list, detail with the whole thread
  (replies and internal notes), `reply` (the customer is emailed), `note`, `assign`,
  `priority`, `close`, `reopen`. Customers use their storefront account, never this API.

Staff only (token or session), with the role's permissions per action. Refusals answer
`{"errors": {"field": ["message"]}}`: 400 for bad input, 403 for the role, 409 when the task's
or ticket's state does not allow it (already closed, already in that status); nothing changed.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import set_rollback

from streams.errors import WorkConflict, WorkError, WorkForbidden
from streams.models import Milestone, Priority, Task, TaskStatus, Ticket, TicketStatus
from streams.selectors_work import (
    OPEN_TASK_STATES,
    task_get,
    tasks_for_list,
    ticket_get,
    ticket_thread,
    tickets_for_list,
    today,
)
from streams.services.work import (
    task_assign,
    task_create,
    task_delete,
    task_set_status,
    task_subject,
    task_update,
    ticket_assign,
    ticket_close,
    ticket_note,
    ticket_reopen,
    ticket_reply,
    ticket_set_priority,
)
from streams.subjects import content_type_id, label_for_type, tracked
from tenants.accounts.api_auth import IsShopStaff
from tenants.accounts.api_errors import ErrorsSerializer, api_exception_handler

NON_FIELD = api_settings.NON_FIELD_ERRORS_KEY
PRIORITY_NAMES = {Priority.LOW: "low", Priority.NORMAL: "normal", Priority.HIGH: "high",
                  Priority.URGENT: "urgent"}
PRIORITY_VALUES = {name: value for value, name in PRIORITY_NAMES.items()}
PRIORITY_CHOICES = list(PRIORITY_VALUES)


# --- errors and permissions ------------------------------------------------------------------

def work_exception_handler(exc, context):
    """Refusals of the work services, then DRF's answer with a 400's errors under `errors`
    (the shape of every resource of this API)."""
    if isinstance(exc, WorkError):
        set_rollback()
        code = (status.HTTP_403_FORBIDDEN if isinstance(exc, WorkForbidden)
                else status.HTTP_409_CONFLICT if isinstance(exc, WorkConflict)
                else status.HTTP_400_BAD_REQUEST)
        return Response({"errors": {exc.field or NON_FIELD: [exc.message]}}, status=code)
    return api_exception_handler(exc, context)


class WorkPermissions(permissions.BasePermission):
    """The permissions the role must grant for the view's action (`permissions_by_action`);
    an action nobody mapped is refused."""

    message = gettext_lazy("Your role does not allow this.")

    def has_permission(self, request, view) -> bool:
        perms = getattr(view, "permissions_by_action", {}).get(getattr(view, "action", None))
        if perms is None:
            return getattr(view, request.method.lower(), None) is None  # DRF answers 405
        return request.user.has_perms(perms)


class WorkViewSetMixin:
    permission_classes = [IsShopStaff, WorkPermissions]
    lookup_value_regex = r"\d+"

    def get_exception_handler(self):
        return work_exception_handler


# One error shape across the API, one schema component (tenants.accounts.api_errors).
WorkErrorSerializer = ErrorsSerializer


ERROR_400 = OpenApiResponse(WorkErrorSerializer, description="Bad input: see `errors`; nothing "
                                                          "changed.")
ERROR_403 = OpenApiResponse(WorkErrorSerializer, description="The role does not allow this.")
ERROR_404 = OpenApiResponse(description="No such task or ticket in this shop.")
ERROR_409 = OpenApiResponse(
    WorkErrorSerializer, description="The state does not allow it now (e.g. the ticket is "
                                  "already closed); nothing changed.",
    examples=[OpenApiExample("Already closed", value={
        "errors": {"status": ["This ticket is already closed."]}})])
ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH)


# --- shared fields ---------------------------------------------------------------------------

def _staff_member(pk: int | None, *, field: str = "assignee"):
    """An active staff member of this shop by id (None stays None)."""
    if pk is None:
        return None
    user = get_user_model().objects.filter(pk=pk, is_staff=True, is_active=True).first()
    if user is None:
        raise serializers.ValidationError(
            {field: [_("No active staff member with id %(id)s in this shop.") % {"id": pk}]})
    return user


def _subject_types() -> dict[str, int]:
    """"catalog.project" -> its content type id, for every kind tasks can be about."""
    return {t.model._meta.label_lower: content_type_id(t.model) for t in tracked()
            if t.model not in (Task, Ticket)}


class SubjectSerializer(serializers.Serializer):
    type = serializers.CharField(help_text=gettext_lazy("e.g. `catalog.project`, `sales.order`."))
    id = serializers.IntegerField()
    label = serializers.CharField(help_text=gettext_lazy(
        "Its name when the task or ticket was made, e.g. “Les Jardins”, “Order C-2026-00042”."))


class PersonSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    name = serializers.CharField()


def _person(user) -> dict | None:
    if user is None:
        return None
    return {"id": user.pk, "email": user.email, "name": user.get_full_name()}


def _subject(row) -> dict:
    return {"type": label_for_type(row.subject_type_id), "id": row.subject_id,
            "label": row.subject_label}


# --- tasks -----------------------------------------------------------------------------------

class TaskSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    status = serializers.ChoiceField(choices=TaskStatus.choices)
    priority = serializers.ChoiceField(choices=PRIORITY_CHOICES)
    due_date = serializers.DateField(allow_null=True)
    overdue = serializers.BooleanField(help_text=gettext_lazy(
        "Open and past its due date."))
    subject = SubjectSerializer(help_text=gettext_lazy("What the task is about."))
    assignee = PersonSerializer(allow_null=True)
    milestone = serializers.IntegerField(allow_null=True, help_text=gettext_lazy(
        "A milestone of the same subject, if the task belongs to one."))
    created_by = serializers.IntegerField(allow_null=True)
    created_at = serializers.DateTimeField()
    completed_at = serializers.DateTimeField(allow_null=True, help_text=gettext_lazy(
        "When it was marked done (cleared if it is reopened)."))


def task_data(task: Task) -> dict:
    return {
        "id": task.pk, "title": task.title, "description": task.description,
        "status": task.status, "priority": PRIORITY_NAMES.get(task.priority, "normal"),
        "due_date": task.due_date,
        "overdue": bool(task.status in OPEN_TASK_STATES and task.due_date
                        and task.due_date < today()),
        "subject": _subject(task), "assignee": _person(task.assignee),
        "milestone": task.milestone_id, "created_by": task.created_by_id,
        "created_at": task.created_at, "completed_at": task.completed_at,
    }


class TaskQuerySerializer(serializers.Serializer):
    subject_type = serializers.CharField(required=False, help_text=gettext_lazy(
        "With `subject_id`: the tasks of one object, e.g. `catalog.project`."))
    subject_id = serializers.IntegerField(required=False, min_value=1)
    assignee = serializers.CharField(required=False, help_text=gettext_lazy(
        "A staff member's id, `me`, or `none` (nobody yet)."))
    status = serializers.ChoiceField(required=False, choices=["open", *TaskStatus.values],
                                     help_text=gettext_lazy("`open`: to do or in progress."))
    priority = serializers.ChoiceField(required=False, choices=PRIORITY_CHOICES)
    due = serializers.ChoiceField(required=False, choices=["overdue", "today", "week", "none"],
                                  help_text=gettext_lazy(
                                      "`overdue` (open, past its date), `today`, `week` (the "
                                      "next 7 days), `none` (no due date)."))
    q = serializers.CharField(required=False, allow_blank=True)
    ordering = serializers.ChoiceField(required=False, default="due", choices=[
        "due", "-due", "priority", "-priority", "title", "-title", "created", "-created"])

    def validate_assignee(self, value: str) -> str:
        if value in ("me", "none") or value.isdigit():
            return value
        raise serializers.ValidationError(_("Give a staff member's id, `me` or `none`."))

    def validate(self, attrs: dict) -> dict:
        if bool(attrs.get("subject_type")) != bool(attrs.get("subject_id")):
            raise serializers.ValidationError({"subject_type": [
                _("Give both `subject_type` and `subject_id`, or neither.")]})
        if attrs.get("subject_type"):
            types = _subject_types()
            if attrs["subject_type"].lower() not in types:
                raise serializers.ValidationError({"subject_type": [
                    _("Unknown kind of object: use one of %(known)s.")
                    % {"known": ", ".join(sorted(types))}]})
            attrs["subject"] = (types[attrs["subject_type"].lower()], attrs["subject_id"])
        return attrs


class TaskWriteSerializer(serializers.Serializer):
    # Left unchecked here (blank allowed): the service refuses with its own message.
    title = serializers.CharField(required=False, allow_blank=True, max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, max_length=10_000)
    due_date = serializers.DateField(required=False, allow_null=True)
    priority = serializers.ChoiceField(required=False, choices=PRIORITY_CHOICES)
    milestone = serializers.IntegerField(required=False, allow_null=True, help_text=gettext_lazy(
        "A milestone of the same subject."))

    def validate_priority(self, value: str) -> int:
        return PRIORITY_VALUES[value]

    def validate_milestone(self, value: int | None) -> Milestone | None:
        if value is None:
            return None
        milestone = Milestone.objects.filter(pk=value).first()
        if milestone is None:
            raise serializers.ValidationError(_("No milestone with id %(id)s.") % {"id": value})
        return milestone


class TaskCreateSerializer(TaskWriteSerializer):
    subject_type = serializers.CharField(help_text=gettext_lazy(
        "What kind of object: `catalog.project`, `sales.order`…"))
    subject_id = serializers.IntegerField(min_value=1)
    assignee = serializers.IntegerField(required=False, allow_null=True, help_text=gettext_lazy(
        "A staff member's id: they are told and follow the task."))

    def validate(self, attrs: dict) -> dict:
        types = _subject_types()
        kind = attrs["subject_type"].strip().lower()
        if kind not in types:
            raise serializers.ValidationError({"subject_type": [
                _("Unknown kind of object: use one of %(known)s.")
                % {"known": ", ".join(sorted(types))}]})
        try:
            attrs["subject"] = task_subject(subject_type_id=types[kind],
                                            subject_id=attrs["subject_id"])
        except WorkError as exc:
            raise serializers.ValidationError({"subject_id": [exc.message]}) from exc
        attrs["assignee"] = _staff_member(attrs.get("assignee"))
        return attrs


class AssignSerializer(serializers.Serializer):
    assignee = serializers.IntegerField(allow_null=True, help_text=gettext_lazy(
        "A staff member's id, or null: nobody."))

    def validate_assignee(self, value: int | None):
        return _staff_member(value)


class TaskStatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=TaskStatus.choices)


TASK_EXAMPLE = {
    "id": 7, "title": "Pour the slab", "description": "Before the rain.", "status": "todo",
    "priority": "high", "due_date": "2026-04-30", "overdue": False,
    "subject": {"type": "catalog.project", "id": 3, "label": "Les Jardins"},
    "assignee": {"id": 4, "email": "paul@acme.example", "name": "Paul Langevin"},
    "milestone": 12, "created_by": 1, "created_at": "2026-03-03T08:30:00Z",
    "completed_at": None}


def _task_change_schema(summary: str, request, example: dict, *, description: str = ""):
    return extend_schema(
        summary=summary, description=description, request=request,
        parameters=[ID],
        responses={200: TaskSerializer, 400: ERROR_400, 403: ERROR_403, 404: ERROR_404,
                   409: ERROR_409},
        examples=[OpenApiExample(summary, request_only=True, value=example)])


@extend_schema_view(
    list=extend_schema(summary="List tasks", parameters=[TaskQuerySerializer],
                       examples=[OpenApiExample("Tasks", response_only=True,
                                                value=TASK_EXAMPLE)]),
    retrieve=extend_schema(summary="A task", parameters=[ID], responses={
        200: TaskSerializer, 404: ERROR_404}),
    create=extend_schema(
        summary="Create a task on an object",
        description="The creator follows the task; an assignee is told and follows it. "
                    "Needs `streams.add_task`.",
        request=TaskCreateSerializer,
        responses={201: TaskSerializer, 400: ERROR_400, 403: ERROR_403},
        examples=[OpenApiExample("New task", request_only=True, value={
            "subject_type": "catalog.project", "subject_id": 3, "title": "Pour the slab",
            "priority": "high", "due_date": "2026-04-30", "assignee": 4})]),
    partial_update=extend_schema(
        summary="Edit a task (title, description, due date, priority, milestone)",
        description="Only the fields given change; one `edited` event names them. Needs "
                    "`streams.change_task`. Assignment and status have their own actions.",
        request=TaskWriteSerializer, parameters=[ID],
        responses={200: TaskSerializer, 400: ERROR_400, 403: ERROR_403, 404: ERROR_404}),
    destroy=extend_schema(
        summary="Delete a task", parameters=[ID],
        description="Its subject's timeline keeps a line saying so. Needs "
                    "`streams.delete_task`.",
        responses={204: None, 403: ERROR_403, 404: ERROR_404}),
)
@extend_schema(tags=["tasks"])
class TaskViewSet(WorkViewSetMixin, viewsets.GenericViewSet):
    serializer_class = TaskSerializer
    permissions_by_action = {
        "list": ["streams.view_task"], "retrieve": ["streams.view_task"],
        "create": ["streams.add_task"], "partial_update": ["streams.change_task"],
        "destroy": ["streams.delete_task"], "assign": ["streams.change_task"],
        "set_status": ["streams.change_task"],
    }

    def get_queryset(self):
        return tasks_for_list()  # DRF's generic machinery (schema); `list` filters its own

    def get_object(self) -> Task:
        task = task_get(pk=int(self.kwargs["pk"]))
        if task is None:
            raise Http404
        return task

    def list(self, request):
        query = TaskQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        tasks = tasks_for_list(
            status=params.get("status", ""), assignee=params.get("assignee"), me=request.user,
            priority=PRIORITY_VALUES.get(params.get("priority", "")),
            due=params.get("due", ""), q=params.get("q", ""), subject=params.get("subject"),
            sort=params["ordering"])
        page = self.paginate_queryset(tasks)
        return self.get_paginated_response([task_data(task) for task in page])

    def retrieve(self, request, pk=None):
        return Response(task_data(self.get_object()))

    def create(self, request):
        serializer = TaskCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        task = task_create(subject=data["subject"], title=data.get("title", ""),
                           by=request.user, description=data.get("description", ""),
                           assignee=data.get("assignee"), due_date=data.get("due_date"),
                           priority=data.get("priority", Priority.NORMAL),
                           milestone=data.get("milestone"))
        return Response(task_data(task_get(pk=task.pk)), status=status.HTTP_201_CREATED)

    def partial_update(self, request, pk=None):
        task = self.get_object()
        serializer = TaskWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        task_update(task=task, by=request.user, data=dict(serializer.validated_data))
        return Response(task_data(task_get(pk=task.pk)))

    def destroy(self, request, pk=None):
        task_delete(task=self.get_object(), by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @_task_change_schema("Assign a task", AssignSerializer, {"assignee": 4},
                         description="The assignee is told (unless they assign themselves) "
                                     "and follows the task; null: nobody. Needs "
                                     "`streams.change_task`.")
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        task = self.get_object()
        serializer = AssignSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        task_assign(task=task, assignee=serializer.validated_data["assignee"], by=request.user)
        return Response(task_data(task_get(pk=task.pk)))

    @_task_change_schema("Set a task's status", TaskStatusSerializer, {"status": "done"},
                         description="to do, in progress, done (stamps `completed_at`) or "
                                     "cancelled; 409 if it already has that status. Needs "
                                     "`streams.change_task`.")
    @action(detail=True, methods=["post"], url_path="status")
    def set_status(self, request, pk=None):
        task = self.get_object()
        serializer = TaskStatusSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        task_set_status(task=task, status=serializer.validated_data["status"], by=request.user)
        return Response(task_data(task_get(pk=task.pk)))


# --- tickets ---------------------------------------------------------------------------------

class MessageSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    author = PersonSerializer(allow_null=True)
    author_name = serializers.CharField(allow_blank=True)
    from_customer = serializers.BooleanField()
    customer_visible = serializers.BooleanField(help_text=gettext_lazy(
        "False for an internal note (staff only)."))
    body = serializers.CharField(allow_blank=True, help_text=gettext_lazy(
        "Empty if the message was deleted."))
    created_at = serializers.DateTimeField()


class TicketSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    status = serializers.ChoiceField(choices=TicketStatus.choices)
    priority = serializers.ChoiceField(choices=PRIORITY_CHOICES)
    subject = SubjectSerializer(help_text=gettext_lazy("The order (or lot) it is about."))
    customer = PersonSerializer(allow_null=True, help_text=gettext_lazy("Who raised it."))
    assignee = PersonSerializer(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class TicketDetailSerializer(TicketSerializer):
    body = serializers.CharField(help_text=gettext_lazy("The customer's first message."))
    thread = MessageSerializer(many=True, help_text=gettext_lazy(
        "Replies and internal notes, oldest first."))


def ticket_data(ticket: Ticket, *, thread: bool = False) -> dict:
    data = {
        "id": ticket.pk, "title": ticket.title, "status": ticket.status,
        "priority": PRIORITY_NAMES.get(ticket.priority, "normal"),
        "subject": _subject(ticket),
        "customer": _person(ticket.raised_by) if ticket.raised_by_id else None,
        "assignee": _person(ticket.assignee), "created_at": ticket.created_at,
        "updated_at": ticket.updated_at,
    }
    if thread:
        data["body"] = ticket.body
        data["thread"] = [{
            "id": c.pk, "author": _person(c.author), "author_name": c.author_name,
            "from_customer": bool(c.author_id and c.author_id == ticket.raised_by_id),
            "customer_visible": c.customer_visible,
            "body": "" if c.is_deleted else c.body, "created_at": c.created_at,
        } for c in ticket_thread(ticket, customer=False)]
    return data


class TicketQuerySerializer(serializers.Serializer):
    status = serializers.ChoiceField(required=False, choices=["pending", *TicketStatus.values],
                                     help_text=gettext_lazy("`pending`: open or answered."))
    assignee = serializers.CharField(required=False, help_text=gettext_lazy(
        "A staff member's id, `me`, or `none` (unassigned)."))
    priority = serializers.ChoiceField(required=False, choices=PRIORITY_CHOICES)
    q = serializers.CharField(required=False, allow_blank=True, help_text=gettext_lazy(
        "Part of the subject line, the order or the customer's name."))
    ordering = serializers.ChoiceField(required=False, default="-updated", choices=[
        "-updated", "updated", "-priority", "priority", "-created", "created"])

    validate_assignee = TaskQuerySerializer.validate_assignee


class BodySerializer(serializers.Serializer):
    body = serializers.CharField(allow_blank=True, max_length=10_000)


class PrioritySerializer(serializers.Serializer):
    priority = serializers.ChoiceField(choices=PRIORITY_CHOICES)


TICKET_EXAMPLE = {
    "id": 21, "title": "Delivery date", "status": "answered", "priority": "normal",
    "subject": {"type": "sales.order", "id": 42, "label": "Order C-2026-00042"},
    "customer": {"id": 9, "email": "marie@example.fr", "name": "Marie Curie"},
    "assignee": {"id": 4, "email": "paul@acme.example", "name": "Paul Langevin"},
    "created_at": "2026-03-03T08:30:00Z", "updated_at": "2026-03-03T10:00:00Z"}
TICKET_DETAIL_EXAMPLE = {
    **TICKET_EXAMPLE, "body": "When will my order arrive?",
    "thread": [{"id": 5, "author": {"id": 4, "email": "paul@acme.example",
                                    "name": "Paul Langevin"},
                "author_name": "Paul Langevin", "from_customer": False,
                "customer_visible": True, "body": "It ships on Monday.",
                "created_at": "2026-03-03T10:00:00Z"}]}


def _ticket_action_schema(summary: str, *, description: str, request=None,
                          example: dict | None = None):
    return extend_schema(
        summary=summary, description=description, request=request, parameters=[ID],
        responses={200: TicketDetailSerializer, 400: ERROR_400, 403: ERROR_403,
                   404: ERROR_404, 409: ERROR_409},
        examples=[OpenApiExample(summary, request_only=True, value=example)] if example
        else [])


@extend_schema_view(
    list=extend_schema(
        summary="List customers' tickets",
        description="Raised by customers from their storefront account about their orders "
                    "(or lots); this API is for staff (`streams.view_ticket`).",
        parameters=[TicketQuerySerializer],
        examples=[OpenApiExample("Tickets", response_only=True, value=TICKET_EXAMPLE)]),
    retrieve=extend_schema(
        summary="A ticket with its thread", parameters=[ID],
        responses={200: TicketDetailSerializer, 404: ERROR_404},
        examples=[OpenApiExample("Answered", response_only=True,
                                 value=TICKET_DETAIL_EXAMPLE)]),
)
@extend_schema(tags=["tickets"])
class TicketViewSet(WorkViewSetMixin, viewsets.GenericViewSet):
    serializer_class = TicketSerializer
    permissions_by_action = {
        "list": ["streams.view_ticket"], "retrieve": ["streams.view_ticket"],
        **{name: ["streams.change_ticket"] for name in (
            "reply", "note", "assign", "set_priority", "close", "reopen")},
    }

    def get_queryset(self):
        return tickets_for_list()  # DRF's generic machinery (schema); `list` filters its own

    def get_object(self) -> Ticket:
        ticket = ticket_get(pk=int(self.kwargs["pk"]))
        if ticket is None:
            raise Http404
        return ticket

    def _detail(self, ticket: Ticket) -> Response:
        return Response(ticket_data(ticket_get(pk=ticket.pk), thread=True))

    def list(self, request):
        query = TicketQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        tickets = tickets_for_list(
            status=params.get("status", ""), assignee=params.get("assignee"), me=request.user,
            priority=PRIORITY_VALUES.get(params.get("priority", "")), q=params.get("q", ""),
            sort=params["ordering"]).select_related("raised_by")
        page = self.paginate_queryset(tickets)
        return self.get_paginated_response([ticket_data(ticket) for ticket in page])

    def retrieve(self, request, pk=None):
        return self._detail(self.get_object())

    def _body(self, request) -> str:
        serializer = BodySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data["body"]

    @_ticket_action_schema("Reply to the customer", request=BodySerializer,
                           example={"body": "It ships on Monday."},
                           description="The customer reads it in their account and is "
                                       "emailed (after the commit); the ticket becomes "
                                       "`answered`.")
    @action(detail=True, methods=["post"])
    def reply(self, request, pk=None):
        ticket = self.get_object()
        ticket_reply(ticket=ticket, body=self._body(request), by=request.user,
                     base_url=request.build_absolute_uri("/")[:-1])
        return self._detail(ticket)

    @_ticket_action_schema("Add an internal note", request=BodySerializer,
                           example={"body": "Carrier says Tuesday."},
                           description="Staff only: the customer never sees it. The status "
                                       "does not change.")
    @action(detail=True, methods=["post"])
    def note(self, request, pk=None):
        ticket = self.get_object()
        ticket_note(ticket=ticket, body=self._body(request), by=request.user)
        return self._detail(ticket)

    @_ticket_action_schema("Assign a ticket", request=AssignSerializer,
                           example={"assignee": 4},
                           description="The assignee is told (unless they take it "
                                       "themselves) and follows it; null: nobody.")
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        ticket = self.get_object()
        serializer = AssignSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        ticket_assign(ticket=ticket, assignee=serializer.validated_data["assignee"],
                      by=request.user)
        return self._detail(ticket)

    @_ticket_action_schema("Set a ticket's priority", request=PrioritySerializer,
                           example={"priority": "urgent"}, description="")
    @action(detail=True, methods=["post"], url_path="priority")
    def set_priority(self, request, pk=None):
        ticket = self.get_object()
        serializer = PrioritySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        ticket_set_priority(ticket=ticket, by=request.user,
                            priority=PRIORITY_VALUES[serializer.validated_data["priority"]])
        return self._detail(ticket)

    @_ticket_action_schema("Close a ticket", description="409 if it is already closed. A "
                                                         "reply from the customer opens it "
                                                         "again.")
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        ticket = self.get_object()
        ticket_close(ticket=ticket, by=request.user)
        return self._detail(ticket)

    @_ticket_action_schema("Reopen a closed ticket", description="409 unless it is closed.")
    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None):
        ticket = self.get_object()
        ticket_reopen(ticket=ticket, by=request.user)
        return self._detail(ticket)


def register(router) -> None:
    router.register("tasks", TaskViewSet, basename="task")
    router.register("tickets", TicketViewSet, basename="ticket")

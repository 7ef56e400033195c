"""API: follows, notifications and comments (`register(router)` adds them to /api/v1/).

- `follows/`: what the signed-in staff member follows (list, follow or change the level,
  stop following);
- `notifications/`: their inbox (list, `unread-count`, `{id}/read`, `read-all`);
- `comments/`: the comments of one object (`?subject_type=sales.order&subject_id=42`), post,
  edit one's own, delete (a tombstone stays).

Objects are named by kind (`sales.order`, `billing.invoice`, `catalog.project`...) and id:
content type ids differ from one shop to the next. Staff only (token or session); what
someone may follow or comment on is what their role may view. Refusals: 400
`{"errors": {"field": ["message"]}}`, 403 and 404 `{"detail": "message"}`; nothing changes.
"""

from __future__ import annotations

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
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.response import Response
from rest_framework.settings import api_settings

from streams.errors import SocialError, SocialForbidden, SocialNotFound
from streams.models import Comment, Follow, FollowLevel, Notification, NotificationReason
from streams.selectors_social import (
    comment_read,
    comments_for,
    follows_for,
    notification_row,
    notifications_for,
    subject_get,
    subject_kinds,
    unread_count,
)
from streams.services.social import (
    comment_create,
    comment_delete,
    comment_edit,
    follow_remove,
    follow_set,
    notification_mark_read,
    notifications_mark_all_read,
)
from streams.subjects import content_type_id, label_for_type
from tenants.accounts.api_errors import DetailSerializer, ErrorsSerializer, api_exception_handler

NON_FIELD = api_settings.NON_FIELD_ERRORS_KEY


def social_exception_handler(exc, context):
    """Social refusals as the rest of the API answers them: 404 and 403 with a `detail`, 400
    with `errors` by field; DRF's own 400s wrapped the same way."""
    if isinstance(exc, SocialNotFound):
        exc = NotFound(exc.message)
    elif isinstance(exc, SocialForbidden):
        exc = PermissionDenied(exc.message)
    elif isinstance(exc, SocialError):
        return Response({"errors": {exc.field or NON_FIELD: [exc.message]}},
                        status=status.HTTP_400_BAD_REQUEST)
    return api_exception_handler(exc, context)


# Staff only (the project's default permission), numeric ids, the error shapes above. (A
# comment, not a docstring: drf-spectacular would show it on every operation.)
class SocialViewSetMixin:
    lookup_value_regex = r"\d+"

    def get_exception_handler(self):
        return social_exception_handler


# One error shape across the API, one schema component (tenants.accounts.api_errors).
SocialErrorsSerializer = ErrorsSerializer
SocialRefusalSerializer = DetailSerializer


ERROR_400 = OpenApiResponse(SocialErrorsSerializer,
                            description="Refused: see `errors`; nothing changed.")
ERROR_403 = OpenApiResponse(SocialRefusalSerializer, description=(
    "The role does not allow it (seeing the object, another's comment)."))
ERROR_404 = OpenApiResponse(SocialRefusalSerializer,
                            description="No such object in this shop (or not yours).")
ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH)


# --- subjects ----------------------------------------------------------------------------------

class SubjectField(serializers.CharField):
    """A kind of object by name (`sales.order`), stored as this shop's content type id."""

    default_error_messages = {"unknown": gettext_lazy(
        "Unknown kind of object “{kind}”: use one of {known}.")}

    def to_internal_value(self, data) -> int:
        key = super().to_internal_value(data).strip().lower()
        kinds = subject_kinds()
        if key not in kinds:
            self.fail("unknown", kind=key, known=", ".join(sorted(kinds)))
        return content_type_id(kinds[key].model)

    def to_representation(self, value) -> str:
        return label_for_type(value)


SUBJECT_HELP = gettext_lazy("The kind of object: `sales.order`, `sales.quote`, `sales.customer`, "
                            "`billing.invoice`, `catalog.baseproduct`, `catalog.project`…")


class SubjectQuerySerializer(serializers.Serializer):
    subject_type = SubjectField(help_text=SUBJECT_HELP)
    subject_id = serializers.IntegerField(min_value=1)


# --- follows -----------------------------------------------------------------------------------

class FollowSerializer(serializers.ModelSerializer):
    subject_type = SubjectField(source="subject_type_id", help_text=SUBJECT_HELP)
    subject_id = serializers.IntegerField(min_value=1)
    level = serializers.ChoiceField(choices=FollowLevel.choices, default=FollowLevel.ALL,
                                    help_text=gettext_lazy(
                                        "`all`: every change and comment; `important`: "
                                        "important changes only; `mute`: only mentions."))

    class Meta:
        model = Follow
        fields = ["id", "subject_type", "subject_id", "level", "created_at"]
        read_only_fields = ["id", "created_at"]


class FollowLevelSerializer(serializers.Serializer):
    level = serializers.ChoiceField(choices=FollowLevel.choices)


FOLLOW_EXAMPLE = {"id": 12, "subject_type": "sales.order", "subject_id": 42, "level": "all",
                  "created_at": "2026-03-02T09:15:00Z"}


@extend_schema_view(
    list=extend_schema(summary="What I follow", parameters=[
        OpenApiParameter("subject_type", OpenApiTypes.STR, description="Only this kind."),
        OpenApiParameter("subject_id", OpenApiTypes.INT, description="Only this object.")],
        examples=[OpenApiExample("Follows", response_only=True, value=FOLLOW_EXAMPLE)]),
    create=extend_schema(
        summary="Follow an object (or change the level)",
        description="Creates the follow (201), or changes its level if it exists (200).",
        request=FollowSerializer,
        responses={200: FollowSerializer, 201: FollowSerializer, 400: ERROR_400,
                   403: ERROR_403, 404: ERROR_404},
        examples=[OpenApiExample("Important changes of an order", request_only=True, value={
            "subject_type": "sales.order", "subject_id": 42, "level": "important"})]),
    partial_update=extend_schema(
        summary="Change how much I hear about it", parameters=[ID],
        request=FollowLevelSerializer,
        responses={200: FollowSerializer, 400: ERROR_400, 404: ERROR_404},
        examples=[OpenApiExample("Mute", request_only=True, value={"level": "mute"})]),
    destroy=extend_schema(summary="Stop following", parameters=[ID],
                          responses={204: None, 404: ERROR_404}),
)
@extend_schema(tags=["follows"])
class FollowViewSet(SocialViewSetMixin, viewsets.GenericViewSet):
    serializer_class = FollowSerializer
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        return follows_for(user=self.request.user)

    def _own(self, pk) -> Follow:
        row = follows_for(user=self.request.user).filter(pk=pk).first()
        if row is None:
            raise SocialNotFound(_("You do not follow this (no such follow)."))
        return row

    def list(self, request):
        rows = follows_for(user=request.user)
        if "subject_type" in request.query_params or "subject_id" in request.query_params:
            query = SubjectQuerySerializer(data=request.query_params, partial=True)
            query.is_valid(raise_exception=True)
            if "subject_type" in query.validated_data:
                rows = rows.filter(subject_type_id=query.validated_data["subject_type"])
            if "subject_id" in query.validated_data:
                rows = rows.filter(subject_id=query.validated_data["subject_id"])
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(FollowSerializer(page, many=True).data)

    def create(self, request):
        serializer = FollowSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        existed = follows_for(user=request.user).filter(
            subject_type_id=data["subject_type_id"], subject_id=data["subject_id"]).exists()
        row = follow_set(user=request.user, subject_type_id=data["subject_type_id"],
                         subject_id=data["subject_id"], level=data["level"])
        return Response(FollowSerializer(row).data,
                        status=status.HTTP_200_OK if existed else status.HTTP_201_CREATED)

    def partial_update(self, request, pk=None):
        row = self._own(pk)
        serializer = FollowLevelSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        row = follow_set(user=request.user, subject_type_id=row.subject_type_id,
                         subject_id=row.subject_id, level=serializer.validated_data["level"])
        return Response(FollowSerializer(row).data)

    def destroy(self, request, pk=None):
        row = self._own(pk)
        follow_remove(user=request.user, subject_type_id=row.subject_type_id,
                      subject_id=row.subject_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- notifications -----------------------------------------------------------------------------

class NotificationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    unread = serializers.BooleanField()
    reason = serializers.ChoiceField(choices=NotificationReason.choices, help_text=gettext_lazy(
        "Why it is in the inbox: `follow`, `mention` (in a comment) or `assigned`."))
    what = serializers.CharField(help_text=gettext_lazy("What happened, in words."))
    verb = serializers.CharField(help_text=gettext_lazy(
        "What happened: a transition's name (`confirm`, `ship`…) or `commented`, …"))
    who = serializers.CharField(help_text=gettext_lazy("Who did it, in words."))
    subject_type = serializers.CharField(help_text=SUBJECT_HELP)
    subject_id = serializers.IntegerField()
    subject = serializers.CharField(help_text=gettext_lazy("The object's name, e.g. “Order "
                                                           "C-2026-00042”."))
    before = serializers.CharField(allow_blank=True)
    after = serializers.CharField(allow_blank=True)
    message = serializers.CharField(allow_blank=True)
    important = serializers.BooleanField()
    at = serializers.DateTimeField()


def _notification_data(notification: Notification) -> dict:
    row = notification_row(notification, lambda n: "")
    event = notification.event
    return {**row, "verb": event.verb, "subject_type": label_for_type(event.subject_type_id),
            "subject_id": event.subject_id}


class UnreadCountSerializer(serializers.Serializer):
    unread = serializers.IntegerField()


class ReadAllSerializer(serializers.Serializer):
    up_to = serializers.IntegerField(required=False, min_value=1, help_text=gettext_lazy(
        "Only notifications up to this id (the newest one you saw): what arrived since stays "
        "unread."))


class ReadAllResultSerializer(serializers.Serializer):
    marked = serializers.IntegerField(help_text=gettext_lazy("How many were unread."))


class NotificationQuerySerializer(serializers.Serializer):
    unread = serializers.BooleanField(required=False, default=False,
                                      help_text=gettext_lazy("Only unread ones."))


NOTIFICATION_EXAMPLE = {
    "id": 301, "unread": True, "reason": "mention", "what": "New comment",
    "verb": "commented", "who": "Marie Curie", "subject_type": "sales.order",
    "subject_id": 42, "subject": "Order C-2026-00042", "before": "", "after": "",
    "message": "@paul.langevin can you call the customer about the delivery date?",
    "important": False, "at": "2026-03-02T09:15:00Z"}


@extend_schema_view(
    list=extend_schema(summary="My notifications, newest first",
                       parameters=[NotificationQuerySerializer],
                       responses=NotificationSerializer(many=True),
                       examples=[OpenApiExample("Mentioned", response_only=True,
                                                value=NOTIFICATION_EXAMPLE)]),
)
@extend_schema(tags=["notifications"])
class NotificationViewSet(SocialViewSetMixin, viewsets.GenericViewSet):
    serializer_class = NotificationSerializer

    def get_queryset(self):
        return notifications_for(user=self.request.user)

    def list(self, request):
        query = NotificationQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        rows = notifications_for(user=request.user, unread=query.validated_data["unread"])
        page = self.paginate_queryset(rows)
        return self.get_paginated_response([_notification_data(n) for n in page])

    @extend_schema(summary="How many are unread", responses=UnreadCountSerializer)
    @action(detail=False, methods=["get"], url_path="unread-count")
    def unread_count(self, request):
        return Response({"unread": unread_count(user=request.user)})

    @extend_schema(summary="Mark one read", parameters=[ID], request=None,
                   responses={200: NotificationSerializer, 404: ERROR_404})
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        notification = notification_mark_read(user=request.user, notification_id=int(pk))
        return Response(_notification_data(notification))

    @extend_schema(summary="Mark all read", request=ReadAllSerializer,
                   responses={200: ReadAllResultSerializer, 400: ERROR_400})
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request):
        serializer = ReadAllSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        marked = notifications_mark_all_read(user=request.user,
                                             up_to=serializer.validated_data.get("up_to"))
        return Response({"marked": marked})


# --- comments ----------------------------------------------------------------------------------

class RevisionSerializer(serializers.Serializer):
    body = serializers.CharField(help_text=gettext_lazy("The text before that edit."))
    edited_at = serializers.DateTimeField(help_text=gettext_lazy("When it was replaced."))


class CommentSerializer(serializers.ModelSerializer):
    subject_type = SubjectField(source="subject_type_id", read_only=True)
    author = serializers.IntegerField(source="author_id", read_only=True, allow_null=True)
    deleted = serializers.SerializerMethodField(help_text=gettext_lazy(
        "A deleted comment keeps its place (its replies stay) without its text."))
    mentions = serializers.SerializerMethodField(help_text=gettext_lazy(
        "The staff it mentions (and notified): their ids."))
    revisions = RevisionSerializer(many=True, read_only=True, help_text=gettext_lazy(
        "Earlier texts, oldest first (empty for a deleted comment)."))

    class Meta:
        model = Comment
        fields = ["id", "subject_type", "subject_id", "parent", "author", "author_name", "body",
                  "customer_visible", "deleted", "mentions", "created_at", "edited_at",
                  "deleted_at", "revisions"]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_deleted(self, comment: Comment) -> bool:
        return comment.deleted_at is not None

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_mentions(self, comment: Comment) -> list[int]:
        return [user.pk for user in comment.mentions.all()]


class CommentCreateSerializer(serializers.Serializer):
    subject_type = SubjectField(help_text=SUBJECT_HELP)
    subject_id = serializers.IntegerField(min_value=1)
    body = serializers.CharField(allow_blank=True, trim_whitespace=False, help_text=gettext_lazy(
        "Plain text (at most 5,000 characters). `@` with a colleague's email, or the part of "
        "it before the `@`, mentions and notifies them."))
    parent = serializers.IntegerField(required=False, allow_null=True, help_text=gettext_lazy(
        "Reply to this comment (a reply to a reply goes under the same comment)."))
    customer_visible = serializers.BooleanField(required=False, default=False,
                                                help_text=gettext_lazy(
                                                    "Shown to the customer too (a ticket's "
                                                    "answer)."))


class CommentEditSerializer(serializers.Serializer):
    body = serializers.CharField(allow_blank=True, trim_whitespace=False)


COMMENT_EXAMPLE = {
    "id": 88, "subject_type": "sales.order", "subject_id": 42, "parent": None, "author": 3,
    "author_name": "Marie Curie", "body": "@paul.langevin can you call the customer?",
    "customer_visible": False, "deleted": False, "mentions": [5],
    "created_at": "2026-03-02T09:15:00Z", "edited_at": None, "deleted_at": None,
    "revisions": []}


@extend_schema_view(
    list=extend_schema(
        summary="The comments of an object, oldest first", parameters=[SubjectQuerySerializer],
        responses={200: CommentSerializer(many=True), 400: ERROR_400, 403: ERROR_403,
                   404: ERROR_404},
        examples=[OpenApiExample("Comments", response_only=True, value=COMMENT_EXAMPLE)]),
    create=extend_schema(
        summary="Comment on an object (or reply)",
        description="The author follows the object from then on; its followers and the "
                    "mentioned staff are notified.",
        request=CommentCreateSerializer,
        responses={201: CommentSerializer, 400: ERROR_400, 403: ERROR_403, 404: ERROR_404},
        examples=[
            OpenApiExample("Question to a colleague", request_only=True, value={
                "subject_type": "sales.order", "subject_id": 42,
                "body": "@paul.langevin can you call the customer?"}),
            OpenApiExample("Empty", response_only=True, status_codes=["400"], value={
                "errors": {"body": ["Write something before posting."]}}),
        ]),
    partial_update=extend_schema(
        summary="Edit my comment", description="The previous text is kept in `revisions`.",
        parameters=[ID], request=CommentEditSerializer,
        responses={200: CommentSerializer, 400: ERROR_400, 403: ERROR_403, 404: ERROR_404}),
    destroy=extend_schema(
        summary="Delete a comment",
        description="Its author, or a manager. A tombstone keeps its place; replies stay.",
        parameters=[ID], responses={204: None, 400: ERROR_400, 403: ERROR_403,
                                    404: ERROR_404}),
)
@extend_schema(tags=["comments"])
class CommentViewSet(SocialViewSetMixin, viewsets.GenericViewSet):
    serializer_class = CommentSerializer
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        return Comment.objects.none()  # DRF's schema machinery only; `list` reads its own

    def list(self, request):
        query = SubjectQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        ct, pk = query.validated_data["subject_type"], query.validated_data["subject_id"]
        subject_get(user=request.user, subject_type_id=ct, subject_id=pk)
        page = self.paginate_queryset(comments_for(subject_type_id=ct, subject_id=pk))
        return self.get_paginated_response(CommentSerializer(page, many=True).data)

    def create(self, request):
        serializer = CommentCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        comment = comment_create(by=request.user, subject_type_id=data["subject_type"],
                                 subject_id=data["subject_id"], body=data["body"],
                                 parent_id=data.get("parent"),
                                 customer_visible=data["customer_visible"])
        return Response(CommentSerializer(comment_read(comment_id=comment.pk)).data,
                        status=status.HTTP_201_CREATED)

    def partial_update(self, request, pk=None):
        serializer = CommentEditSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        comment = comment_edit(by=request.user, comment_id=int(pk),
                               body=serializer.validated_data["body"])
        return Response(CommentSerializer(comment_read(comment_id=comment.pk)).data)

    def destroy(self, request, pk=None):
        comment_delete(by=request.user, comment_id=int(pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


def register(router) -> None:
    router.register("follows", FollowViewSet, basename="follow")
    router.register("notifications", NotificationViewSet, basename="notification")
    router.register("comments", CommentViewSet, basename="comment")

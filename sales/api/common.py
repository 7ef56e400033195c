"""What the sales API resources share: the error handler, the transition runner, and the
serializers every document shows (customer reference, VAT breakdown, history).

The error handler extends the catalog API's (`catalog.api.catalog_exception_handler`, which
maps CatalogError, then hands over to the API's own, `tenants.accounts.api_errors`, which
wraps every 400 in `{"errors": ...}`): only the sales errors are added here.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypeVar

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import set_rollback

from catalog.api import RolePermissions, catalog_exception_handler
from catalog.pricing import Totals
from sales.errors import IllegalTransition, SalesError, TransitionForbidden
from streams.models import ActorKind
from tenants.accounts.api_auth import IsShopStaff
from tenants.accounts.api_errors import DetailSerializer

NON_FIELD = api_settings.NON_FIELD_ERRORS_KEY
T = TypeVar("T")


# --- errors ----------------------------------------------------------------------------------

class TransitionRefused(Exception):
    """An IllegalTransition seen by the API, with the state the document is really in now
    (the exception names it in words, for people; clients need the value)."""

    def __init__(self, error: IllegalTransition, *, state: str):
        super().__init__(error.message)
        self.error = error
        self.state = state


def transition_refused_response(error: IllegalTransition, *, state: str) -> Response:
    """409 when the state does not allow the action, 403 when the role does not; the same
    body either way, listing what this user may do now."""
    code = (status.HTTP_403_FORBIDDEN if isinstance(error, TransitionForbidden)
            else status.HTTP_409_CONFLICT)
    return Response({"errors": {"status": [error.message]}, "state": state,
                     "allowed": list(error.allowed)}, status=code)


def sales_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Sales errors, then the catalog API's handler for everything else (CatalogError, DRF's
    own errors, the `{"errors": ...}` wrapping, with nested errors such as a quote's lines
    as flat keys: `lines.1.quantity`)."""
    if isinstance(exc, TransitionRefused):
        set_rollback()
        return transition_refused_response(exc.error, state=exc.state)
    if isinstance(exc, IllegalTransition):  # raised outside `run_transition`: state in words
        set_rollback()
        return transition_refused_response(exc, state=exc.state)
    if isinstance(exc, SalesError):
        set_rollback()
        return Response({"errors": {exc.field or NON_FIELD: [exc.message]}},
                        status=status.HTTP_400_BAD_REQUEST)
    return catalog_exception_handler(exc, context)


def run_transition(document, run: Callable[[], T]) -> T:
    """Run a workflow service; a refused transition reports the state the document is in
    (re-read: the service looked at the locked row, which may have moved since this request
    read it). The service's transaction has rolled back: nothing changed."""
    try:
        return run()
    except IllegalTransition as exc:
        state = (type(document).objects.filter(pk=document.pk)
                 .values_list("status", flat=True).first())
        raise TransitionRefused(exc, state=state or document.status) from exc


# Staff only, role permissions per action (`permissions_by_action`) or per method, the sales
# error handler, numeric ids. (A comment, not a docstring: drf-spectacular would show a
# docstring as the description of every operation.)
class SalesViewSetMixin:
    permission_classes = [IsShopStaff, RolePermissions]
    lookup_value_regex = r"\d+"

    def get_exception_handler(self):
        return sales_exception_handler


def read_only(perms: list[str]) -> dict[str, list[str]]:
    return {"GET": perms, "HEAD": perms, "OPTIONS": perms}


# --- documentation of the errors -----------------------------------------------------------

class TransitionRefusedSerializer(serializers.Serializer):
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text=gettext_lazy("`status`: why the action cannot run."))
    state = serializers.CharField(help_text=gettext_lazy("The document's current status."))
    allowed = serializers.ListField(
        child=serializers.CharField(),
        help_text=gettext_lazy("The actions this user may run on the document now."))


NotFoundSerializer = DetailSerializer  # the API's one `{"detail": ...}` shape


ERROR_404 = OpenApiResponse(
    NotFoundSerializer, description="No such document in this shop.",
    examples=[OpenApiExample("Not found", value={"detail": "Not found."})])
ERROR_409 = OpenApiResponse(
    TransitionRefusedSerializer,
    description="The document's status does not allow this action; nothing changed.")
ERROR_403 = OpenApiResponse(
    TransitionRefusedSerializer,
    description="The role does not allow this action (or reading these documents at all).")


ID_PARAMETER = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH)


def refused_examples(*, document: str, state: str, action: str, allowed: list[str],
                     forbidden_state: str, forbidden_allowed: list[str]) -> list[OpenApiExample]:
    """A 409 (the action is illegal in `state`) and a 403 (the role may not run it from
    `forbidden_state`, where it is legal)."""
    return [
        OpenApiExample(
            "Not possible in this state", response_only=True, status_codes=["409"],
            value={"errors": {"status": [f"{document} is {state}: “{action}” is not possible "
                                         "now."]},
                   "state": state, "allowed": allowed}),
        OpenApiExample(
            "Not allowed for this role", response_only=True, status_codes=["403"],
            value={"errors": {"status": [f"Your role does not allow “{action}”."]},
                   "state": forbidden_state, "allowed": forbidden_allowed}),
    ]


# --- shared read serializers -----------------------------------------------------------------

class CustomerRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    display_name = serializers.CharField()
    email = serializers.EmailField()


class VatRateSerializer(serializers.Serializer):
    rate = serializers.DecimalField(max_digits=5, decimal_places=2,
                                    help_text=gettext_lazy("VAT rate in percent."))
    base = serializers.DecimalField(max_digits=14, decimal_places=2,
                                    help_text=gettext_lazy("Net amount taxed at this rate."))
    vat = serializers.DecimalField(max_digits=14, decimal_places=2)


def vat_breakdown(summary: Totals) -> list[dict[str, Decimal]]:
    return [{"rate": rate, "base": base, "vat": vat}
            for rate, (base, vat) in summary.vat_by_rate.items()]


class ActorSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()


class HistoryEntrySerializer(serializers.Serializer):
    """A document's event (streams.Event) in the shape its history always had here; the
    shop-wide feed and any object's timeline are `GET /events/`."""

    verb = serializers.CharField(help_text=gettext_lazy(
        "What happened: a transition's name, or e.g. `placed`, `created`, `revised`."))
    from_status = serializers.CharField(source="before", allow_blank=True)
    to_status = serializers.CharField(source="after", allow_blank=True)
    by = ActorSerializer(source="actor", allow_null=True,
                         help_text=gettext_lazy("The staff member, if any."))
    by_customer = serializers.SerializerMethodField()
    message = serializers.CharField(allow_blank=True)
    data = serializers.DictField()
    at = serializers.DateTimeField()

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_by_customer(self, event) -> bool:
        return event.actor_kind == ActorKind.CUSTOMER


class DateRangeMixin:
    """`<name>_after` <= `<name>_before` (both inclusive days)."""

    date_range: tuple[str, str] = ("", "")

    def validate(self, attrs: dict) -> dict:
        start, end = self.date_range
        if attrs.get(start) and attrs.get(end) and attrs[start] > attrs[end]:
            raise serializers.ValidationError(
                {end: [_("The end of the range is before its start.")]})
        return attrs


def detail_schema(**kwargs):
    """`extend_schema` for an operation on one document: its `{id}` is an integer."""
    return extend_schema(parameters=[ID_PARAMETER, *kwargs.pop("parameters", [])], **kwargs)

"""What the billing API resources share: refusals that list what is allowed (409 for the
document's state, 403 for the role, as sales answers), binary renderers for the documents,
and the small read serializers both resources print."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiExample, OpenApiResponse
from rest_framework import renderers, serializers

from billing.models import Invoice, Payment
from billing.selectors import invoice_action_possible, invoice_actions
from catalog.api import ErrorSerializer
from sales.api.common import TransitionRefused
from sales.errors import IllegalTransition, TransitionForbidden

T = TypeVar("T")

# How refusals name each action (the same words as the dashboard's buttons).
ACTION_LABELS = {
    "issue": gettext_lazy("Issue"),
    "record_payment": gettext_lazy("Record a payment"),
    "credit_note": gettext_lazy("Make a credit note"),
    "update": gettext_lazy("Edit"),
    "delete": gettext_lazy("Delete"),
    "facturx": gettext_lazy("Factur-X"),
    "refund": gettext_lazy("Refund"),
}


def _refusal(*, document: str, action: str, state: str, allowed: list[str],
             forbidden: bool) -> IllegalTransition:
    label = str(ACTION_LABELS.get(action, action))
    if forbidden:
        return TransitionForbidden(
            document=document, action=label, state=state, allowed=allowed,
            reason=_("Your role does not allow “%(action)s”.") % {"action": label})
    return IllegalTransition(document=document, action=label, state=state, allowed=allowed)


def invoice_require(invoice: Invoice, action: str, user) -> None:
    """Refuse `action` unless the invoice's state allows it (409) and the user's role too
    (403), listing what this user may do instead."""
    allowed = invoice_actions(invoice, user)
    if action in allowed:
        return
    error = _refusal(document=invoice.reference, action=action, allowed=allowed,
                     state=invoice.get_status_display().lower(),
                     forbidden=invoice_action_possible(invoice, action))
    raise TransitionRefused(error, state=invoice.status)


def run_invoice_action(invoice: Invoice, user, run: Callable[[], T]) -> T:
    """Run a billing service; an IllegalTransition it raises (the row moved since this request
    read it) is answered with the invoice's state re-read and what this user may do now. The
    service's transaction has rolled back: nothing changed."""
    try:
        return run()
    except IllegalTransition as exc:
        fresh = Invoice.objects.filter(pk=invoice.pk).first() or invoice
        error = type(exc)(document=exc.document, action=exc.action, state=exc.state,
                          allowed=invoice_actions(fresh, user), reason=exc.message)
        raise TransitionRefused(error, state=fresh.status) from exc


def payment_actions(payment: Payment, user) -> list[str]:
    return ["refund"] if payment.refundable > 0 and user.has_perm(
        "billing.refund_payment") else []


def payment_require_refund(payment: Payment, user) -> None:
    allowed = payment_actions(payment, user)
    if "refund" in allowed:
        return
    error = _refusal(document=str(_("Payment %(id)s") % {"id": payment.pk}), action="refund",
                     allowed=allowed, state=payment.get_status_display().lower(),
                     forbidden=payment.refundable > 0)
    raise TransitionRefused(error, state=payment.status)


# --- documents ---------------------------------------------------------------------------------

class _Binary(renderers.BaseRenderer):
    """Lets a client ask for the document's type (`Accept: application/pdf`); the document
    itself is answered as it is. An error body on such a request is JSON."""

    charset = None
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, bytes):
            return data
        return renderers.JSONRenderer().render(data)


class PDFRenderer(_Binary):
    media_type = "application/pdf"
    format = "pdf"


class XMLRenderer(_Binary):
    media_type = "application/xml"
    format = "xml"


ERROR_503 = OpenApiResponse(
    ErrorSerializer, description="The document cannot be made right now; try again later.",
    examples=[OpenApiExample("Not available", value={"errors": {"non_field_errors": [
        "The PDF of F-2026-00012 cannot be made right now. Try again later."]}})])


# --- shared read serializers ---------------------------------------------------------------------

class DocumentRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    number = serializers.CharField(allow_null=True)
    status = serializers.CharField()
    gross_total = serializers.DecimalField(max_digits=14, decimal_places=2)


class OrderNumberSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()

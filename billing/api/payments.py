"""Payments: read (card payments from Stripe Checkout, money recorded by staff), recorded by
hand (`record`: transfer, cheque, cash) and refunded (`refund`), by
`billing.services.payments`. Card payments are created by the customer's checkout and
confirmed by Stripe's webhook, never through this API."""

from __future__ import annotations

from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from billing import selectors
from billing.api.common import (
    OrderNumberSerializer,
    invoice_require,
    payment_actions,
    payment_require_refund,
    run_invoice_action,
)
from billing.api.invoices import RefundRefSerializer
from billing.models import MANUAL_METHODS, Payment, PaymentMethod, PaymentStatus
from billing.services.payments import payment_record, payment_refund
from catalog.api import ERROR_400
from sales.api.common import (
    ERROR_403,
    ERROR_404,
    ERROR_409,
    CustomerRefSerializer,
    SalesViewSetMixin,
    detail_schema,
    read_only,
    refused_examples,
)

VIEW = ["billing.view_payment"]


# --- output ----------------------------------------------------------------------------------

class InvoiceRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField(allow_null=True)
    status = serializers.CharField()


class PaymentSerializer(serializers.ModelSerializer):
    customer = CustomerRefSerializer(read_only=True)
    invoice = InvoiceRefSerializer(read_only=True, allow_null=True, help_text=gettext_lazy(
        "The invoice it pays (a card payment for an order gets the order's invoice once "
        "paid)."))
    order = OrderNumberSerializer(read_only=True, allow_null=True)
    refundable = serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True,
                                          help_text=gettext_lazy(
                                              "What can still be refunded on it."))

    class Meta:
        model = Payment
        fields = ["id", "method", "status", "amount", "amount_refunded", "refundable",
                  "currency", "customer", "invoice", "order", "received_on", "reference",
                  "note", "checkout_session_id", "payment_intent_id", "application_fee",
                  "failure_message", "created_at", "succeeded_at", "failed_at"]
        read_only_fields = fields


class PaymentDetailSerializer(PaymentSerializer):
    refunds = RefundRefSerializer(many=True, read_only=True, source="refunds.all",
                                  help_text=gettext_lazy(
                                      "Money given back, each with its credit note."))
    allowed_actions = serializers.ListField(child=serializers.CharField(), read_only=True,
                                            help_text=gettext_lazy("`refund`, or nothing."))

    class Meta(PaymentSerializer.Meta):
        fields = PaymentSerializer.Meta.fields + ["refunds", "allowed_actions"]
        read_only_fields = fields


def payment_detail(payment: Payment, user) -> dict:
    payment = selectors.payment_get(pk=payment.pk)
    payment.allowed_actions = payment_actions(payment, user)
    return PaymentDetailSerializer(payment).data


# --- input -----------------------------------------------------------------------------------

class RecordSerializer(serializers.Serializer):
    invoice = serializers.IntegerField(help_text=gettext_lazy("The issued invoice it pays."))
    method = serializers.ChoiceField(choices=[(m.value, m.label) for m in MANUAL_METHODS])
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, help_text=gettext_lazy(
        "Incl. VAT; at most what is still owed on the invoice."))
    received_on = serializers.DateField(required=False, help_text=gettext_lazy(
        "Today when left out; never in the future."))
    reference = serializers.CharField(required=False, allow_blank=True, max_length=100,
                                      default="", help_text=gettext_lazy(
                                          "Cheque number, transfer reference…"))
    note = serializers.CharField(required=False, allow_blank=True, default="")

    def validate_invoice(self, value: int):
        invoice = selectors.invoice_get(pk=value)
        if invoice is None:
            raise serializers.ValidationError(_("No invoice with this id."))
        return invoice


class RefundSerializer(serializers.Serializer):
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, help_text=gettext_lazy(
        "Incl. VAT; at most what is still refundable on the payment."))
    reason = serializers.CharField(max_length=2000, help_text=gettext_lazy(
        "Printed on the credit note made for it."))


class PaymentListQuerySerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=PaymentStatus.choices, required=False)
    method = serializers.ChoiceField(choices=PaymentMethod.choices, required=False)
    invoice = serializers.IntegerField(required=False, help_text=gettext_lazy("An invoice id."))
    order = serializers.IntegerField(required=False, help_text=gettext_lazy("An order id."))
    customer = serializers.IntegerField(required=False, help_text=gettext_lazy("A customer id."))
    ordering = serializers.ChoiceField(choices=["-created_at", "created_at", "amount", "-amount"],
                                       required=False, default="-created_at")


# --- documentation ---------------------------------------------------------------------------

PAYMENT_EXAMPLE = {
    "id": 31, "method": "bank_transfer", "status": "succeeded", "amount": "500.00",
    "amount_refunded": "0.00", "refundable": "500.00", "currency": "EUR",
    "customer": {"id": 7, "display_name": "Atelier Lumière (Marie Curie)",
                 "email": "marie@atelier-lumiere.fr"},
    "invoice": {"id": 21, "number": "F-2026-00012", "status": "partially_paid"},
    "order": {"id": 5, "number": "C-2026-00005"}, "received_on": "2026-03-10",
    "reference": "VIR 0310 LUMIERE", "note": "", "checkout_session_id": None,
    "payment_intent_id": "", "application_fee": "0.00", "failure_message": "",
    "created_at": "2026-03-10T10:00:00Z", "succeeded_at": "2026-03-10T10:00:00Z",
    "failed_at": None}
PAYMENT_DETAIL_EXAMPLE = {**PAYMENT_EXAMPLE, "refunds": [], "allowed_actions": ["refund"]}
REFUNDED_EXAMPLE = {
    **PAYMENT_DETAIL_EXAMPLE, "amount_refunded": "100.00", "refundable": "400.00",
    "refunds": [{"id": 3, "amount": "100.00", "status": "succeeded",
                 "reason": "One wheel returned.", "credit_note": 22,
                 "created_at": "2026-03-12T15:00:00Z"}]}


@extend_schema_view(
    list=extend_schema(
        summary="List payments",
        description="Card payments (one per checkout attempt: pending until Stripe confirms, "
                    "then succeeded or failed) and money recorded by staff.",
        parameters=[PaymentListQuerySerializer],
        examples=[OpenApiExample("Payments", response_only=True, value=PAYMENT_EXAMPLE)]),
    retrieve=detail_schema(
        summary="A payment, with its refunds and allowed actions",
        responses={200: PaymentDetailSerializer, 404: ERROR_404},
        examples=[OpenApiExample("Payment", response_only=True, value=REFUNDED_EXAMPLE)]),
)
@extend_schema(tags=["payments"])
class PaymentViewSet(SalesViewSetMixin, viewsets.GenericViewSet):
    serializer_class = PaymentSerializer
    permissions_by_method = read_only(VIEW)
    # Both need only to read payments here; the role (record_payment, refund_payment) is
    # checked with the state, and a refusal lists what this user may do instead.
    permissions_by_action = {"record": VIEW + ["billing.view_invoice"], "refund": VIEW}

    def get_queryset(self):
        # Only for DRF's generic machinery (schema); `list` filters its own.
        return selectors.payments_filtered()

    def get_object(self) -> Payment:
        payment = selectors.payment_get(pk=int(self.kwargs["pk"]))
        if payment is None:
            raise Http404
        return payment

    def list(self, request):
        query = PaymentListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        payments = selectors.payments_filtered(
            status=params.get("status", ""), method=params.get("method", ""),
            invoice=params.get("invoice"), order=params.get("order"),
            customer=params.get("customer"), sort=params["ordering"])
        page = self.paginate_queryset(payments)
        return self.get_paginated_response(PaymentSerializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return Response(payment_detail(self.get_object(), request.user))

    @extend_schema(
        summary="Record money received by hand (transfer, cheque, cash)",
        description="On an issued invoice; partial payments are fine, more than what is "
                    "still owed is refused (400) and nothing is recorded. The invoice's status "
                    "follows its balance (partially paid, paid). Needs `billing.record_payment`; "
                    "an invoice not waiting for money answers 409.",
        request=RecordSerializer,
        responses={201: PaymentDetailSerializer, 400: ERROR_400, 403: ERROR_403,
                   409: ERROR_409},
        examples=[
            OpenApiExample("A transfer", request_only=True, value={
                "invoice": 21, "method": "bank_transfer", "amount": "500.00",
                "received_on": "2026-03-10", "reference": "VIR 0310 LUMIERE"}),
            OpenApiExample("Recorded", response_only=True, status_codes=["201"],
                           value=PAYMENT_DETAIL_EXAMPLE),
            OpenApiExample("Too much", response_only=True, status_codes=["400"], value={
                "errors": {"amount": ["2000.00 is more than what is still owed on "
                                      "F-2026-00012 (1347.10): nothing was recorded."]}}),
            *refused_examples(document="F-2026-00012", state="paid",
                              action="Record a payment", allowed=["credit_note"],
                              forbidden_state="issued", forbidden_allowed=[]),
        ])
    @action(detail=False, methods=["post"])
    def record(self, request):
        serializer = RecordSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        invoice = data.pop("invoice")
        invoice_require(invoice, "record_payment", request.user)
        payment = run_invoice_action(invoice, request.user, lambda: payment_record(
            invoice=invoice, by=request.user, **data))
        return Response(payment_detail(payment, request.user), status=status.HTTP_201_CREATED)

    @detail_schema(
        summary="Refund a payment (full or partial)",
        description="A card payment is refunded through Stripe (idempotent); money paid by "
                    "hand is recorded as given back. The invoice it paid gets a credit note "
                    "for the amount, issued at once. Needs `billing.refund_payment`; a "
                    "payment with nothing left to refund answers 409.",
        request=RefundSerializer,
        responses={201: PaymentDetailSerializer, 400: ERROR_400, 403: ERROR_403,
                   404: ERROR_404, 409: ERROR_409},
        examples=[
            OpenApiExample("Part of it", request_only=True,
                           value={"amount": "100.00", "reason": "One wheel returned."}),
            OpenApiExample("Refunded", response_only=True, status_codes=["201"],
                           value=REFUNDED_EXAMPLE),
            *refused_examples(document="Payment 31", state="failed", action="Refund",
                              allowed=[], forbidden_state="succeeded", forbidden_allowed=[]),
        ])
    @action(detail=True, methods=["post"])
    def refund(self, request, pk=None):
        payment = self.get_object()
        payment_require_refund(payment, request.user)
        serializer = RefundSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        payment_refund(payment=payment, by=request.user, **serializer.validated_data)
        return Response(payment_detail(payment, request.user), status=status.HTTP_201_CREATED)

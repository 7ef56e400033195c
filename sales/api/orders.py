"""Orders: read, and driven through their states, one action per transition, by
`sales.services.orders.order_transition`. Orders are placed by the storefront checkout or by
converting an accepted quote, never created through this API."""

from __future__ import annotations

from django.http import Http404
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from catalog.api import ERROR_400
from sales import selectors
from sales.api.common import (
    ERROR_403,
    ERROR_409,
    CustomerRefSerializer,
    DateRangeMixin,
    HistoryEntrySerializer,
    SalesViewSetMixin,
    VatRateSerializer,
    detail_schema,
    read_only,
    refused_examples,
    run_transition,
    vat_breakdown,
)
from sales.models import Order, OrderStatus
from sales.services.orders import order_transition
from sales.services.workflow import allowed_actions

VIEW = ["sales.view_order"]


# --- output ----------------------------------------------------------------------------------

class OrderLineSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    product = serializers.IntegerField(source="product_id", allow_null=True, help_text=(
        gettext_lazy("The catalog product it was made from, if any. The line keeps its own "
                     "copy of name, SKU, price and VAT rate.")))
    name = serializers.CharField()
    sku = serializers.CharField(allow_blank=True)
    quantity = serializers.DecimalField(max_digits=14, decimal_places=3)
    unit = serializers.CharField()
    unit_net = serializers.DecimalField(max_digits=14, decimal_places=2)
    tax_rate = serializers.DecimalField(max_digits=5, decimal_places=2)
    discount_percent = serializers.DecimalField(max_digits=5, decimal_places=2)
    position = serializers.IntegerField()
    net = serializers.DecimalField(max_digits=14, decimal_places=2)
    vat = serializers.DecimalField(max_digits=14, decimal_places=2)
    gross = serializers.DecimalField(max_digits=14, decimal_places=2)


class AddressSnapshotSerializer(serializers.Serializer):
    """The address as the order keeps it (later edits of the address book never change it)."""

    full_name = serializers.CharField(required=False)
    company = serializers.CharField(required=False, allow_blank=True)
    line1 = serializers.CharField(required=False)
    line2 = serializers.CharField(required=False, allow_blank=True)
    postal_code = serializers.CharField(required=False)
    city = serializers.CharField(required=False)
    country = serializers.CharField(required=False)
    phone = serializers.CharField(required=False, allow_blank=True)


class QuoteRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    reference = serializers.CharField()


class OrderListSerializer(serializers.ModelSerializer):
    customer = CustomerRefSerializer(read_only=True)

    class Meta:
        model = Order
        fields = ["id", "number", "status", "source", "customer", "email", "payment_method",
                  "currency", "net_total", "vat_total", "gross_total", "placed_at",
                  "confirmed_at", "shipped_at", "delivered_at", "cancelled_at"]
        read_only_fields = fields


class OrderDetailSerializer(OrderListSerializer):
    quote = QuoteRefSerializer(read_only=True, allow_null=True,
                               help_text=gettext_lazy("The quote it was converted from."))
    billing_address = AddressSnapshotSerializer(read_only=True)
    shipping_address = AddressSnapshotSerializer(read_only=True, help_text=gettext_lazy(
        "Empty for a pickup."))
    lines = OrderLineSerializer(many=True, read_only=True, source="detail_lines")
    vat_breakdown = VatRateSerializer(many=True, read_only=True, help_text=gettext_lazy(
        "Goods and shipping, per VAT rate."))
    allowed_actions = serializers.ListField(
        child=serializers.CharField(), read_only=True, help_text=gettext_lazy(
            "The transitions this user may run now, in button order."))
    history = HistoryEntrySerializer(many=True, read_only=True)

    class Meta(OrderListSerializer.Meta):
        fields = OrderListSerializer.Meta.fields + [
            "quote", "billing_address", "shipping_address", "shipping_name", "shipping_net",
            "shipping_tax_rate", "discount_percent", "customer_note", "tracking_reference",
            "cancel_reason", "lines", "vat_breakdown", "allowed_actions", "history"]
        read_only_fields = fields


def order_detail(order: Order, user) -> dict:
    """Everything an order's detail shows, for this user."""
    order = selectors.order_get(pk=order.pk)
    lines = list(order.lines.all())
    order.detail_lines = lines
    order.vat_breakdown = vat_breakdown(order.compute_totals(lines))
    order.allowed_actions = allowed_actions(order, user)
    order.history = list(selectors.order_history(order))
    return OrderDetailSerializer(order).data


# --- input -----------------------------------------------------------------------------------

class ShipSerializer(serializers.Serializer):
    tracking = serializers.CharField(max_length=100, required=False, allow_blank=True,
                                     default="", help_text=gettext_lazy(
                                         "The carrier's tracking reference."))


class OrderCancelSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, help_text=gettext_lazy(
        "Why the order is cancelled; the customer reads it."))


ORDER_ORDERINGS = ["-placed_at", "placed_at", "gross_total", "-gross_total", "number",
                   "-number"]


class OrderListQuerySerializer(DateRangeMixin, serializers.Serializer):
    date_range = ("placed_after", "placed_before")

    status = serializers.ChoiceField(choices=OrderStatus.choices, required=False)
    customer = serializers.IntegerField(required=False, help_text=gettext_lazy("A customer id."))
    placed_after = serializers.DateField(required=False, help_text=gettext_lazy(
        "Placed on or after this day."))
    placed_before = serializers.DateField(required=False, help_text=gettext_lazy(
        "Placed on or before this day."))
    q = serializers.CharField(required=False, allow_blank=True, help_text=gettext_lazy(
        "Part of the number, email, or the customer's last name or company name."))
    ordering = serializers.ChoiceField(choices=ORDER_ORDERINGS, required=False,
                                       default="-placed_at")


# --- documentation ---------------------------------------------------------------------------

ADDRESS = {"full_name": "Marie Curie", "company": "Atelier Lumière",
           "line1": "12 rue des Écoles", "line2": "", "postal_code": "75005", "city": "Paris",
           "country": "FR", "phone": ""}
ORDER_EXAMPLE = {
    "id": 5, "number": "C-2026-00005", "status": "pending", "source": "quote",
    "customer": {"id": 7, "display_name": "Atelier Lumière (Marie Curie)",
                 "email": "marie@atelier-lumiere.fr"},
    "email": "marie@atelier-lumiere.fr", "payment_method": "bank_transfer", "currency": "EUR",
    "net_total": "1547.50", "vat_total": "299.60", "gross_total": "1847.10",
    "placed_at": "2026-03-03T08:30:00Z", "confirmed_at": None, "shipped_at": None,
    "delivered_at": None, "cancelled_at": None}
ORDER_DETAIL_EXAMPLE = {
    **ORDER_EXAMPLE, "quote": {"id": 12, "reference": "D-2026-00012"},
    "billing_address": ADDRESS, "shipping_address": ADDRESS, "shipping_name": "",
    "shipping_net": "0.00", "shipping_tax_rate": "0.00", "discount_percent": "0.00",
    "customer_note": "", "tracking_reference": "", "cancel_reason": "",
    "lines": [
        {"id": 9, "product": 42, "name": "Road bike 54 cm", "sku": "BIKE-ROAD-54",
         "quantity": "2.000", "unit": "unit", "unit_net": "749.00", "tax_rate": "20.00",
         "discount_percent": "0.00", "position": 0, "net": "1498.00", "vat": "299.60",
         "gross": "1797.60"},
        {"id": 10, "product": None, "name": "Delivery and assembly", "sku": "",
         "quantity": "1.000", "unit": "unit", "unit_net": "49.50", "tax_rate": "0.00",
         "discount_percent": "0.00", "position": 1, "net": "49.50", "vat": "0.00",
         "gross": "49.50"}],
    "vat_breakdown": [{"rate": "0.00", "base": "49.50", "vat": "0.00"},
                      {"rate": "20.00", "base": "1498.00", "vat": "299.60"}],
    "allowed_actions": ["confirm", "cancel"],
    "history": [{"verb": "placed", "from_status": "", "to_status": "",
                 "by": {"id": 1, "email": "owner@acme.example"}, "by_customer": False,
                 "message": "",
                 "data": {"source": "quote", "gross_total": "1847.10", "currency": "EUR"},
                 "at": "2026-03-03T08:30:00Z"}]}


def _transition_schema(label: str, *, source: str, target: str, allowed_after: list[str],
                       role: str, stock: str = "", request=None, example: dict | None = None,
                       result: dict | None = None, refused_state: str = "delivered",
                       refused_allowed: tuple[str, ...] = (), legal_in: str = "",
                       legal_allowed: tuple[str, ...] = ()):
    return detail_schema(
        summary=f"{label} ({source} → {target})",
        description=f"Needs the `{role}` permission (the service checks it and answers 403 "
                    f"with the actions this user may run). {stock}".strip(),
        request=request,
        responses={200: OrderDetailSerializer, 400: ERROR_400, 403: ERROR_403, 409: ERROR_409},
        examples=[
            *([OpenApiExample(label, request_only=True, value=example)] if example else []),
            OpenApiExample("Done", response_only=True, value={
                **ORDER_DETAIL_EXAMPLE, "status": target, "allowed_actions": allowed_after,
                **(result or {})}),
            *refused_examples(document="C-2026-00005", state=refused_state, action=label,
                              allowed=list(refused_allowed),
                              forbidden_state=legal_in or source,
                              forbidden_allowed=list(legal_allowed)),
        ])


@extend_schema_view(
    list=extend_schema(
        summary="List orders",
        description="Orders are placed by the storefront checkout or by converting an "
                    "accepted quote (`POST /quotes/{id}/convert/`): this API never creates "
                    "one directly.",
        parameters=[OrderListQuerySerializer],
        examples=[OpenApiExample("Orders", response_only=True, value=ORDER_EXAMPLE)]),
    retrieve=detail_schema(
        summary="An order: lines, totals, VAT per rate, addresses, allowed actions, history",
        responses=OrderDetailSerializer,
        examples=[OpenApiExample("Pending order", response_only=True,
                                 value=ORDER_DETAIL_EXAMPLE)]),
)
@extend_schema(tags=["orders"])
class OrderViewSet(SalesViewSetMixin, viewsets.GenericViewSet):
    serializer_class = OrderListSerializer
    permissions_by_method = read_only(VIEW)
    # Transitions need only to read orders here: the service checks the permission each
    # transition declares (sales confirms, warehouse ships, manager cancels).
    permissions_by_action = {name: VIEW for name in (
        "confirm", "start_processing", "ship", "deliver", "cancel")}

    def get_queryset(self):
        # Only for DRF's generic machinery (schema); `list` filters its own.
        return selectors.orders_for_dashboard()

    def get_object(self) -> Order:
        order = selectors.order_get(pk=int(self.kwargs["pk"]))
        if order is None:
            raise Http404
        return order

    def list(self, request):
        query = OrderListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        orders = selectors.orders_for_dashboard(
            q=params.get("q", ""), status=params.get("status", ""),
            customer=params.get("customer"), date_from=params.get("placed_after"),
            date_to=params.get("placed_before"), sort=params["ordering"])
        page = self.paginate_queryset(orders)
        return self.get_paginated_response(OrderListSerializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return Response(order_detail(self.get_object(), request.user))

    def _transition(self, request, action_name: str, **kwargs) -> Response:
        order = self.get_object()
        order = run_transition(order, lambda: order_transition(
            order=order, action=action_name, by=request.user, **kwargs))
        return Response(order_detail(order, request.user))

    @_transition_schema("Confirm order", source="pending", target="confirmed",
                        allowed_after=["start_processing", "cancel"], role="sales.confirm_order",
                        result={"confirmed_at": "2026-03-03T09:00:00Z"})
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        return self._transition(request, "confirm")

    @_transition_schema("Start preparing", source="confirmed",
                        target="processing", allowed_after=["ship", "cancel"],
                        role="sales.process_order")
    @action(detail=True, methods=["post"], url_path="start-processing")
    def start_processing(self, request, pk=None):
        return self._transition(request, "start_processing")

    @_transition_schema("Mark shipped", source="processing", target="shipped",
                        allowed_after=["deliver"], role="sales.ship_order",
                        stock="The reserved stock becomes a sale.", request=ShipSerializer,
                        example={"tracking": "6A12345678901"},
                        result={"tracking_reference": "6A12345678901",
                                "shipped_at": "2026-03-04T14:00:00Z"})
    @action(detail=True, methods=["post"])
    def ship(self, request, pk=None):
        serializer = ShipSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return self._transition(request, "ship", **serializer.validated_data)

    @_transition_schema("Mark delivered", source="shipped", target="delivered",
                        allowed_after=[], role="sales.deliver_order", refused_state="pending",
                        refused_allowed=("confirm", "cancel"),
                        result={"delivered_at": "2026-03-06T11:00:00Z"})
    @action(detail=True, methods=["post"])
    def deliver(self, request, pk=None):
        return self._transition(request, "deliver")

    @_transition_schema("Cancel order", source="pending, confirmed or processing",
                        target="cancelled", allowed_after=[], role="sales.cancel_order",
                        legal_in="pending", legal_allowed=("confirm",),
                        stock="The reserved stock is released (a reserved lot becomes "
                              "available again).",
                        request=OrderCancelSerializer,
                        example={"reason": "The customer changed their mind."},
                        result={"cancel_reason": "The customer changed their mind.",
                                "cancelled_at": "2026-03-03T10:00:00Z"})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        serializer = OrderCancelSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return self._transition(request, "cancel", **serializer.validated_data)

"""Quotes: built from catalog or free lines, edited while draft, and driven through their
workflow (send, accept, decline, convert, cancel, revise) by `sales.services.quotes`."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ObjectDoesNotExist
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
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from catalog import selectors as catalog_selectors
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
from sales.api.orders import ORDER_DETAIL_EXAMPLE, OrderDetailSerializer, order_detail
from sales.models import Customer, Quote, QuoteStatus
from sales.services.quotes import (
    quote_accept,
    quote_cancel,
    quote_convert,
    quote_create,
    quote_decline,
    quote_line_add,
    quote_line_amounts,
    quote_line_input,
    quote_line_remove,
    quote_line_update,
    quote_revise,
    quote_send,
    quote_update,
)
from sales.services.workflow import allowed_actions
from tenants.urls_util import shop_url

VIEW = ["sales.view_quote"]
ADD = ["sales.add_quote"]
CHANGE = ["sales.change_quote"]


# --- output ----------------------------------------------------------------------------------

class QuoteLineSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    product = serializers.IntegerField(source="product_id", allow_null=True, help_text=(
        gettext_lazy("The catalog product it was made from; empty for a free line.")))
    name = serializers.CharField()
    sku = serializers.CharField(allow_blank=True)
    quantity = serializers.DecimalField(max_digits=14, decimal_places=3)
    unit = serializers.CharField()
    unit_net = serializers.DecimalField(max_digits=14, decimal_places=2,
                                        help_text=gettext_lazy("Unit price excl. VAT."))
    tax_rate = serializers.DecimalField(max_digits=5, decimal_places=2,
                                        help_text=gettext_lazy("VAT rate in percent."))
    discount_percent = serializers.DecimalField(max_digits=5, decimal_places=2)
    position = serializers.IntegerField()
    net = serializers.DecimalField(max_digits=14, decimal_places=2, source="amounts.net",
                                   help_text=gettext_lazy(
                                       "Line total excl. VAT, after the line's and the quote's "
                                       "discounts, rounded per line."))
    vat = serializers.DecimalField(max_digits=14, decimal_places=2, source="amounts.vat")
    gross = serializers.DecimalField(max_digits=14, decimal_places=2, source="amounts.gross")


class QuoteListSerializer(serializers.ModelSerializer):
    reference = serializers.CharField(read_only=True, help_text=gettext_lazy(
        "The number, with `-R<revision>` from the second revision on."))
    customer = CustomerRefSerializer(read_only=True)

    class Meta:
        model = Quote
        fields = ["id", "number", "revision", "reference", "status", "source", "customer",
                  "valid_until", "discount_percent", "currency", "net_total", "vat_total",
                  "gross_total", "created_at", "sent_at", "accepted_at", "closed_at"]
        read_only_fields = fields


class QuoteRevisionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    revision = serializers.IntegerField()
    reference = serializers.CharField()
    status = serializers.CharField()
    created_at = serializers.DateTimeField()


class OrderRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    status = serializers.CharField()


class QuoteDetailSerializer(QuoteListSerializer):
    lines = QuoteLineSerializer(many=True, source="detail_lines")
    vat_breakdown = VatRateSerializer(many=True)
    allowed_actions = serializers.ListField(
        child=serializers.CharField(), help_text=gettext_lazy(
            "The workflow actions this user may run now, in button order (send, convert, "
            "accept, decline, cancel). Drafts are edited directly; a sent quote is revised."))
    previous = serializers.IntegerField(source="previous_id", allow_null=True,
                                        help_text=gettext_lazy("The revision this one replaces."))
    revisions = QuoteRevisionSerializer(many=True, help_text=gettext_lazy(
        "Every revision of this quote number, newest first."))
    order = OrderRefSerializer(source="converted_order", allow_null=True,
                               help_text=gettext_lazy("The order it became, once converted."))
    history = HistoryEntrySerializer(many=True)

    class Meta(QuoteListSerializer.Meta):
        fields = QuoteListSerializer.Meta.fields + [
            "terms", "notes", "lines", "vat_breakdown", "allowed_actions", "accepted_name",
            "declined_at", "decline_reason", "conversion_problem", "previous", "revisions",
            "order", "history"]
        read_only_fields = fields


def quote_detail(quote: Quote, user) -> dict:
    """Everything a quote's detail shows, for this user: lines priced, VAT per rate, the
    actions they may run, revisions, the order it became, history."""
    quote = selectors.quote_get(pk=quote.pk)
    lines = list(quote.lines.all())
    for line in lines:
        line.amounts = quote_line_amounts(line, quote)
    quote.detail_lines = lines
    quote.vat_breakdown = vat_breakdown(quote.compute_totals(lines))
    quote.allowed_actions = allowed_actions(quote, user)
    quote.revisions = list(selectors.quote_revisions(quote))
    quote.history = list(selectors.quote_history(quote))
    try:
        quote.converted_order = quote.order
    except ObjectDoesNotExist:
        quote.converted_order = None
    return QuoteDetailSerializer(quote).data


# --- input -----------------------------------------------------------------------------------

def _amount(max_digits: int, decimal_places: int, **kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=max_digits, decimal_places=decimal_places,
                                    **kwargs)


def _percent(**kwargs) -> serializers.DecimalField:
    return _amount(5, 2, min_value=0, max_value=100, **kwargs)


class QuoteLineInputSerializer(serializers.Serializer):
    """A catalog line (`product` + `quantity`, its price and VAT unless overridden) or a free
    line (`name`, `quantity`, `unit_net`, `tax_rate`)."""

    product = serializers.IntegerField(required=False, allow_null=True, help_text=gettext_lazy(
        "A catalog product id; leave out for a free line."))
    name = serializers.CharField(required=False, allow_blank=True, max_length=200,
                                 help_text=gettext_lazy("Defaults to the product's name."))
    quantity = _amount(14, 3, min_value=Decimal("0.001"), max_value=999999)
    unit_net = _amount(14, 2, min_value=0, max_value=999999999, required=False,
                       allow_null=True, help_text=gettext_lazy(
                           "Unit price excl. VAT; defaults to the product's current price."))
    tax_rate = _percent(required=False, allow_null=True, help_text=gettext_lazy(
        "VAT rate in percent, e.g. 20.00; defaults to the product's rate."))
    discount_percent = _percent(required=False, default=0)

    def validate_product(self, value: int | None):
        if value is None:
            return None
        product = catalog_selectors.product_get(pk=value)
        if product is None:
            raise serializers.ValidationError(_("No product with this id."))
        if product.is_archived:
            raise serializers.ValidationError(_("This product is archived: it cannot be quoted."))
        return product

    def validate(self, attrs: dict) -> dict:
        if attrs.get("product") is None:
            required = {key: [_("Required for a line without a product.")]
                        for key in ("name", "unit_net", "tax_rate")
                        if attrs.get(key) in (None, "")}
            if required:
                raise serializers.ValidationError(required)
        return attrs


def line_input(data: dict):
    return quote_line_input(
        product=data.get("product"), name=data.get("name", ""), quantity=data["quantity"],
        unit_net=data.get("unit_net"), tax_rate=data.get("tax_rate"),
        discount_percent=data.get("discount_percent", 0))


class QuoteHeaderSerializer(serializers.Serializer):
    valid_until = serializers.DateField(help_text=gettext_lazy(
        "Last day the customer may accept; 30 days from today when left out on create."))
    discount_percent = _percent(help_text=gettext_lazy(
        "Global discount in percent, applied to every line."))
    terms = serializers.CharField(allow_blank=True)
    notes = serializers.CharField(allow_blank=True, help_text=gettext_lazy(
        "Shown to the customer."))


class QuoteCreateSerializer(QuoteHeaderSerializer):
    customer = serializers.IntegerField(help_text=gettext_lazy("A customer id."))
    lines = QuoteLineInputSerializer(many=True, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("valid_until", "discount_percent", "terms", "notes"):
            self.fields[name].required = False

    def validate_customer(self, value: int) -> Customer:
        customer = selectors.customer_get(pk=value)
        if customer is None:
            raise serializers.ValidationError(_("No customer with this id."))
        return customer


class QuoteLineUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(required=False, max_length=200)
    quantity = _amount(14, 3, min_value=Decimal("0.001"), max_value=999999, required=False)
    unit_net = _amount(14, 2, min_value=0, max_value=999999999, required=False)
    tax_rate = _percent(required=False)
    discount_percent = _percent(required=False)


class AcceptSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=150, help_text=gettext_lazy(
        "The signer's full name, as they gave it."))
    accept_terms = serializers.BooleanField(help_text=gettext_lazy(
        "The customer accepted the quote's terms; must be true."))


class DeclineSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, help_text=gettext_lazy(
        "Why the customer declined."))


class CancelSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True,
                                   default="", help_text=gettext_lazy("Kept in the history."))


QUOTE_ORDERINGS = ["-created_at", "created_at", "valid_until", "-valid_until", "gross_total",
                   "-gross_total", "number", "-number"]
STATUS_FILTERS = [*QuoteStatus.choices, ("open", gettext_lazy("Open (draft, sent or accepted)"))]


class QuoteListQuerySerializer(DateRangeMixin, serializers.Serializer):
    date_range = ("created_after", "created_before")

    status = serializers.ChoiceField(choices=STATUS_FILTERS, required=False, help_text=(
        gettext_lazy("Superseded revisions are left out unless asked for.")))
    customer = serializers.IntegerField(required=False, help_text=gettext_lazy("A customer id."))
    created_after = serializers.DateField(required=False, help_text=gettext_lazy(
        "Created on or after this day."))
    created_before = serializers.DateField(required=False, help_text=gettext_lazy(
        "Created on or before this day."))
    q = serializers.CharField(required=False, allow_blank=True, help_text=gettext_lazy(
        "Part of the number, or of the customer's email, last name or company name."))
    ordering = serializers.ChoiceField(choices=QUOTE_ORDERINGS, required=False,
                                       default="-created_at")


# --- documentation ---------------------------------------------------------------------------

CUSTOMER_REF = {"id": 7, "display_name": "Atelier Lumière (Marie Curie)",
                "email": "marie@atelier-lumiere.fr"}
QUOTE_EXAMPLE = {
    "id": 12, "number": "D-2026-00012", "revision": 1, "reference": "D-2026-00012",
    "status": "draft", "source": "staff", "customer": CUSTOMER_REF, "valid_until": "2026-04-01",
    "discount_percent": "0.00", "currency": "EUR", "net_total": "1547.50",
    "vat_total": "299.80", "gross_total": "1847.30", "created_at": "2026-03-02T09:15:00Z",
    "sent_at": None, "accepted_at": None, "closed_at": None}
QUOTE_DETAIL_EXAMPLE = {
    **QUOTE_EXAMPLE, "terms": "Payment within 30 days.", "notes": "Installation included.",
    "lines": [
        {"id": 31, "product": 42, "name": "Road bike 54 cm", "sku": "BIKE-ROAD-54",
         "quantity": "2.000", "unit": "unit", "unit_net": "749.00", "tax_rate": "20.00",
         "discount_percent": "0.00", "position": 0, "net": "1498.00", "vat": "299.60",
         "gross": "1797.60"},
        {"id": 32, "product": None, "name": "Delivery and assembly", "sku": "",
         "quantity": "1.000", "unit": "unit", "unit_net": "49.50", "tax_rate": "0.00",
         "discount_percent": "0.00", "position": 1, "net": "49.50", "vat": "0.00",
         "gross": "49.50"}],
    "vat_breakdown": [{"rate": "0.00", "base": "49.50", "vat": "0.00"},
                      {"rate": "20.00", "base": "1498.00", "vat": "299.60"}],
    "allowed_actions": ["send", "cancel"], "accepted_name": "", "declined_at": None,
    "decline_reason": "", "conversion_problem": "", "previous": None,
    "revisions": [{"id": 12, "revision": 1, "reference": "D-2026-00012", "status": "draft",
                   "created_at": "2026-03-02T09:15:00Z"}],
    "order": None,
    "history": [{"verb": "created", "from_status": "", "to_status": "",
                 "by": {"id": 1, "email": "owner@acme.example"}, "by_customer": False,
                 "message": "", "data": {}, "at": "2026-03-02T09:15:00Z"}]}
SENT = {**QUOTE_DETAIL_EXAMPLE, "status": "sent", "sent_at": "2026-03-02T10:00:00Z",
        "allowed_actions": ["accept", "decline", "cancel"]}
CONVERTED = {**SENT, "status": "converted", "accepted_at": "2026-03-03T08:30:00Z",
             "accepted_name": "Marie Curie", "closed_at": "2026-03-03T08:30:00Z",
             "allowed_actions": [],
             "order": {"id": 5, "number": "C-2026-00005", "status": "pending"}}


def _refused(state: str, action: str, allowed: list[str], *,
             legal_in: str = "sent") -> list[OpenApiExample]:
    return refused_examples(document="D-2026-00012", state=state, action=action,
                            allowed=allowed, forbidden_state=legal_in, forbidden_allowed=[])


def _quote_action(summary: str, *, description: str = "", request=None, examples=(),
                  code: int = 200, response=QuoteDetailSerializer, response_example=None,
                  also: dict | None = None):
    return detail_schema(
        summary=summary, description=description, request=request,
        responses={code: response, **(also or {}), 400: ERROR_400, 403: ERROR_403,
                   409: ERROR_409},
        examples=[*examples,
                  OpenApiExample("Done", response_only=True, status_codes=[str(code)],
                                 value=response_example or SENT)])


LINE_ID = OpenApiParameter("line_id", OpenApiTypes.INT, OpenApiParameter.PATH)


@extend_schema_view(
    list=extend_schema(
        summary="List quotes", parameters=[QuoteListQuerySerializer],
        examples=[OpenApiExample("Quotes", response_only=True, value=QUOTE_EXAMPLE)]),
    retrieve=detail_schema(
        summary="A quote: lines, totals, VAT per rate, allowed actions, revisions, history",
        responses=QuoteDetailSerializer,
        examples=[OpenApiExample("Draft quote", response_only=True,
                                 value=QUOTE_DETAIL_EXAMPLE)]),
    create=extend_schema(
        summary="Create a draft quote",
        description="Lines are catalog products (`product` + `quantity`, at the product's "
                    "current price and VAT rate unless `unit_net` / `tax_rate` override them) "
                    "or free lines (`name`, `quantity`, `unit_net`, `tax_rate`). Errors on a "
                    "line are keyed `lines.<index>.<field>`.",
        request=QuoteCreateSerializer, responses={201: QuoteDetailSerializer, 400: ERROR_400},
        examples=[
            OpenApiExample("Catalog and free lines", request_only=True, value={
                "customer": 7, "valid_until": "2026-04-01", "terms": "Payment within 30 days.",
                "notes": "Installation included.",
                "lines": [{"product": 42, "quantity": "2"},
                          {"name": "Delivery and assembly", "quantity": "1",
                           "unit_net": "49.50", "tax_rate": "0.00"}]}),
            OpenApiExample("Created", response_only=True, status_codes=["201"],
                           value=QUOTE_DETAIL_EXAMPLE),
            OpenApiExample("A free line without its price", response_only=True,
                           status_codes=["400"], value={"errors": {
                               "lines.1.unit_net": ["Required for a line without a product."]}}),
        ]),
    update=detail_schema(
        summary="Replace a draft quote's header (validity, discount, terms, notes)",
        request=QuoteHeaderSerializer, responses={200: QuoteDetailSerializer, 400: ERROR_400},
        examples=[OpenApiExample("Header", request_only=True, value={
            "valid_until": "2026-04-15", "discount_percent": "5", "terms": "Net 30 days.",
            "notes": ""})]),
    partial_update=detail_schema(
        summary="Change some of a draft quote's header fields",
        description="Only drafts are edited; a sent quote is revised first (`revise`).",
        request=QuoteHeaderSerializer, responses={200: QuoteDetailSerializer, 400: ERROR_400},
        examples=[OpenApiExample("Global discount", request_only=True,
                                 value={"discount_percent": "5"}),
                  OpenApiExample("Not a draft", response_only=True, status_codes=["400"],
                                 value={"errors": {"non_field_errors": [
                                     "Quote D-2026-00012 is sent: it can no longer be edited "
                                     "here. Revise it to make a new version."]}})]),
)
@extend_schema(tags=["quotes"])
class QuoteViewSet(SalesViewSetMixin, viewsets.GenericViewSet):
    serializer_class = QuoteListSerializer
    permissions_by_method = {**read_only(VIEW), "POST": ADD, "PUT": CHANGE, "PATCH": CHANGE}
    # Workflow actions need only to read quotes here: the service checks the role each
    # transition declares, and answers 403 with what this user may do instead.
    permissions_by_action = {
        "line_add": CHANGE, "line_update": CHANGE, "line_remove": CHANGE,
        "send": VIEW, "accept": VIEW, "decline": VIEW, "cancel": VIEW,
        "convert": VIEW + ["sales.view_order"],
        "revise": CHANGE,
    }

    def get_queryset(self):
        # Only for DRF's generic machinery (schema); `list` filters its own.
        return selectors.quotes_for_dashboard()

    def get_object(self) -> Quote:
        quote = selectors.quote_get(pk=int(self.kwargs["pk"]))
        if quote is None:
            raise Http404
        return quote

    def _detail(self, quote: Quote, code: int = status.HTTP_200_OK) -> Response:
        return Response(quote_detail(quote, self.request.user), status=code)

    def list(self, request):
        query = QuoteListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        quotes = selectors.quotes_for_dashboard(
            q=params.get("q", ""), status=params.get("status", ""),
            customer=params.get("customer"), date_from=params.get("created_after"),
            date_to=params.get("created_before"), sort=params["ordering"])
        page = self.paginate_queryset(quotes)
        return self.get_paginated_response(QuoteListSerializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return self._detail(self.get_object())

    def create(self, request):
        serializer = QuoteCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        customer = data.pop("customer")
        lines = [line_input(line) for line in data.pop("lines", [])]
        quote = quote_create(customer=customer, by=request.user, data=data, lines=lines)
        return self._detail(quote, status.HTTP_201_CREATED)

    def update(self, request, pk=None, partial: bool = False):
        quote = self.get_object()
        serializer = QuoteHeaderSerializer(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        quote = quote_update(quote=quote, by=request.user, data=serializer.validated_data)
        return self._detail(quote)

    def partial_update(self, request, pk=None):
        return self.update(request, pk, partial=True)

    # --- lines of a draft ---------------------------------------------------------------------

    def _line_id(self, quote: Quote, line_id: str) -> int:
        if not any(line.pk == int(line_id) for line in quote.lines.all()):
            raise Http404
        return int(line_id)

    @detail_schema(summary="Add a line to a draft quote", request=QuoteLineInputSerializer,
                   responses={201: QuoteDetailSerializer, 400: ERROR_400},
                   examples=[OpenApiExample("Catalog product", request_only=True,
                                            value={"product": 42, "quantity": "1",
                                                   "discount_percent": "10"}),
                             OpenApiExample("Free line", request_only=True,
                                            value={"name": "Delivery", "quantity": "1",
                                                   "unit_net": "49.50", "tax_rate": "20.00"}),
                             OpenApiExample("Line added", response_only=True,
                                            status_codes=["201"], value=QUOTE_DETAIL_EXAMPLE)])
    @action(detail=True, methods=["post"], url_path="lines")
    def line_add(self, request, pk=None):
        quote = self.get_object()
        serializer = QuoteLineInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        quote_line_add(quote=quote, line=line_input(serializer.validated_data), by=request.user)
        return self._detail(quote, status.HTTP_201_CREATED)

    @detail_schema(summary="Change a draft quote's line", parameters=[LINE_ID],
                   request=QuoteLineUpdateSerializer,
                   responses={200: QuoteDetailSerializer, 400: ERROR_400},
                   examples=[OpenApiExample("Quantity", request_only=True,
                                            value={"quantity": "3"}),
                             OpenApiExample("Line changed", response_only=True,
                                            value=QUOTE_DETAIL_EXAMPLE)])
    @action(detail=True, methods=["patch"], url_path=r"lines/(?P<line_id>\d+)")
    def line_update(self, request, pk=None, line_id=None):
        quote = self.get_object()
        serializer = QuoteLineUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        quote_line_update(quote=quote, line_id=self._line_id(quote, line_id),
                          data=serializer.validated_data, by=request.user)
        return self._detail(quote)

    @detail_schema(summary="Remove a line from a draft quote",
                   description="Answers the quote, with its new totals.",
                   parameters=[LINE_ID], request=None,
                   responses={200: QuoteDetailSerializer, 400: ERROR_400},
                   examples=[OpenApiExample("Line removed", response_only=True,
                                            value=QUOTE_DETAIL_EXAMPLE)])
    @line_update.mapping.delete
    def line_remove(self, request, pk=None, line_id=None):
        quote = self.get_object()
        quote_line_remove(quote=quote, line_id=self._line_id(quote, line_id), by=request.user)
        return self._detail(quote)

    # --- workflow ---------------------------------------------------------------------------

    @_quote_action("Send a draft quote to the customer",
                   description="Emails the customer a signed link to the quote page, where "
                               "they accept or decline it. Needs at least one line, a validity "
                               "date not past, and the customer's email.",
                   examples=_refused("sent", "Send quote", ["accept", "decline", "cancel"],
                                     legal_in="draft"))
    @action(detail=True, methods=["post"])
    def send(self, request, pk=None):
        quote = self.get_object()
        base_url = shop_url(request, request.get_host().split(":")[0], "")
        run_transition(quote, lambda: quote_send(quote=quote, by=request.user,
                                                 base_url=base_url))
        return self._detail(quote)

    @_quote_action(
        "Record the customer's acceptance (signed by phone, email or on paper)",
        description="Converts the quote into an order in the same transaction when stock "
                    "allows (`order` in the answer); otherwise the quote stays accepted with "
                    "`conversion_problem` set, and `convert` tries again later.",
        request=AcceptSerializer, response_example=CONVERTED,
        examples=[OpenApiExample("Acceptance", request_only=True,
                                 value={"name": "Marie Curie", "accept_terms": True}),
                  *_refused("draft", "Record acceptance", ["send", "cancel"])])
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        quote = self.get_object()
        serializer = AcceptSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        # `ip` is the signer's: staff recording an acceptance have none to give.
        run_transition(quote, lambda: quote_accept(quote=quote, ip=None, by=request.user,
                                                   **serializer.validated_data))
        return self._detail(quote)

    @_quote_action(
        "Record the customer's refusal", request=DeclineSerializer,
        response_example={**SENT, "status": "declined", "decline_reason": "Too expensive.",
                          "allowed_actions": []},
        examples=[OpenApiExample("Refusal", request_only=True,
                                 value={"reason": "Too expensive."}),
                  *_refused("draft", "Record refusal", ["send", "cancel"])])
    @action(detail=True, methods=["post"])
    def decline(self, request, pk=None):
        quote = self.get_object()
        serializer = DeclineSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        run_transition(quote, lambda: quote_decline(quote=quote, by=request.user,
                                                    **serializer.validated_data))
        return self._detail(quote)

    @_quote_action(
        "Convert an accepted quote into an order",
        description="For an accepted quote whose automatic conversion failed (e.g. stock was "
                    "short): places the order and reserves its stock, or answers 400 with the "
                    "reason it still cannot.",
        code=201, response=OrderDetailSerializer, response_example=ORDER_DETAIL_EXAMPLE,
        examples=_refused("sent", "Convert to order", ["accept", "decline", "cancel"],
                          legal_in="accepted"))
    @action(detail=True, methods=["post"])
    def convert(self, request, pk=None):
        quote = self.get_object()
        order = run_transition(quote, lambda: quote_convert(quote=quote, by=request.user))
        return Response(order_detail(order, request.user), status=status.HTTP_201_CREATED)

    @_quote_action(
        "Cancel a draft or sent quote", request=CancelSerializer,
        response_example={**SENT, "status": "cancelled", "allowed_actions": [],
                          "closed_at": "2026-03-04T09:00:00Z"},
        examples=[OpenApiExample("Cancel", request_only=True,
                                 value={"reason": "The customer bought elsewhere."}),
                  *_refused("converted", "Cancel quote", [])])
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        quote = self.get_object()
        serializer = CancelSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        run_transition(quote, lambda: quote_cancel(quote=quote, by=request.user,
                                                   **serializer.validated_data))
        return self._detail(quote)

    @_quote_action(
        "Revise a sent quote",
        description="Makes a new draft revision (same number, revision + 1, lines copied) "
                    "that supersedes the sent one: the customer's old link then says so. Edit "
                    "the draft, then send it. A draft is answered as it is (200).",
        code=201, response_example={**QUOTE_DETAIL_EXAMPLE, "id": 13, "revision": 2,
                                    "reference": "D-2026-00012-R2", "previous": 12},
        also={200: OpenApiResponse(QuoteDetailSerializer,
                                   description="The quote was a draft: nothing to revise.")},
        examples=_refused("accepted", "supersede", ["convert"]))
    @action(detail=True, methods=["post"])
    def revise(self, request, pk=None):
        quote = self.get_object()
        revision = run_transition(quote, lambda: quote_revise(quote=quote, by=request.user))
        code = status.HTTP_200_OK if revision.pk == quote.pk else status.HTTP_201_CREATED
        return self._detail(revision, code)

"""Invoices and credit notes: one resource (`kind` is `invoice` or `credit_note`), drafts made
from an order (whole, or a deposit / instalment percentage) or standalone, edited and deleted
while draft, issued (numbered, frozen), printed (PDF, Factur-X XML) and credited, by
`billing.services.invoices`.

Credit notes are listed and read here like invoices (`kind=credit_note`); they are made from
their invoice (`POST /invoices/{id}/credit-note/`), never created directly.
"""

from __future__ import annotations

import calendar
import logging
import re
from datetime import date
from decimal import Decimal

from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import renderers, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from billing import selectors
from billing.api.common import (
    ERROR_503,
    DocumentRefSerializer,
    OrderNumberSerializer,
    PDFRenderer,
    XMLRenderer,
    invoice_require,
    run_invoice_action,
)
from billing.documents import (
    InvalidEInvoice,
    invoice_pdf_file,
    invoice_preview_pdf,
    invoice_xml_file,
)
from billing.models import DocumentKind, Invoice, InvoiceStatus
from billing.services.invoices import (
    credit_note_create_issued,
    invoice_create,
    invoice_create_for_order,
    invoice_delete_draft,
    invoice_issue,
    invoice_update,
)
from billing.views.documents import download
from catalog import selectors as catalog_selectors
from catalog.api import ERROR_400
from sales import selectors as sales_selectors
from sales.api.common import (
    ERROR_403,
    ERROR_404,
    ERROR_409,
    NON_FIELD,
    ActorSerializer,
    CustomerRefSerializer,
    DateRangeMixin,
    SalesViewSetMixin,
    VatRateSerializer,
    detail_schema,
    read_only,
    refused_examples,
    vat_breakdown,
)
from sales.services.orders import LineInput

logger = logging.getLogger(__name__)
VIEW = ["billing.view_invoice"]
ADD = ["billing.add_invoice"]
CHANGE = ["billing.change_invoice"]
DELETE = ["billing.delete_invoice"]


# --- output ----------------------------------------------------------------------------------

class InvoiceLineSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    product = serializers.IntegerField(source="product_id", allow_null=True, help_text=(
        gettext_lazy("The catalog product it was made from, if any. The line keeps its own "
                     "copy of name, SKU, price and VAT rate.")))
    name = serializers.CharField()
    sku = serializers.CharField(allow_blank=True)
    quantity = serializers.DecimalField(max_digits=14, decimal_places=3)
    unit = serializers.CharField()
    unit_net = serializers.DecimalField(max_digits=14, decimal_places=2,
                                        help_text=gettext_lazy("Unit price excl. VAT."))
    tax_rate = serializers.DecimalField(max_digits=5, decimal_places=2)
    discount_percent = serializers.DecimalField(max_digits=5, decimal_places=2)
    extra_discount_percent = serializers.DecimalField(
        max_digits=5, decimal_places=2, help_text=gettext_lazy(
            "The order's global discount, carried by each of its lines."))
    position = serializers.IntegerField()
    net = serializers.DecimalField(max_digits=14, decimal_places=2)
    vat = serializers.DecimalField(max_digits=14, decimal_places=2)
    gross = serializers.DecimalField(max_digits=14, decimal_places=2)


class InvoiceListSerializer(serializers.ModelSerializer):
    reference = serializers.CharField(read_only=True, help_text=gettext_lazy(
        "The number once issued; “Draft invoice” / “Draft credit note” before."))
    customer = CustomerRefSerializer(read_only=True)
    order = serializers.IntegerField(source="order_id", read_only=True, allow_null=True,
                                     help_text=gettext_lazy("The order it bills, if any."))
    credited_invoice = serializers.IntegerField(
        source="credited_invoice_id", read_only=True, allow_null=True,
        help_text=gettext_lazy("For a credit note: the invoice it corrects."))
    balance = serializers.DecimalField(
        max_digits=14, decimal_places=2, read_only=True, help_text=gettext_lazy(
            "What the customer still owes (0 for drafts, credit notes and cancelled invoices)."))

    class Meta:
        model = Invoice
        fields = ["id", "kind", "number", "reference", "status", "customer", "order",
                  "credited_invoice", "title", "issue_date", "due_date", "currency",
                  "net_total", "vat_total", "gross_total", "amount_paid", "amount_credited",
                  "balance", "created_at", "issued_at", "paid_at"]
        read_only_fields = fields


class RefundRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    status = serializers.CharField()
    reason = serializers.CharField(allow_blank=True)
    credit_note = serializers.IntegerField(source="credit_note_id", allow_null=True)
    created_at = serializers.DateTimeField()


class InvoicePaymentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    method = serializers.CharField()
    status = serializers.CharField()
    amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    amount_refunded = serializers.DecimalField(max_digits=14, decimal_places=2)
    received_on = serializers.DateField(allow_null=True)
    reference = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField()
    succeeded_at = serializers.DateTimeField(allow_null=True)
    refunds = RefundRefSerializer(many=True, source="refunds.all")


class InvoiceHistorySerializer(serializers.Serializer):
    verb = serializers.CharField(help_text=gettext_lazy(
        "What happened: `created`, `issue`, `settle` (a payment or a credit changed what is "
        "owed: `data` says which), `cancel`, `credited`, `refund`, `mark_overdue`, "
        "`reminder`…"))
    from_status = serializers.CharField(source="before", allow_blank=True)
    to_status = serializers.CharField(source="after", allow_blank=True)
    by = ActorSerializer(source="actor", allow_null=True, help_text=gettext_lazy(
        "The staff member; empty for the system (a webhook, a periodic task)."))
    message = serializers.CharField(allow_blank=True)
    data = serializers.DictField()
    at = serializers.DateTimeField()


class InvoiceDetailSerializer(InvoiceListSerializer):
    order = OrderNumberSerializer(read_only=True, allow_null=True, help_text=gettext_lazy(
        "The order it bills, if any."))
    credited_invoice = DocumentRefSerializer(read_only=True, allow_null=True,
                                             help_text=gettext_lazy(
                                                 "For a credit note: the invoice it corrects."))
    seller = serializers.DictField(read_only=True, help_text=gettext_lazy(
        "The shop's legal identity as printed (snapshot taken when issued)."))
    buyer = serializers.DictField(read_only=True, help_text=gettext_lazy(
        "The customer as printed: name, company, VAT number, address (snapshot)."))
    lines = InvoiceLineSerializer(many=True, read_only=True, source="detail_lines")
    vat_breakdown = VatRateSerializer(many=True, read_only=True)
    payments = InvoicePaymentSerializer(many=True, read_only=True, source="detail_payments")
    credit_notes = DocumentRefSerializer(many=True, read_only=True,
                                         source="detail_credit_notes",
                                         help_text=gettext_lazy(
                                             "Issued credit notes correcting this invoice."))
    allowed_actions = serializers.ListField(
        child=serializers.CharField(), read_only=True, help_text=gettext_lazy(
            "What this user may do now, in button order: `issue`, `record_payment`, "
            "`credit_note`, `update`, `delete`."))
    history = InvoiceHistorySerializer(many=True, read_only=True)

    class Meta(InvoiceListSerializer.Meta):
        fields = InvoiceListSerializer.Meta.fields + [
            "order_percent", "service_date", "payment_terms", "late_penalty_rate", "reason",
            "notes", "seller", "buyer", "lines", "vat_breakdown", "payments", "credit_notes",
            "allowed_actions", "history", "cancelled_at"]
        read_only_fields = fields


def invoice_detail(invoice: Invoice, user) -> dict:
    """Everything an invoice's detail shows, for this user."""
    invoice = selectors.invoice_get(pk=invoice.pk)
    lines = list(invoice.lines.all())
    invoice.detail_lines = lines
    invoice.vat_breakdown = vat_breakdown(invoice.compute_totals(lines))
    invoice.detail_payments = list(selectors.payments_of(invoice))
    invoice.detail_credit_notes = ([] if invoice.is_credit_note
                                   else list(selectors.credit_notes_of(invoice)))
    invoice.allowed_actions = selectors.invoice_actions(invoice, user)
    invoice.history = list(selectors.invoice_history(invoice))
    return InvoiceDetailSerializer(invoice).data


# --- input -----------------------------------------------------------------------------------

def _percent(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=5, decimal_places=2, min_value=0, max_value=100,
                                    **kwargs)


class InvoiceLineInputSerializer(serializers.Serializer):
    """A catalog line (`product` + `quantity`, its current price and VAT unless overridden)
    or a free line (`name`, `quantity`, `unit_net`, `tax_rate`). A negative quantity makes a
    deduction line (e.g. a discount granted afterwards)."""

    product = serializers.IntegerField(required=False, allow_null=True, help_text=gettext_lazy(
        "A catalog product id; leave out for a free line."))
    name = serializers.CharField(required=False, allow_blank=True, max_length=200,
                                 help_text=gettext_lazy("Defaults to the product's name."))
    quantity = serializers.DecimalField(max_digits=14, decimal_places=3, min_value=-999999,
                                        max_value=999999)
    unit_net = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0,
                                        max_value=999999999, required=False, allow_null=True,
                                        help_text=gettext_lazy(
                                            "Unit price excl. VAT; defaults to the product's "
                                            "current price."))
    tax_rate = _percent(required=False, allow_null=True, help_text=gettext_lazy(
        "VAT rate in percent, e.g. 20.00; defaults to the product's rate."))
    discount_percent = _percent(required=False, default=Decimal("0"))

    def validate_product(self, value: int | None):
        if value is None:
            return None
        product = catalog_selectors.product_get(pk=value)
        if product is None:
            raise serializers.ValidationError(_("No product with this id."))
        return product

    def validate_quantity(self, value: Decimal) -> Decimal:
        if value == 0:
            raise serializers.ValidationError(_("A line's quantity cannot be zero."))
        return value

    def validate(self, attrs: dict) -> dict:
        if attrs.get("product") is None:
            required = {key: [_("Required for a line without a product.")]
                        for key in ("name", "unit_net", "tax_rate")
                        if attrs.get(key) in (None, "")}
            if required:
                raise serializers.ValidationError(required)
        return attrs


def line_input(data: dict) -> LineInput:
    product, quantity = data.get("product"), data["quantity"]
    discount = data.get("discount_percent") or Decimal("0")
    if product is None:
        return LineInput(name=data["name"].strip(), quantity=quantity, unit_net=data["unit_net"],
                         tax_rate=data["tax_rate"], discount_percent=discount)
    base = LineInput.from_product(product, quantity, discount)
    return LineInput(
        name=(data.get("name") or "").strip() or base.name, quantity=quantity,
        unit_net=base.unit_net if data.get("unit_net") is None else data["unit_net"],
        tax_rate=base.tax_rate if data.get("tax_rate") is None else data["tax_rate"],
        product=product, sku=base.sku, unit=base.unit, discount_percent=discount)


class InvoiceCreateSerializer(serializers.Serializer):
    order = serializers.IntegerField(required=False, help_text=gettext_lazy(
        "Invoice this order (its lines and shipping), or `percent` of it as a deposit or "
        "instalment. Leave out for a standalone invoice."))
    percent = serializers.DecimalField(
        max_digits=5, decimal_places=2, min_value=Decimal("0.01"), max_value=100,
        required=False, default=Decimal("100"), help_text=gettext_lazy(
            "With `order`: the share of the order to invoice (100 = the whole order, or what "
            "is left after deposits). Never more than 100 % of an order in all."))
    customer = serializers.IntegerField(required=False, help_text=gettext_lazy(
        "A standalone invoice: the customer id (with `lines`)."))
    lines = InvoiceLineInputSerializer(many=True, required=False)
    title = serializers.CharField(required=False, allow_blank=True, max_length=200)
    notes = serializers.CharField(required=False, allow_blank=True, help_text=gettext_lazy(
        "Printed on the invoice."))
    service_date = serializers.DateField(required=False, help_text=gettext_lazy(
        "Date of the sale or service; the issue date when left out."))

    def validate_order(self, value: int):
        order = sales_selectors.order_get(pk=value)
        if order is None:
            raise serializers.ValidationError(_("No order with this id."))
        return order

    def validate_customer(self, value: int):
        customer = sales_selectors.customer_get(pk=value)
        if customer is None:
            raise serializers.ValidationError(_("No customer with this id."))
        return customer

    def validate(self, attrs: dict) -> dict:
        if ("order" in attrs) == ("customer" in attrs):
            raise serializers.ValidationError(
                {NON_FIELD: [_("Give either an order to invoice, or a customer and lines.")]})
        if "order" in attrs and attrs.get("lines"):
            raise serializers.ValidationError(
                {"lines": [_("An order's invoice takes the order's lines: leave `lines` "
                             "out.")]})
        if "customer" in attrs and not attrs.get("lines"):
            raise serializers.ValidationError({"lines": [_("An invoice needs at least one "
                                                           "line.")]})
        return attrs


class InvoiceUpdateSerializer(serializers.Serializer):
    title = serializers.CharField(required=False, allow_blank=True, max_length=200)
    notes = serializers.CharField(required=False, allow_blank=True)
    service_date = serializers.DateField(required=False)
    add_lines = InvoiceLineInputSerializer(many=True, required=False, help_text=gettext_lazy(
        "Lines to add at the end."))
    remove_lines = serializers.ListField(child=serializers.IntegerField(), required=False,
                                         help_text=gettext_lazy("Ids of lines to remove."))


class CreditNoteSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, help_text=gettext_lazy(
        "Why the invoice is corrected; printed on the credit note."))
    lines = InvoiceLineInputSerializer(many=True, required=False, help_text=gettext_lazy(
        "A partial credit note: the lines credited (positive quantities). Leave out to "
        "credit the whole invoice."))


INVOICE_ORDERINGS = ["-created_at", "created_at", "-issue_date", "issue_date", "number",
                     "-number", "gross_total", "-gross_total", "due_date", "-due_date"]
STATUS_FILTERS = [*InvoiceStatus.choices,
                  ("unpaid", gettext_lazy("Unpaid (issued, partially paid or overdue)"))]
PERIOD = re.compile(r"^(\d{4})(?:-(\d{2}))?$")


class InvoiceListQuerySerializer(DateRangeMixin, serializers.Serializer):
    date_range = ("issued_after", "issued_before")

    status = serializers.ChoiceField(choices=STATUS_FILTERS, required=False)
    kind = serializers.ChoiceField(choices=DocumentKind.choices, required=False)
    customer = serializers.IntegerField(required=False, help_text=gettext_lazy("A customer id."))
    period = serializers.CharField(required=False, help_text=gettext_lazy(
        "Issued in this month (`2026-03`) or year (`2026`)."))
    issued_after = serializers.DateField(required=False, help_text=gettext_lazy(
        "Issued on or after this day."))
    issued_before = serializers.DateField(required=False, help_text=gettext_lazy(
        "Issued on or before this day."))
    q = serializers.CharField(required=False, allow_blank=True, help_text=gettext_lazy(
        "Part of the number or title, or of the customer's email, last name or company "
        "name."))
    ordering = serializers.ChoiceField(choices=INVOICE_ORDERINGS, required=False,
                                       default="-created_at")

    def validate_period(self, value: str) -> tuple[date, date]:
        match = PERIOD.match(value.strip())
        month = int(match.group(2)) if match and match.group(2) else None
        if match is None or (month is not None and not 1 <= month <= 12):
            raise serializers.ValidationError(_("A month (2026-03) or a year (2026)."))
        year = int(match.group(1))
        if month is None:
            return date(year, 1, 1), date(year, 12, 31)
        return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


# --- documentation ---------------------------------------------------------------------------

CUSTOMER_REF = {"id": 7, "display_name": "Atelier Lumière (Marie Curie)",
                "email": "marie@atelier-lumiere.fr"}
INVOICE_EXAMPLE = {
    "id": 21, "kind": "invoice", "number": "F-2026-00012", "reference": "F-2026-00012",
    "status": "issued", "customer": CUSTOMER_REF, "order": 5, "credited_invoice": None,
    "title": "Order C-2026-00005", "issue_date": "2026-03-04", "due_date": "2026-04-03",
    "currency": "EUR", "net_total": "1547.50", "vat_total": "299.60",
    "gross_total": "1847.10", "amount_paid": "0.00", "amount_credited": "0.00",
    "balance": "1847.10", "created_at": "2026-03-04T09:00:00Z",
    "issued_at": "2026-03-04T09:05:00Z", "paid_at": None}
INVOICE_DETAIL_EXAMPLE = {
    **INVOICE_EXAMPLE, "order": {"id": 5, "number": "C-2026-00005"}, "order_percent": "100.00",
    "service_date": "2026-03-04", "payment_terms": "Payment within 30 days, by 2026-04-03.",
    "late_penalty_rate": "12.00", "reason": "", "notes": "", "cancelled_at": None,
    "seller": {"name": "Atelier Vélo", "legal_name": "Atelier Vélo SAS", "siren": "732829320",
               "vat_number": "FR44732829320", "address_line1": "1 rue de la Paix",
               "postal_code": "75002", "city": "Paris", "country": "FR"},
    "buyer": {"name": "Atelier Lumière (Marie Curie)", "company_name": "Atelier Lumière",
              "email": "marie@atelier-lumiere.fr", "vat_number": "", "company_id": "",
              "is_business": True, "address": {"full_name": "Marie Curie",
                                               "line1": "12 rue des Écoles",
                                               "postal_code": "75005", "city": "Paris",
                                               "country": "FR"}},
    "lines": [
        {"id": 40, "product": 42, "name": "Road bike 54 cm", "sku": "BIKE-ROAD-54",
         "quantity": "2.000", "unit": "unit", "unit_net": "749.00", "tax_rate": "20.00",
         "discount_percent": "0.00", "extra_discount_percent": "0.00", "position": 0,
         "net": "1498.00", "vat": "299.60", "gross": "1797.60"},
        {"id": 41, "product": None, "name": "Shipping: Delivery and assembly", "sku": "",
         "quantity": "1.000", "unit": "unit", "unit_net": "49.50", "tax_rate": "0.00",
         "discount_percent": "0.00", "extra_discount_percent": "0.00", "position": 1,
         "net": "49.50", "vat": "0.00", "gross": "49.50"}],
    "vat_breakdown": [{"rate": "0.00", "base": "49.50", "vat": "0.00"},
                      {"rate": "20.00", "base": "1498.00", "vat": "299.60"}],
    "payments": [], "credit_notes": [],
    "allowed_actions": ["record_payment", "credit_note"],
    "history": [{"verb": "issue", "from_status": "draft", "to_status": "issued",
                 "by": {"id": 1, "email": "owner@acme.example"}, "message": "",
                 "data": {"number": "F-2026-00012"}, "at": "2026-03-04T09:05:00Z"}]}
DRAFT_EXAMPLE = {**INVOICE_DETAIL_EXAMPLE, "number": None, "reference": "Draft invoice",
                 "status": "draft", "issue_date": None, "due_date": None, "issued_at": None,
                 "balance": "0.00", "payment_terms": "", "seller": {},
                 "allowed_actions": ["issue", "update", "delete"], "history": []}
CREDIT_NOTE_EXAMPLE = {
    **INVOICE_DETAIL_EXAMPLE, "id": 22, "kind": "credit_note", "number": "A-2026-00003",
    "reference": "A-2026-00003", "title": "Credit note on F-2026-00012",
    "credited_invoice": {"id": 21, "kind": "invoice", "number": "F-2026-00012",
                         "status": "cancelled", "gross_total": "1847.10"},
    "reason": "Order returned.", "due_date": None, "balance": "0.00", "allowed_actions": [],
    "payment_terms": ""}


def _action_schema(summary: str, *, description: str = "", request=None, code: int = 200,
                   response_example=None, examples=(), refused=()):
    return detail_schema(
        summary=summary, description=description, request=request,
        responses={code: InvoiceDetailSerializer, 400: ERROR_400, 403: ERROR_403,
                   404: ERROR_404, 409: ERROR_409},
        examples=[*examples,
                  OpenApiExample("Done", response_only=True, status_codes=[str(code)],
                                 value=response_example or INVOICE_DETAIL_EXAMPLE),
                  *refused])


def _refused(state: str, action: str, allowed: list[str], *, legal_in: str,
             legal_allowed: list[str]) -> list[OpenApiExample]:
    return refused_examples(document="F-2026-00012", state=state, action=action,
                            allowed=allowed, forbidden_state=legal_in,
                            forbidden_allowed=legal_allowed)


@extend_schema_view(
    list=extend_schema(
        summary="List invoices and credit notes",
        description="Credit notes are listed here with `kind=credit_note`; filter with "
                    "`kind`. Drafts have no number yet.",
        parameters=[InvoiceListQuerySerializer],
        examples=[OpenApiExample("Invoices", response_only=True, value=INVOICE_EXAMPLE)]),
    retrieve=detail_schema(
        summary="An invoice or credit note: lines, VAT per rate, payments, credit notes, "
                "allowed actions, history",
        responses={200: InvoiceDetailSerializer, 404: ERROR_404},
        examples=[OpenApiExample("Issued invoice", response_only=True,
                                 value=INVOICE_DETAIL_EXAMPLE),
                  OpenApiExample("Credit note", response_only=True,
                                 value=CREDIT_NOTE_EXAMPLE)]),
    create=extend_schema(
        summary="Create a draft invoice",
        description="From an order (`order`, and `percent` for a deposit or an instalment: "
                    "one line per VAT rate; the invoice that completes the order lists every "
                    "line and deducts the deposits), or standalone (`customer` and `lines`: "
                    "catalog products or free lines). Errors on a line are keyed "
                    "`lines.<index>.<field>`. Issue it with `POST /invoices/{id}/issue/`.",
        request=InvoiceCreateSerializer,
        responses={201: InvoiceDetailSerializer, 400: ERROR_400, 403: ERROR_403},
        examples=[
            OpenApiExample("A deposit of 30 % on an order", request_only=True,
                           value={"order": 5, "percent": "30"}),
            OpenApiExample("Standalone", request_only=True, value={
                "customer": 7, "title": "Workshop repair", "lines": [
                    {"product": 42, "quantity": "1"},
                    {"name": "Labour", "quantity": "1.5", "unit_net": "60.00",
                     "tax_rate": "20.00"}]}),
            OpenApiExample("Created", response_only=True, status_codes=["201"],
                           value=DRAFT_EXAMPLE),
            OpenApiExample("More than the order", response_only=True, status_codes=["400"],
                           value={"errors": {"percent": [
                               "30 % of order C-2026-00005 is already invoiced: at most 70 % "
                               "is left."]}}),
        ]),
    partial_update=detail_schema(
        summary="Change a draft: title, notes, date of service, lines added or removed",
        description="Only drafts change: an issued invoice answers 409 (correct it with a "
                    "credit note).",
        request=InvoiceUpdateSerializer,
        responses={200: InvoiceDetailSerializer, 400: ERROR_400, 403: ERROR_403,
                   404: ERROR_404, 409: ERROR_409},
        examples=[OpenApiExample("Add a line, remove another", request_only=True, value={
            "add_lines": [{"name": "Discount granted", "quantity": "-1", "unit_net": "20.00",
                           "tax_rate": "20.00"}], "remove_lines": [41]}),
                  OpenApiExample("Changed", response_only=True, value=DRAFT_EXAMPLE),
                  *_refused("issued", "Edit", ["record_payment", "credit_note"],
                            legal_in="draft", legal_allowed=["issue"])]),
    destroy=detail_schema(
        summary="Delete a draft",
        description="An issued invoice is never deleted (409): it is cancelled by a credit "
                    "note.",
        responses={204: None, 403: ERROR_403, 404: ERROR_404, 409: ERROR_409},
        examples=_refused("issued", "Delete", ["record_payment", "credit_note"],
                          legal_in="draft", legal_allowed=["issue", "update"])),
)
@extend_schema(tags=["invoices"])
class InvoiceViewSet(SalesViewSetMixin, viewsets.GenericViewSet):
    serializer_class = InvoiceListSerializer
    permissions_by_method = {**read_only(VIEW), "POST": ADD, "PATCH": CHANGE, "DELETE": DELETE}
    # Actions need only to read invoices here: the role each one needs is checked with the
    # document's state, and a refusal lists what this user may do instead.
    permissions_by_action = {name: VIEW for name in ("issue", "credit_note", "pdf", "facturx")}

    def get_queryset(self):
        # Only for DRF's generic machinery (schema); `list` filters its own.
        return selectors.invoices_for_dashboard()

    def get_object(self) -> Invoice:
        invoice = selectors.invoice_get(pk=int(self.kwargs["pk"]))
        if invoice is None:
            raise Http404
        return invoice

    def _detail(self, invoice: Invoice, code: int = status.HTTP_200_OK) -> Response:
        return Response(invoice_detail(invoice, self.request.user), status=code)

    def list(self, request):
        query = InvoiceListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        date_from, date_to = params.get("issued_after"), params.get("issued_before")
        if params.get("period"):
            start, end = params["period"]
            date_from, date_to = max(filter(None, (start, date_from))), min(
                filter(None, (end, date_to)))
        invoices = selectors.invoices_for_dashboard(
            q=params.get("q", ""), kind=params.get("kind", ""), status=params.get("status", ""),
            customer=params.get("customer"), date_from=date_from, date_to=date_to,
            sort=params["ordering"])
        page = self.paginate_queryset(invoices)
        return self.get_paginated_response(InvoiceListSerializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return self._detail(self.get_object())

    def create(self, request):
        serializer = InvoiceCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if "order" in data:
            invoice = invoice_create_for_order(order=data["order"], by=request.user,
                                               percent=data["percent"])
            if any(key in data for key in ("title", "notes", "service_date")):
                invoice = invoice_update(invoice=invoice, by=request.user,
                                         title=data.get("title"), notes=data.get("notes"),
                                         service_date=data.get("service_date"))
        else:
            invoice = invoice_create(
                customer=data["customer"], by=request.user,
                lines=[line_input(line) for line in data["lines"]],
                title=data.get("title", ""), notes=data.get("notes", ""),
                service_date=data.get("service_date"))
        return self._detail(invoice, status.HTTP_201_CREATED)

    def partial_update(self, request, pk=None):
        invoice = self.get_object()
        invoice_require(invoice, "update", request.user)
        serializer = InvoiceUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        remove = data.get("remove_lines", [])
        known = {line.pk for line in invoice.lines.all()}
        unknown = [pk for pk in remove if pk not in known]
        if unknown:
            raise serializers.ValidationError(
                {"remove_lines": [_("Not a line of this invoice: %(ids)s.")
                                  % {"ids": ", ".join(map(str, unknown))}]})
        invoice = run_invoice_action(invoice, request.user, lambda: invoice_update(
            invoice=invoice, by=request.user, title=data.get("title"), notes=data.get("notes"),
            service_date=data.get("service_date"),
            add_lines=[line_input(line) for line in data.get("add_lines", [])],
            remove_line_ids=remove))
        return self._detail(invoice)

    def destroy(self, request, pk=None):
        invoice = self.get_object()
        invoice_require(invoice, "delete", request.user)
        run_invoice_action(invoice, request.user,
                           lambda: invoice_delete_draft(invoice=invoice, by=request.user))
        return Response(status=status.HTTP_204_NO_CONTENT)

    # --- actions ------------------------------------------------------------------------------

    @_action_schema(
        "Issue a draft (draft → issued)",
        description="Numbers it (gap-free per kind and year, e.g. `F-2026-00012`), takes the "
                    "seller's and buyer's snapshots, dates it and sets its due date; from then "
                    "on it never changes. Needs the `billing.issue_invoice` permission, and "
                    "the shop's legal identity complete (400 otherwise). Issuing a credit "
                    "note applies it to its invoice.",
        refused=_refused("issued", "Issue", ["record_payment", "credit_note"],
                         legal_in="draft", legal_allowed=["update", "delete"]))
    @action(detail=True, methods=["post"])
    def issue(self, request, pk=None):
        invoice = self.get_object()
        invoice_require(invoice, "issue", request.user)
        invoice = run_invoice_action(invoice, request.user,
                                     lambda: invoice_issue(invoice=invoice, by=request.user))
        return self._detail(invoice)

    @_action_schema(
        "Make and issue a credit note for an issued invoice",
        description="All of the invoice (no `lines`), or the lines given (a partial credit "
                    "note), never more than is left to credit. Issued at once with its own "
                    "gap-free number (`A-2026-00003`): an unpaid invoice credited in full is "
                    "cancelled; one that was paid stays paid (refund the payment to give the "
                    "money back). Needs `billing.add_invoice` and `billing.issue_invoice`. "
                    "Answers the credit note.",
        request=CreditNoteSerializer, code=201, response_example=CREDIT_NOTE_EXAMPLE,
        examples=[OpenApiExample("All of it", request_only=True,
                                 value={"reason": "Order returned."}),
                  OpenApiExample("Part of it", request_only=True, value={
                      "reason": "One bike returned.",
                      "lines": [{"name": "Road bike 54 cm", "quantity": "1",
                                 "unit_net": "749.00", "tax_rate": "20.00"}]})],
        refused=_refused("draft", "Make a credit note", ["issue", "update", "delete"],
                         legal_in="issued", legal_allowed=[]))
    @action(detail=True, methods=["post"], url_path="credit-note")
    def credit_note(self, request, pk=None):
        invoice = self.get_object()
        invoice_require(invoice, "credit_note", request.user)
        serializer = CreditNoteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        lines = [line_input(line) for line in data["lines"]] if data.get("lines") else None
        note = run_invoice_action(invoice, request.user, lambda: credit_note_create_issued(
            invoice=invoice, by=request.user, reason=data["reason"], lines=lines))
        return self._detail(note, status.HTTP_201_CREATED)

    @detail_schema(
        summary="The document as PDF",
        description="An issued invoice or credit note is its Factur-X PDF (PDF/A-3 with the "
                    "CII XML embedded), made at the first download and the same file "
                    "afterwards; a draft is a watermarked preview without e-invoice.",
        responses={(200, "application/pdf"): OpenApiResponse(
            OpenApiTypes.BINARY, description="The PDF file."),
            404: ERROR_404, 503: ERROR_503})
    @action(detail=True, methods=["get"],
            renderer_classes=[renderers.JSONRenderer, PDFRenderer])
    def pdf(self, request, pk=None):
        invoice = self.get_object()
        if invoice.is_draft:
            kind = "credit-note" if invoice.is_credit_note else "invoice"
            return download(invoice_preview_pdf(invoice), f"draft-{kind}-{invoice.pk}.pdf",
                            "application/pdf")
        try:
            content = invoice_pdf_file(invoice)
        except InvalidEInvoice:
            logger.exception("the PDF of %s failed its checks", invoice.reference)
            return _unavailable(_("The PDF of %(document)s cannot be made right now. Try "
                                  "again later.") % {"document": invoice.reference})
        return download(content, f"{invoice.number}.pdf", "application/pdf")

    @detail_schema(
        summary="The Factur-X (CII, EN 16931) XML of an issued document",
        description="The XML embedded in the document's PDF, byte for byte. A draft has "
                    "none (409): issue it first.",
        responses={(200, "application/xml"): OpenApiResponse(
            OpenApiTypes.BINARY, description="The CII XML."),
            404: ERROR_404, 409: ERROR_409, 503: ERROR_503},
        examples=_refused("draft", "Factur-X", ["issue", "update", "delete"],
                          legal_in="issued", legal_allowed=[]))
    @action(detail=True, methods=["get"],
            renderer_classes=[renderers.JSONRenderer, XMLRenderer])
    def facturx(self, request, pk=None):
        invoice = self.get_object()
        if invoice.is_draft:
            invoice_require(invoice, "facturx", request.user)  # never possible: a 409
        try:
            content = invoice_xml_file(invoice)
        except InvalidEInvoice:
            logger.exception("the e-invoice of %s failed its checks", invoice.reference)
            return _unavailable(_("The Factur-X XML of %(document)s cannot be made right now. "
                                  "Try again later.") % {"document": invoice.reference})
        return download(content, f"{invoice.number}.xml", "application/xml; charset=utf-8")


def _unavailable(message: str) -> Response:
    return Response({"errors": {NON_FIELD: [message]}},
                    status=status.HTTP_503_SERVICE_UNAVAILABLE, headers={"Retry-After": "3600"})

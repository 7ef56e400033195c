"""Quotes: built by staff (or requested by a customer from their cart), sent with a signed
link, accepted online (typed name as signature, terms ticked, time and IP kept) or declined,
expired by a periodic task, revised (a new revision supersedes the sent one), and converted
into an order in the acceptance's transaction when stock allows.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from catalog.errors import CatalogError
from catalog.models import BaseProduct, TaxRate
from catalog.pricing import line_totals
from sales.errors import IllegalTransition, QuoteLinkInvalid, SalesError
from sales.models import (
    Cart,
    Customer,
    Order,
    OrderSource,
    Quote,
    QuoteLine,
    QuoteSource,
    QuoteStatus,
)
from sales.services.customers import address_snapshot
from sales.services.numbering import QUOTE_PREFIX, document_number
from sales.services.orders import LineInput, OrderInput, order_create
from sales.services.workflow import transition_check, transition_run
from sales.tasks import quote_link_send, staff_quote_notice_send
from streams.events import auto_follow, record

if TYPE_CHECKING:
    from tenants.accounts.models import User

DEFAULT_VALIDITY_DAYS = 30
ZERO = Decimal("0")
HUNDRED = Decimal("100")
QUOTE_FIELDS = ("valid_until", "discount_percent", "terms", "notes")


def _decimal(value, *, field: str, minimum: Decimal = ZERO, maximum: Decimal | None = None,
             positive: bool = False) -> Decimal:
    try:
        number = Decimal(str(value).replace(",", "."))
    except (InvalidOperation, ValueError) as exc:
        raise SalesError(_("Enter a number."), field=field) from exc
    if not number.is_finite() or number < minimum or (positive and number <= 0):
        raise SalesError(_("Enter a number above zero.") if positive
                         else _("This number cannot be negative."), field=field)
    if maximum is not None and number > maximum:
        raise SalesError(_("At most %(max)s.") % {"max": maximum}, field=field)
    return number


def _locked(quote: Quote) -> Quote:
    return Quote.objects.select_for_update().select_related("customer").get(pk=quote.pk)


def _require_draft(quote: Quote) -> None:
    if quote.status != QuoteStatus.DRAFT:
        raise SalesError(_("Quote %(quote)s is %(state)s: it can no longer be edited here. "
                           "Revise it to make a new version.")
                         % {"quote": quote.reference, "state": quote.get_status_display().lower()})


def _refresh_totals(quote: Quote) -> Quote:
    summary = quote.compute_totals(list(quote.lines.all()))
    quote.net_total, quote.vat_total, quote.gross_total = summary.net, summary.vat, summary.gross
    quote.save(update_fields=["net_total", "vat_total", "gross_total", "updated_at"])
    return quote


def _clean_fields(data: dict) -> dict:
    cleaned = {}
    if "valid_until" in data:
        valid_until = data["valid_until"]
        if isinstance(valid_until, str):
            try:
                valid_until = date.fromisoformat(valid_until)
            except ValueError as exc:
                raise SalesError(_("Enter a date like 2026-12-31."), field="valid_until") from exc
        if not isinstance(valid_until, date):
            raise SalesError(_("Enter a date like 2026-12-31."), field="valid_until")
        cleaned["valid_until"] = valid_until
    if "discount_percent" in data:
        cleaned["discount_percent"] = _decimal(data["discount_percent"] or 0,
                                               field="discount_percent", maximum=HUNDRED)
    for key in ("terms", "notes"):
        if key in data:
            cleaned[key] = (data[key] or "").strip()
    return cleaned


@transaction.atomic
def quote_create(*, customer: Customer, by: User | None, data: dict | None = None,
                 lines: list[LineInput] | None = None, source: str = QuoteSource.STAFF) -> Quote:
    fields = _clean_fields(data or {})
    fields.setdefault("valid_until", timezone.localdate() + timedelta(days=DEFAULT_VALIDITY_DAYS))
    quote = Quote.objects.create(
        number=document_number(QUOTE_PREFIX, kind="quote"), customer=customer, source=source,
        created_by=by if by is not None and by.is_staff else None, **fields)
    for line in lines or []:
        _line_write(quote, QuoteLine(quote=quote), line)
    _refresh_totals(quote)
    staff = by if by is not None and by.is_staff else None
    record(subject=quote, verb="created", actor=staff, customer=source == QuoteSource.CART)
    auto_follow(user=staff, subject=quote)
    return quote


@transaction.atomic
def quote_update(*, quote: Quote, by: User | None, data: dict) -> Quote:
    quote = _locked(quote)
    _require_draft(quote)
    for key, value in _clean_fields(data).items():
        setattr(quote, key, value)
    quote.save()
    return _refresh_totals(quote)


def _line_write(quote: Quote, row: QuoteLine, line: LineInput) -> QuoteLine:
    row.product = line.product
    row.name = (line.name or "").strip()[:200]
    if not row.name:
        raise SalesError(_("Describe the line."), field="name")
    row.sku = line.sku
    row.unit = line.unit
    row.quantity = _decimal(line.quantity, field="quantity", positive=True,
                            maximum=Decimal("999999"))
    row.unit_net = _decimal(line.unit_net, field="unit_net", maximum=Decimal("999999999"))
    row.tax_rate = _decimal(line.tax_rate, field="tax_rate", maximum=HUNDRED)
    row.discount_percent = _decimal(line.discount_percent or 0, field="discount_percent",
                                    maximum=HUNDRED)
    if row.position == 0 and row.pk is None:
        row.position = quote.lines.count()
    row.save()
    return row


def quote_line_input(*, product: BaseProduct | None = None, name: str = "", quantity="1",
                     unit_net=None, tax_rate: TaxRate | Decimal | None = None,
                     discount_percent="0") -> LineInput:
    """A line from a catalog product (its current price and VAT unless overridden) or a free
    line (name, price and VAT rate required)."""
    quantity = _decimal(quantity, field="quantity", positive=True)
    if product is not None:
        base = LineInput.from_product(product, quantity)
        return LineInput(
            name=name.strip() or base.name, quantity=quantity,
            unit_net=base.unit_net if unit_net in (None, "") else unit_net,
            tax_rate=(base.tax_rate if tax_rate is None
                      else getattr(tax_rate, "rate", tax_rate)),
            product=product, sku=base.sku, unit=base.unit, discount_percent=discount_percent)
    if unit_net in (None, ""):
        raise SalesError(_("Give the unit price excl. VAT."), field="unit_net")
    if tax_rate is None:
        raise SalesError(_("Choose a VAT rate."), field="tax_rate")
    return LineInput(name=name, quantity=quantity, unit_net=unit_net,
                     tax_rate=getattr(tax_rate, "rate", tax_rate),
                     discount_percent=discount_percent)


@transaction.atomic
def quote_line_add(*, quote: Quote, line: LineInput, by: User | None) -> QuoteLine:
    quote = _locked(quote)
    _require_draft(quote)
    row = _line_write(quote, QuoteLine(quote=quote), line)
    _refresh_totals(quote)
    return row


@transaction.atomic
def quote_line_update(*, quote: Quote, line_id: int, data: dict, by: User | None) -> QuoteLine:
    """Change a draft line's quantity, price, VAT rate, discount or description."""
    quote = _locked(quote)
    _require_draft(quote)
    row = quote.lines.filter(pk=line_id).first()
    if row is None:
        raise SalesError(_("This line is no longer on the quote."))
    line = LineInput(
        product=row.product, sku=row.sku, unit=row.unit,
        name=data.get("name", row.name), quantity=data.get("quantity", row.quantity),
        unit_net=data.get("unit_net", row.unit_net), tax_rate=data.get("tax_rate", row.tax_rate),
        discount_percent=data.get("discount_percent", row.discount_percent))
    _line_write(quote, row, line)
    _refresh_totals(quote)
    return row


@transaction.atomic
def quote_line_remove(*, quote: Quote, line_id: int, by: User | None) -> None:
    quote = _locked(quote)
    _require_draft(quote)
    quote.lines.filter(pk=line_id).delete()
    _refresh_totals(quote)


def quote_line_amounts(line: QuoteLine, quote: Quote):
    return line_totals(line.pricing_line(quote.discount_percent), quote.currency)


@transaction.atomic
def quote_send(*, quote: Quote, by: User | None, base_url: str) -> Quote:
    """Email the customer a link to the quote, where they accept or decline it."""
    quote = _locked(quote)
    if quote.status == QuoteStatus.DRAFT:
        if not quote.lines.exists():
            raise SalesError(_("Add at least one line before sending the quote."))
        if quote.valid_until < timezone.localdate():
            raise SalesError(_("The validity date is past: choose a later one."),
                             field="valid_until")
        if not quote.customer.email:
            raise SalesError(_("The customer has no email address."))
    transition_run(quote, "send", by=by, data={"to": quote.customer.email})
    quote_link_send(quote=quote, base_url=base_url)
    return quote


@transaction.atomic
def quote_revise(*, quote: Quote, by: User | None) -> Quote:
    """Editing a sent quote: a new draft revision (same number, lines copied) supersedes it.
    The customer's old link then says so; sending the new revision emails a new link."""
    quote = _locked(quote)
    if quote.status == QuoteStatus.DRAFT:
        return quote
    transition_run(quote, "supersede", by=by)
    revision = Quote.objects.create(
        number=quote.number, revision=quote.revision + 1, previous=quote, source=quote.source,
        customer=quote.customer, valid_until=max(quote.valid_until, timezone.localdate()),
        discount_percent=quote.discount_percent, terms=quote.terms, notes=quote.notes,
        currency=quote.currency, created_by=by if by is not None and by.is_staff else None)
    QuoteLine.objects.bulk_create([
        QuoteLine(quote=revision, product_id=line.product_id, name=line.name, sku=line.sku,
                  quantity=line.quantity, unit=line.unit, unit_net=line.unit_net,
                  tax_rate=line.tax_rate, discount_percent=line.discount_percent,
                  position=line.position)
        for line in quote.lines.all()])
    _refresh_totals(revision)
    record(subject=revision, verb="revised", actor=by, data={"previous": quote.reference})
    auto_follow(user=by, subject=revision)
    return revision


def quote_check_link(quote: Quote | None) -> Quote:
    """What a customer's link may do: raises QuoteLinkInvalid with a reason the page explains."""
    if quote is None:
        raise QuoteLinkInvalid(_("This link is not valid. Check that you copied all of it, or "
                                 "ask us for a new one."), reason="invalid")
    if quote.status == QuoteStatus.SUPERSEDED:
        raise QuoteLinkInvalid(_("This version of quote %(number)s was replaced by a newer one. "
                                 "Use the link in our latest email.")
                               % {"number": quote.number}, reason="superseded")
    if quote.status == QuoteStatus.EXPIRED or (
            quote.status == QuoteStatus.SENT and quote.is_expired_on(timezone.localdate())):
        raise QuoteLinkInvalid(_("Quote %(number)s expired on %(date)s. Ask us for a new one.")
                               % {"number": quote.reference, "date": quote.valid_until},
                               reason="expired")
    if quote.status in (QuoteStatus.DRAFT, QuoteStatus.CANCELLED):
        raise QuoteLinkInvalid(_("This quote is no longer available."), reason="closed")
    return quote


def _convert(quote: Quote, *, by: User | None) -> Order | None:
    """Accepted -> converted with its order, or stays accepted with the problem noted for
    staff (e.g. stock sold meanwhile) when the order cannot be placed."""
    lines = [LineInput(name=line.name, quantity=line.quantity, unit_net=line.unit_net,
                       tax_rate=line.tax_rate, product=line.product, sku=line.sku,
                       unit=line.unit, discount_percent=line.discount_percent)
             for line in quote.lines.select_related("product")]
    customer = quote.customer
    try:
        with transaction.atomic():
            order = order_create(data=OrderInput(
                customer=customer, email=customer.email, lines=lines,
                billing_address=address_snapshot(customer),
                shipping_address=address_snapshot(customer, shipping=True),
                discount_percent=quote.discount_percent, source=OrderSource.QUOTE, quote=quote,
                currency=quote.currency), by=by)
            transition_run(quote, "convert", by=by, check_role=False,
                           data={"order": order.number})
    except (CatalogError, SalesError) as exc:
        quote.conversion_problem = getattr(exc, "message", str(exc))
        quote.save(update_fields=["conversion_problem", "updated_at"])
        return None
    return order


@transaction.atomic
def quote_accept(*, quote: Quote, name: str, accept_terms: bool, ip: str | None,
                 by: User | None = None, base_url: str = "") -> Order | None:
    """The customer accepts (through their link: `by` is None) or staff record an acceptance
    (`by` needs the right to change quotes). The order is placed in the same transaction when
    stock allows; otherwise the quote stays accepted and staff convert it later."""
    name = " ".join((name or "").split())
    if len(name) < 2:
        raise SalesError(_("Type your full name to sign."), field="name")
    if not accept_terms:
        raise SalesError(_("Tick the box to accept the terms."), field="accept_terms")
    quote = _locked(quote)
    if by is None:
        quote_check_link(quote)
    elif quote.status == QuoteStatus.SENT and quote.is_expired_on(timezone.localdate()):
        raise SalesError(_("This quote expired on %(date)s: revise it with a new date.")
                         % {"date": quote.valid_until})
    transition_run(quote, "accept", by=by, by_customer=by is None, name=name[:150], ip=ip,
                   data={"name": name[:150], "ip": ip or ""})
    order = _convert(quote, by=by)
    if by is None and base_url:
        staff_quote_notice_send(kind="accepted", quote=quote, base_url=base_url)
    return order


@transaction.atomic
def quote_decline(*, quote: Quote, reason: str, by: User | None = None,
                  base_url: str = "") -> Quote:
    reason = (reason or "").strip()
    if not reason:
        raise SalesError(_("Tell us why, so we can make a better offer."), field="reason")
    quote = _locked(quote)
    if by is None:
        quote_check_link(quote)
    transition_run(quote, "decline", by=by, by_customer=by is None, reason=reason[:2000],
                   message=reason[:2000])
    if by is None and base_url:
        staff_quote_notice_send(kind="declined", quote=quote, base_url=base_url)
    return quote


@transaction.atomic
def quote_cancel(*, quote: Quote, by: User | None, reason: str = "") -> Quote:
    quote = _locked(quote)
    transition_run(quote, "cancel", by=by, message=(reason or "").strip()[:2000])
    return quote


@transaction.atomic
def quote_convert(*, quote: Quote, by: User | None) -> Order:
    """Staff convert an accepted quote whose automatic conversion failed (e.g. stock was
    received since). Raises SalesError with the reason when it still cannot."""
    quote = _locked(quote)
    transition_check(quote, "convert", by=by)
    order = _convert(quote, by=by)
    if order is None:
        raise SalesError(quote.conversion_problem)
    return order


def quotes_expire(*, today: date | None = None) -> int:
    """Sent quotes whose validity date has passed become expired (periodic task)."""
    today = today or timezone.localdate()
    expired = 0
    ids = list(Quote.objects.filter(status=QuoteStatus.SENT, valid_until__lt=today)
               .values_list("pk", flat=True))
    for pk in ids:
        with transaction.atomic():
            quote = Quote.objects.select_for_update(skip_locked=True).filter(
                pk=pk, status=QuoteStatus.SENT).first()
            if quote is None:
                continue  # accepted or changed meanwhile
            try:
                transition_run(quote, "expire", by=None)
            except IllegalTransition:
                continue
            expired += 1
    return expired


@transaction.atomic
def quote_request_from_cart(*, cart: Cart, customer: Customer, message: str,
                            base_url: str) -> Quote:
    """A customer asks for a quote for what is in their cart: a draft for staff to price."""
    cart_lines = list(cart.lines.all())
    if not cart_lines:
        raise SalesError(_("Your cart is empty."))
    products = BaseProduct.objects.select_related("tax_rate").in_bulk(
        [line.product_id for line in cart_lines])
    lines = [LineInput.from_product(products[line.product_id], line.quantity)
             for line in cart_lines if not products[line.product_id].is_archived]
    quote = quote_create(customer=customer, by=None, lines=lines, source=QuoteSource.CART,
                         data={"notes": ""})
    message = (message or "").strip()
    if message:
        record(subject=quote, verb="customer_message", actor=None, customer=True,
               message=message[:2000])
    staff_quote_notice_send(kind="requested", quote=quote, base_url=base_url)
    return quote

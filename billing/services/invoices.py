"""Invoices and credit notes: drafts made from an order (whole, or a deposit / instalment
percentage) or by staff, issued with a gap-free number from a counter locked in the issuing
transaction, then frozen; corrected only by credit notes.

Lock order (as in sales): the document row, then the number counter.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import connection, transaction
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from billing.errors import BillingError
from billing.models import (
    BillingSettings,
    DocumentKind,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
)
from catalog.pricing import HUNDRED, line_totals, quantize
from sales.models import ADDRESS_FIELDS, Customer, Order, OrderStatus
from sales.services.customers import address_snapshot
from sales.services.numbering import sequence_next
from sales.services.orders import LineInput
from sales.services.workflow import transition_check
from streams.events import acting, auto_follow, record
from tenants.models import Shop

if TYPE_CHECKING:
    from tenants.accounts.models import User

ZERO = Decimal("0.00")
# What the law asks to print about the seller (Code de commerce R123-237, CGI art. 242 nonies A).
SELLER_FIELDS = ("legal_name", "legal_form", "share_capital", "siren", "siret", "vat_number",
                 "rcs", "address_line1", "address_line2", "postal_code", "city", "country",
                 "iban", "bic")
REQUIRED_SELLER_FIELDS = {"legal_name": _("legal name"), "siren": "SIREN",
                          "address_line1": _("address"), "postal_code": _("postal code"),
                          "city": _("city")}


def plain(number: Decimal) -> str:
    """30, 5.5: a number as written in a sentence (never 3E+1)."""
    return f"{number.normalize():f}"


def billing_settings() -> BillingSettings:
    """The shop's billing settings (one row, made by migration; made again if removed)."""
    return BillingSettings.objects.order_by("pk").first() or BillingSettings.objects.create()


BILLING_SETTINGS_FIELDS = ("invoice_prefix", "credit_note_prefix", "payment_terms_days",
                           "late_penalty_rate", "reminder_days", "unpaid_checkout_hours",
                           "invoice_paid_orders")


@transaction.atomic
def billing_settings_update(*, by: User | None, **values) -> BillingSettings:
    """Change the shop's billing settings. Prefixes and terms apply to documents issued from
    now on: issued ones keep their number, due date and terms (they are frozen)."""
    unknown = set(values) - set(BILLING_SETTINGS_FIELDS)
    if unknown:
        raise BillingError(_("Unknown settings: %(names)s") % {"names": ", ".join(sorted(unknown))})
    if values.get("payment_terms_days") is not None and values["payment_terms_days"] > 60:
        raise BillingError(_("French law caps payment terms at 60 days from the invoice date."),
                           field="payment_terms_days")
    settings = BillingSettings.objects.select_for_update().get(pk=billing_settings().pk)
    for field, value in values.items():
        setattr(settings, field, value)
    settings.save(update_fields=list(values) or None)
    return settings


def shop_language():
    """Text printed on a document (titles, line names) is in the shop's language, whoever or
    whatever makes it (staff browsing in English, a webhook, a periodic task)."""
    return translation.override(_current_shop().locale or "fr")


def _current_shop() -> Shop:
    shop = connection.tenant
    if not isinstance(shop, Shop):
        shop = Shop.objects.get(schema_name=connection.schema_name)
    return shop


def seller_snapshot(shop: Shop | None = None) -> dict:
    shop = shop or _current_shop()
    return {"name": shop.name, **{f: getattr(shop, f) for f in SELLER_FIELDS}}


def buyer_snapshot(customer: Customer, order: Order | None = None) -> dict:
    address = (dict(order.billing_address) if order is not None and order.billing_address
               else address_snapshot(customer))
    return {
        "name": customer.display_name, "company_name": customer.company_name,
        "email": customer.email, "vat_number": customer.vat_number,
        "company_id": customer.company_id, "is_business": customer.is_business,
        "address": {k: address.get(k, "") for k in ADDRESS_FIELDS},
    }


def _locked(invoice: Invoice) -> Invoice:
    return Invoice.objects.select_for_update().get(pk=invoice.pk)


def _require_draft(invoice: Invoice) -> None:
    if invoice.status != InvoiceStatus.DRAFT:
        raise BillingError(_("%(document)s is issued: it can no longer change. Make a credit "
                             "note to correct it.") % {"document": invoice.reference})


def _write_lines(invoice: Invoice, lines: Sequence[LineInput]) -> None:
    rows = []
    start = invoice.lines.count()
    for position, line in enumerate(lines, start=start):
        row = InvoiceLine(invoice=invoice, product=line.product, name=line.name[:200],
                          sku=line.sku, quantity=line.quantity, unit=line.unit,
                          unit_net=line.unit_net, tax_rate=line.tax_rate,
                          discount_percent=line.discount_percent, position=position)
        row.extra_discount_percent = line.extra_discount_percent
        amounts = line_totals(row.pricing_line(row.extra_discount_percent), invoice.currency)
        row.net, row.vat, row.gross = amounts.net, amounts.vat, amounts.gross
        rows.append(row)
    InvoiceLine.objects.bulk_create(rows)


def _refresh_totals(invoice: Invoice) -> Invoice:
    summary = invoice.compute_totals(list(invoice.lines.all()))
    invoice.net_total, invoice.vat_total, invoice.gross_total = (summary.net, summary.vat,
                                                                 summary.gross)
    invoice.save(update_fields=["net_total", "vat_total", "gross_total", "updated_at"])
    return invoice


def _check_lines(lines: Sequence[LineInput]) -> None:
    if not lines:
        raise BillingError(_("An invoice needs at least one line."))
    for line in lines:
        if not line.name.strip():
            raise BillingError(_("Describe every line."), field="lines")
        if line.quantity == 0:
            raise BillingError(_("A line's quantity cannot be zero."), field="lines")


@transaction.atomic
def invoice_create(*, customer: Customer, lines: Sequence[LineInput], by: User | None,
                   title: str = "", notes: str = "", service_date: date | None = None,
                   order: Order | None = None,
                   order_percent: Decimal | None = None) -> Invoice:
    """A draft invoice (standalone, or for an order): lines are snapshots."""
    _check_lines(lines)
    invoice = Invoice.objects.create(
        kind=DocumentKind.INVOICE, customer=customer, order=order, order_percent=order_percent,
        title=title.strip()[:200], notes=notes.strip(), service_date=service_date,
        buyer=buyer_snapshot(customer, order),
        currency=order.currency if order is not None else "EUR",
        created_by=by if by is not None and by.pk else None)
    _write_lines(invoice, lines)
    _refresh_totals(invoice)
    record(subject=invoice, verb="created", actor=by)
    auto_follow(user=by, subject=invoice)
    return invoice


def _order_lines(order: Order) -> list[LineInput]:
    lines = [LineInput(name=line.name, quantity=line.quantity, unit_net=line.unit_net,
                       tax_rate=line.tax_rate, product=line.product, sku=line.sku,
                       unit=line.unit, discount_percent=line.discount_percent,
                       extra_discount_percent=order.discount_percent)
             for line in order.lines.all()]
    if order.shipping_net:
        lines.append(LineInput(name=_("Shipping: %(name)s") % {"name": order.shipping_name},
                               quantity=Decimal("1"), unit_net=order.shipping_net,
                               tax_rate=order.shipping_tax_rate))
    return lines


def _invoiced_percent(order: Order) -> Decimal:
    """How much of the order live invoices already bill (deposits, instalments, the whole)."""
    live = order.invoices.filter(kind=DocumentKind.INVOICE).exclude(
        status=InvoiceStatus.CANCELLED)
    return sum((invoice.order_percent or ZERO for invoice in live), ZERO)


@transaction.atomic
def invoice_create_for_order(*, order: Order, by: User | None,
                             percent: Decimal = HUNDRED) -> Invoice:
    """The order's invoice: the whole order, or a deposit / instalment of `percent` of it
    (one line per VAT rate, so the VAT of the deposit is exact). The invoice that completes
    the order lists every line and deducts the deposits already invoiced. Never more than
    100 % of an order is invoiced."""
    order = Order.objects.select_for_update().get(pk=order.pk)
    if order.status == OrderStatus.CANCELLED:
        raise BillingError(_("Order %(number)s is cancelled: there is nothing to invoice.")
                           % {"number": order.number})
    percent = Decimal(percent)
    if not ZERO < percent <= HUNDRED:
        raise BillingError(_("Invoice between 1 and 100 % of the order."), field="percent")
    already = _invoiced_percent(order)
    if already + percent > HUNDRED:
        raise BillingError(_("%(done)s %% of order %(number)s is already invoiced: at most "
                             "%(left)s %% is left.") % {
            "done": plain(already), "number": order.number,
            "left": plain(HUNDRED - already)}, field="percent")
    with shop_language():
        lines, title = _order_invoice_text(order, percent=percent, already=already)
    return invoice_create(customer=order.customer, lines=lines, by=by, title=title,
                          order=order, order_percent=percent,
                          service_date=timezone.localdate(order.shipped_at or order.placed_at))


def _order_invoice_text(order: Order, *, percent: Decimal, already: Decimal):
    """The lines and title of an order's invoice (in the active language)."""
    full = _order_lines(order)
    if already + percent < HUNDRED:  # a deposit or an instalment
        summary = order.compute_totals()
        lines = [LineInput(
            name=_("Deposit of %(percent)s %% on order %(number)s (VAT %(rate)s %%)") % {
                "percent": plain(percent), "number": order.number, "rate": plain(rate)},
            quantity=Decimal("1"), unit_net=quantize(base * percent / HUNDRED), tax_rate=rate)
            for rate, (base, _vat) in summary.vat_by_rate.items() if base]
        title = _("Deposit %(percent)s %% — order %(number)s") % {
            "percent": plain(percent), "number": order.number}
    else:  # the whole order, or the balance after deposits
        lines = full
        deposits = list(order.invoices.filter(kind=DocumentKind.INVOICE).exclude(
            status=InvoiceStatus.CANCELLED).prefetch_related("lines"))
        for deposit in deposits:
            for line in deposit.lines.all():
                lines.append(LineInput(
                    name=_("Less deposit invoiced on %(invoice)s") % {"invoice": deposit.reference},
                    quantity=Decimal("-1"), unit_net=line.net, tax_rate=line.tax_rate))
        title = (_("Balance of order %(number)s") if deposits
                 else _("Order %(number)s")) % {"number": order.number}
    return lines, title


@transaction.atomic
def invoice_update(*, invoice: Invoice, by: User | None, title: str | None = None,
                   notes: str | None = None, service_date: date | None = None,
                   add_lines: Sequence[LineInput] = (), remove_line_ids: Sequence[int] = ()
                   ) -> Invoice:
    """Edit a draft (an issued document refuses: here, and in the database)."""
    invoice = _locked(invoice)
    _require_draft(invoice)
    if title is not None:
        invoice.title = title.strip()[:200]
    if notes is not None:
        invoice.notes = notes.strip()
    if service_date is not None:
        invoice.service_date = service_date
    invoice.save()
    if remove_line_ids:
        invoice.lines.filter(pk__in=list(remove_line_ids)).delete()
    if add_lines:
        _check_lines(add_lines)
        _write_lines(invoice, add_lines)
    if not invoice.lines.exists():
        raise BillingError(_("An invoice needs at least one line."))
    return _refresh_totals(invoice)


@transaction.atomic
def invoice_delete_draft(*, invoice: Invoice, by: User | None) -> None:
    invoice = _locked(invoice)
    _require_draft(invoice)
    invoice.delete()


def _number(kind: str, settings: BillingSettings, today: date) -> str:
    prefix = (settings.credit_note_prefix if kind == DocumentKind.CREDIT_NOTE
              else settings.invoice_prefix).strip() or ("A" if kind == DocumentKind.CREDIT_NOTE
                                                         else "F")
    value = sequence_next(f"{kind}-{today.year}")
    return f"{prefix}-{today.year}-{value:05d}"


def _missing_seller_fields(seller: dict) -> list[str]:
    return [str(label) for field, label in REQUIRED_SELLER_FIELDS.items()
            if not (seller.get(field) or "").strip()]


@transaction.atomic
def invoice_issue(*, invoice: Invoice, by: User | None, check_role: bool = True) -> Invoice:
    """Number and freeze the document: seller and buyer snapshots, dates, payment terms.
    Refused while the shop's legal identity misses a mention the law requires.
    `check_role=False`: issued as part of an action the user may run (a refund's credit note,
    a card payment's invoice)."""
    invoice = _locked(invoice)
    transition_check(invoice, "issue", by=by if check_role else None)
    seller = seller_snapshot()
    missing = _missing_seller_fields(seller)
    if missing:
        raise BillingError(_("Your legal identity is incomplete (%(fields)s): French invoices "
                             "must show it. Fill it in under Settings.")
                           % {"fields": ", ".join(missing)})
    if not invoice.lines.exists():
        raise BillingError(_("An invoice needs at least one line."))
    if invoice.is_credit_note:
        credited = Invoice.objects.select_for_update().get(pk=invoice.credited_invoice_id)
        if invoice.gross_total > credited.gross_total - credited.amount_credited:
            raise BillingError(_("This credit note is larger than what is left to credit on "
                                 "%(invoice)s.") % {"invoice": credited.reference})
    settings = billing_settings()
    today = timezone.localdate()
    invoice.seller = seller
    invoice.buyer = buyer_snapshot(invoice.customer, invoice.order)
    invoice.issue_date = today
    invoice.service_date = invoice.service_date or today
    invoice.late_penalty_rate = settings.late_penalty_rate
    if not invoice.is_credit_note:
        invoice.due_date = today + timedelta(days=settings.payment_terms_days)
        # Printed on the document: in the shop's language, whoever issues it.
        with translation.override(_current_shop().locale or "fr"):
            invoice.payment_terms = (
                _("Payment within %(days)d days, by %(due)s.")
                % {"days": settings.payment_terms_days,
                   "due": formats.date_format(invoice.due_date, "SHORT_DATE_FORMAT")})
    with acting(by):  # streams records the transition (its number in the event's data)
        invoice.issue(number=_number(invoice.kind, settings, today), by=by)
    invoice.save()
    if invoice.is_credit_note:
        _apply_credit(credited, invoice, by=by)
    return invoice


def _apply_credit(credited: Invoice, credit_note: Invoice, *, by: User | None) -> None:
    """An issued credit note lowers what its invoice is worth; a fully credited invoice that
    was not paid is closed (cancelled); one that was paid stays paid and the money goes back
    through a refund."""
    credited.amount_credited += credit_note.gross_total
    credited.save(update_fields=["amount_credited", "updated_at"])
    data = {"credit_note": credit_note.number, "amount": str(credit_note.gross_total),
            "currency": credit_note.currency}
    if credited.status in (InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID,
                           InvoiceStatus.OVERDUE):
        # The state follows what is owed: that transition is the credit's one event.
        with acting(by, data=data):
            if credited.amount_credited >= credited.gross_total:
                credited.cancel()
            else:
                credited.settle(today=timezone.localdate())
        credited.save()
    else:  # a paid invoice stays paid (the money goes back through a refund)
        record(subject=credited, verb="credited", actor=by, data=data)


@transaction.atomic
def credit_note_create(*, invoice: Invoice, by: User | None, reason: str,
                       lines: Sequence[LineInput] | None = None) -> Invoice:
    """A draft credit note for an issued invoice: all of it (`lines=None`), or the given
    lines (partial). Issuing it (invoice_issue) applies it to the invoice."""
    reason = (reason or "").strip()
    if not reason:
        raise BillingError(_("Say why the invoice is corrected (printed on the credit note)."),
                           field="reason")
    invoice = _locked(invoice)
    if invoice.is_credit_note or invoice.status == InvoiceStatus.DRAFT:
        raise BillingError(_("Only an issued invoice can be credited; a draft can simply be "
                             "changed or deleted."))
    if invoice.gross_total - invoice.amount_credited <= 0:
        raise BillingError(_("%(invoice)s is already fully credited.")
                           % {"invoice": invoice.reference})
    # What is paid cannot be credited (the invoice would be paid beyond its worth): that money
    # goes back through a refund of the payment, which makes its own credit note.
    left = invoice.gross_total - invoice.amount_credited - invoice.amount_paid
    if left <= 0:
        raise BillingError(_("%(invoice)s is paid: refund its payment instead (the refund makes "
                             "the credit note).") % {"invoice": invoice.reference})
    if lines is None:
        lines = [LineInput(name=line.name, quantity=line.quantity, unit_net=line.unit_net,
                           tax_rate=line.tax_rate, product=line.product, sku=line.sku,
                           unit=line.unit, discount_percent=line.discount_percent,
                           extra_discount_percent=line.extra_discount_percent)
                 for line in invoice.lines.all()]
        if invoice.amount_credited:
            raise BillingError(_("%(invoice)s is partly credited already: credit what is left "
                                 "line by line.") % {"invoice": invoice.reference})
        if invoice.amount_paid:
            raise BillingError(_("%(invoice)s is partly paid: credit what is still owed line by "
                                 "line, and refund the payment for the rest.")
                               % {"invoice": invoice.reference})
    _check_lines(lines)
    note = Invoice.objects.create(
        kind=DocumentKind.CREDIT_NOTE, customer=invoice.customer, order=invoice.order,
        credited_invoice=invoice, reason=reason, currency=invoice.currency,
        title=_credit_title(invoice),
        buyer=invoice.buyer, created_by=by if by is not None and by.pk else None)
    _write_lines(note, lines)
    _refresh_totals(note)
    if note.gross_total > left:
        raise BillingError(_("A credit note cannot exceed what is left on %(invoice)s "
                             "(%(left)s).") % {"invoice": invoice.reference, "left": left})
    record(subject=note, verb="created", actor=by, message=reason)
    auto_follow(user=by, subject=note)
    return note


def _credit_title(invoice: Invoice) -> str:
    with shop_language():
        return _("Credit note on %(invoice)s") % {"invoice": invoice.reference}


def credit_amount_lines(*, invoice: Invoice, amount: Decimal, label: str) -> list[LineInput]:
    """Lines for a credit note of `amount` incl. VAT on `invoice` (a partial refund): split
    across its VAT rates in proportion, so the VAT credited is right for each rate."""
    summary = invoice.compute_totals()
    gross_total = invoice.gross_total
    if gross_total <= 0:
        raise BillingError(_("Nothing to credit on %(invoice)s.") % {"invoice": invoice.reference})
    lines, remaining = [], amount
    rates = [(rate, base, vat) for rate, (base, vat) in summary.vat_by_rate.items() if base]
    for index, (rate, base, vat) in enumerate(rates):
        share_gross = (remaining if index == len(rates) - 1
                       else quantize(amount * (base + vat) / gross_total))
        remaining -= share_gross
        net = quantize(share_gross * HUNDRED / (HUNDRED + rate))
        with shop_language():
            name = _("%(label)s (VAT %(rate)s %%)") % {"label": label, "rate": plain(rate)}
        lines.append(LineInput(name=name,
                               quantity=Decimal("1"), unit_net=net, tax_rate=rate))
    return lines


@transaction.atomic
def credit_note_create_issued(*, invoice: Invoice, by: User | None, reason: str,
                              lines: Sequence[LineInput] | None = None) -> Invoice:
    """A credit note made and issued at once (numbered, applied to its invoice), all or
    nothing: for callers that have no use for a draft credit note (the API). Issuing checks
    the user's role."""
    note = credit_note_create(invoice=invoice, by=by, reason=reason, lines=lines)
    return invoice_issue(invoice=note, by=by)

"""Billing of one shop (tenant schema): invoices and credit notes (one table, two gap-free
sequences), their lines, payments and refunds, Stripe webhook events, and the shop's billing
settings.

An issued document is frozen: the services never change it, and database triggers (migration
0002) refuse any change to its numbered, legal content and any deletion. It is corrected only by
a credit note.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_fsm import RETURN_VALUE, ConcurrentTransitionMixin, FSMField, transition

from billing.storage import get_private_storage
from catalog.pricing import Totals, totals
from sales.models import DocumentLine

ZERO = Decimal("0.00")
HUNDRED = Decimal("100")


def _money(**kwargs) -> models.DecimalField:
    return models.DecimalField(max_digits=14, decimal_places=2, **kwargs)


class BillingSettings(models.Model):
    """One row per shop: numbering prefixes, payment terms, reminders, stale checkouts."""

    invoice_prefix = models.CharField(_("invoice number prefix"), max_length=8, default="F")
    credit_note_prefix = models.CharField(_("credit note number prefix"), max_length=8,
                                          default="A")
    payment_terms_days = models.PositiveSmallIntegerField(
        _("payment terms (days)"), default=30, validators=[MaxValueValidator(60)],
        help_text=_("French law caps terms at 60 days from the invoice date."))
    late_penalty_rate = models.DecimalField(
        _("late-payment penalty rate (% per year)"), max_digits=5, decimal_places=2,
        default=Decimal("12.00"), validators=[MinValueValidator(ZERO)],
        help_text=_("At least three times the legal interest rate."))
    reminder_days = models.CharField(
        _("reminders (days after the due date)"), max_length=40, default="7,15,30",
        help_text=_("Comma-separated, e.g. 7,15,30. Leave empty for no reminders."))
    unpaid_checkout_hours = models.PositiveSmallIntegerField(
        _("cancel unpaid card orders after (hours)"), default=48,
        validators=[MinValueValidator(1)])
    invoice_paid_orders = models.BooleanField(
        _("invoice orders when they are paid by card"), default=True)

    class Meta:
        verbose_name_plural = _("billing settings")

    def __str__(self) -> str:
        return "billing settings"

    @property
    def reminder_schedule(self) -> list[int]:
        days = []
        for part in self.reminder_days.split(","):
            part = part.strip()
            if part.isdigit():
                days.append(int(part))
        return sorted(set(days))


class DocumentKind(models.TextChoices):
    INVOICE = "invoice", _("Invoice")
    CREDIT_NOTE = "credit_note", _("Credit note")


class InvoiceStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ISSUED = "issued", pgettext_lazy("invoice status", "Issued")
    PARTIALLY_PAID = "partially_paid", _("Partially paid")
    PAID = "paid", pgettext_lazy("invoice status", "Paid")
    OVERDUE = "overdue", _("Overdue")
    CANCELLED = "cancelled", pgettext_lazy("invoice status", "Cancelled")


# An invoice waiting for money, in any of its states.
PAYABLE = [InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID, InvoiceStatus.OVERDUE]


class Invoice(ConcurrentTransitionMixin, models.Model):
    """An invoice or a credit note. Numbers are given when the document is issued, from a
    counter per kind and year locked in the issuing transaction (F-2026-00001, A-2026-00001)."""

    kind = models.CharField(_("kind"), max_length=12, choices=DocumentKind.choices,
                            default=DocumentKind.INVOICE)
    number = models.CharField(_("number"), max_length=24, null=True, blank=True, unique=True)
    status = FSMField(_("status"), default=InvoiceStatus.DRAFT, choices=InvoiceStatus.choices,
                      protected=True, db_index=True)
    customer = models.ForeignKey("sales.Customer", on_delete=models.PROTECT,
                                 related_name="invoices", verbose_name=_("customer"))
    order = models.ForeignKey("sales.Order", on_delete=models.PROTECT, null=True, blank=True,
                              related_name="invoices", verbose_name=_("order"))
    # A credit note corrects one invoice.
    credited_invoice = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True,
                                         related_name="credit_notes")
    # A deposit or instalment: its share of the order (100 for the whole order).
    order_percent = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    title = models.CharField(_("title"), max_length=200, blank=True)
    # Snapshots taken when the document is issued: later edits of the shop's legal identity or
    # of the customer's address never change an issued document.
    seller = models.JSONField(default=dict, blank=True)
    buyer = models.JSONField(default=dict, blank=True)
    issue_date = models.DateField(_("date"), null=True, blank=True)
    service_date = models.DateField(_("date of sale or service"), null=True, blank=True)
    due_date = models.DateField(_("due date"), null=True, blank=True)
    payment_terms = models.TextField(_("payment terms"), blank=True)
    late_penalty_rate = models.DecimalField(max_digits=5, decimal_places=2, default=ZERO)
    reason = models.TextField(_("reason"), blank=True, help_text=_("Why a credit note is made."))
    notes = models.TextField(_("notes"), blank=True)
    currency = models.CharField(max_length=3, default="EUR")
    net_total = _money(default=ZERO)
    vat_total = _money(default=ZERO)
    gross_total = _money(default=ZERO)
    amount_paid = _money(default=ZERO)
    amount_credited = _money(default=ZERO)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                  null=True, blank=True, related_name="+")
    issued_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    reminders_sent = models.PositiveSmallIntegerField(default=0)
    last_reminder_at = models.DateTimeField(null=True, blank=True)
    # The issued PDF (Factur-X), made once from the frozen document and kept, privately.
    pdf = models.FileField(upload_to="invoices/%Y/", blank=True, storage=get_private_storage)

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [
            ("issue_invoice", "Can issue invoices and credit notes"),
            ("record_payment", "Can record payments received"),
            ("refund_payment", "Can refund payments"),
            ("manage_billing_settings", "Can change billing settings and connect Stripe"),
        ]
        indexes = [models.Index(fields=["customer", "-created_at"]),
                   models.Index(fields=["status", "due_date"]),
                   models.Index(fields=["kind", "-issue_date"])]
        constraints = [
            models.CheckConstraint(condition=Q(status="draft") | Q(number__isnull=False),
                                   name="issued_document_has_number"),
            models.CheckConstraint(
                condition=Q(kind="invoice") | Q(credited_invoice__isnull=False),
                name="credit_note_names_its_invoice"),
            models.CheckConstraint(condition=Q(amount_paid__gte=0) & Q(amount_credited__gte=0),
                                   name="invoice_amounts_not_negative"),
            models.CheckConstraint(
                condition=Q(kind="credit_note")
                | Q(amount_paid__lte=models.F("gross_total") - models.F("amount_credited")),
                name="invoice_never_overpaid"),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def reference(self) -> str:
        if self.number:
            return self.number
        return str(_("Draft credit note") if self.is_credit_note else _("Draft invoice"))

    @property
    def is_credit_note(self) -> bool:
        return self.kind == DocumentKind.CREDIT_NOTE

    @property
    def is_draft(self) -> bool:
        return self.status == InvoiceStatus.DRAFT

    @property
    def balance(self) -> Decimal:
        """What the customer still owes on an invoice."""
        if self.is_credit_note or self.status in (InvoiceStatus.DRAFT, InvoiceStatus.CANCELLED):
            return ZERO
        return max(self.gross_total - self.amount_paid - self.amount_credited, ZERO)

    def is_overdue_on(self, day) -> bool:
        return self.status in PAYABLE and self.due_date is not None and self.due_date < day

    def compute_totals(self, lines=None) -> Totals:
        lines = self.lines.all() if lines is None else lines
        return totals([line.pricing_line(line.extra_discount_percent) for line in lines],
                      self.currency)

    # Transitions only check and change state; billing.services orchestrates them.
    @transition(field=status, source=InvoiceStatus.DRAFT, target=InvoiceStatus.ISSUED,
                permission="billing.issue_invoice")
    def issue(self, *, number: str, by) -> None:
        self.number = number
        self.issued_at = timezone.now()
        self.issued_by = by if by is not None and by.pk else None

    @transition(field=status, source=PAYABLE,
                target=RETURN_VALUE(InvoiceStatus.PARTIALLY_PAID, InvoiceStatus.PAID,
                                    InvoiceStatus.OVERDUE, InvoiceStatus.ISSUED))
    def settle(self, *, today) -> str:
        """Payments or credits changed what is owed: the state follows the balance."""
        if self.balance <= 0:
            self.paid_at = self.paid_at or timezone.now()
            return InvoiceStatus.PAID
        self.paid_at = None
        if self.due_date is not None and self.due_date < today:
            return InvoiceStatus.OVERDUE
        return InvoiceStatus.PARTIALLY_PAID if self.amount_paid > 0 else InvoiceStatus.ISSUED

    @transition(field=status, source=[InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID],
                target=InvoiceStatus.OVERDUE)
    def mark_overdue(self) -> None:
        pass

    @transition(field=status, source=[*PAYABLE, InvoiceStatus.PAID],
                target=InvoiceStatus.CANCELLED)
    def cancel(self) -> None:
        """A credit note now covers everything that was not paid (the invoice is closed)."""
        self.cancelled_at = timezone.now()


class InvoiceLine(DocumentLine):
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    # The order's global discount, carried by each of its lines (a deposit deduction has none).
    extra_discount_percent = models.DecimalField(max_digits=5, decimal_places=2, default=ZERO,
                                                 validators=[MinValueValidator(ZERO),
                                                             MaxValueValidator(HUNDRED)])
    net = _money(default=ZERO)
    vat = _money(default=ZERO)
    gross = _money(default=ZERO)

    class Meta(DocumentLine.Meta):
        pass


class PaymentMethod(models.TextChoices):
    CARD = "card", _("Card")
    BANK_TRANSFER = "bank_transfer", _("Bank transfer")
    CHEQUE = "cheque", _("Cheque")
    CASH = "cash", _("Cash")


MANUAL_METHODS = [PaymentMethod.BANK_TRANSFER, PaymentMethod.CHEQUE, PaymentMethod.CASH]


class PaymentStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")


class Payment(ConcurrentTransitionMixin, models.Model):
    """One attempt to pay an order or an invoice: a card payment through Stripe Checkout
    (pending until the webhook confirms it), or money staff say they received."""

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, null=True, blank=True,
                                related_name="payments")
    order = models.ForeignKey("sales.Order", on_delete=models.PROTECT, null=True, blank=True,
                              related_name="payments")
    customer = models.ForeignKey("sales.Customer", on_delete=models.PROTECT,
                                 related_name="payments")
    method = models.CharField(_("method"), max_length=16, choices=PaymentMethod.choices)
    status = FSMField(_("status"), default=PaymentStatus.PENDING,
                      choices=PaymentStatus.choices, protected=True, db_index=True)
    amount = _money(verbose_name=_("amount"), validators=[MinValueValidator(Decimal("0.01"))])
    amount_refunded = _money(default=ZERO)
    currency = models.CharField(max_length=3, default="EUR")
    received_on = models.DateField(_("received on"), null=True, blank=True)
    reference = models.CharField(_("reference"), max_length=100, blank=True,
                                 help_text=_("Cheque number, transfer reference…"))
    note = models.TextField(_("note"), blank=True)
    # Stripe: the Checkout Session, then what it produced.
    stripe_account = models.CharField(max_length=64, blank=True)
    checkout_session_id = models.CharField(max_length=255, null=True, blank=True, unique=True)
    checkout_url = models.URLField(max_length=2000, blank=True)
    payment_intent_id = models.CharField(max_length=255, blank=True, db_index=True)
    application_fee = _money(default=ZERO)
    failure_message = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    succeeded_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(invoice__isnull=False) | Q(order__isnull=False),
                                   name="payment_pays_something"),
            models.CheckConstraint(condition=Q(amount_refunded__lte=models.F("amount"))
                                   & Q(amount_refunded__gte=0),
                                   name="payment_refunds_within_amount"),
        ]

    def __str__(self) -> str:
        return f"{self.get_method_display()} {self.amount} {self.currency}"

    @property
    def refundable(self) -> Decimal:
        return self.amount - self.amount_refunded if self.status == PaymentStatus.SUCCEEDED \
            else ZERO

    @transition(field=status, source=PaymentStatus.PENDING, target=PaymentStatus.SUCCEEDED)
    def succeed(self) -> None:
        self.succeeded_at = timezone.now()
        self.failure_message = ""

    @transition(field=status, source=PaymentStatus.PENDING, target=PaymentStatus.FAILED)
    def fail(self, *, message: str = "") -> None:
        self.failed_at = timezone.now()
        self.failure_message = message


class RefundStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")


class Refund(models.Model):
    """Money given back on a payment, with the credit note that documents it."""

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    amount = _money(verbose_name=_("amount"), validators=[MinValueValidator(Decimal("0.01"))])
    status = models.CharField(max_length=10, choices=RefundStatus.choices,
                              default=RefundStatus.PENDING)
    reason = models.TextField(_("reason"), blank=True)
    stripe_refund_id = models.CharField(max_length=255, null=True, blank=True, unique=True)
    credit_note = models.ForeignKey(Invoice, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="refunds")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    succeeded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Refund {self.amount} of payment {self.payment_id}"


class WebhookEvent(models.Model):
    """A Stripe event this shop has handled, stored in the same transaction as its effect: a
    replay finds it and does nothing."""

    event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100)
    account = models.CharField(max_length=64, blank=True)
    created = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(default=timezone.now)
    outcome = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"

"""Dashboard forms for billing. They only parse and validate input; billing.services write (and
raise BillingError, shown next to the field it names)."""

from __future__ import annotations

import re
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from billing.models import MANUAL_METHODS, BillingSettings, DocumentKind, InvoiceStatus
from billing.services.stripe_account import STRIPE_ACCOUNT_RE
from catalog.models import TaxRate

ZERO = Decimal("0")
HUNDRED = Decimal("100")


def _decimal(label, *, required=True, min_value=ZERO, max_value=None, places=2, **kwargs):
    # localize: a French user types 12,5 and sees 12,50.
    return forms.DecimalField(label=label, required=required, min_value=min_value,
                              max_value=max_value, decimal_places=places, max_digits=14,
                              localize=True, widget=forms.TextInput(attrs={"inputmode": "decimal"}),
                              **kwargs)


class _DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


# ---------------------------------------------------------------------------------------------
# The invoices list: every value lives in the URL; an invalid one is ignored, never an error.
# ---------------------------------------------------------------------------------------------
INVOICE_SORTS = {"date": "issue_date", "-date": "-issue_date", "number": "number",
                 "-number": "-number", "total": "gross_total", "-total": "-gross_total",
                 "due": "due_date", "-due": "-due_date"}
INVOICE_STATUS_FILTERS = [("", _("All")), ("unpaid", _("Unpaid")), *InvoiceStatus.choices]
INVOICE_KIND_FILTERS = [("", _("Invoices and credit notes")), *DocumentKind.choices]


class InvoiceFilterForm(forms.Form):
    q = forms.CharField(required=False, max_length=100)
    sort = forms.CharField(required=False)
    page = forms.IntegerField(required=False, min_value=1)
    status = forms.ChoiceField(required=False, choices=INVOICE_STATUS_FILTERS)
    kind = forms.ChoiceField(label=_("Kind"), required=False, choices=INVOICE_KIND_FILTERS)
    customer = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    date_from = forms.DateField(label=_("Issued from"), required=False, widget=_DateInput)
    date_to = forms.DateField(label=_("to"), required=False, widget=_DateInput)

    DEFAULT_SORT = "-date"

    def clean_sort(self) -> str:
        sort = self.cleaned_data.get("sort") or self.DEFAULT_SORT
        return sort if sort in INVOICE_SORTS else self.DEFAULT_SORT

    def values(self) -> dict:
        """The valid filters, each invalid one dropped (a stale bookmark still opens)."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {name: data.get(name) for name in self.fields if name not in self.errors}


# ---------------------------------------------------------------------------------------------
# Drafts: a new invoice, its lines, its title and notes
# ---------------------------------------------------------------------------------------------
class InvoiceLineForm(forms.Form):
    """A line typed by staff: description, quantity, unit price excl. VAT and VAT rate."""

    name = forms.CharField(label=_("Description"), max_length=200)
    quantity = _decimal(_("Quantity"), places=3, initial=Decimal("1"), min_value=None)
    unit_net = _decimal(_("Unit price excl. VAT"))
    tax_rate = forms.ModelChoiceField(label=_("VAT rate"), queryset=TaxRate.objects.all(),
                                      empty_label=None)

    def __init__(self, *args, tax_rates=None, **kwargs):
        super().__init__(*args, **kwargs)
        if tax_rates is not None:  # the view's list: no second query for the same rates
            self.fields["tax_rate"].choices = [(r.pk, str(r)) for r in tax_rates]
            default = next((r for r in tax_rates if r.is_default), None)
            if default is not None and not self.is_bound:
                self.initial.setdefault("tax_rate", default.pk)

    def clean_quantity(self):
        quantity = self.cleaned_data["quantity"]
        if quantity == 0:
            raise ValidationError(_("A line's quantity cannot be zero."))
        return quantity


class InvoiceFieldsForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200, required=False,
                            help_text=_("Printed above the lines, e.g. “Website — phase 1”."))
    service_date = forms.DateField(label=_("Date of sale or service"), required=False,
                                   widget=_DateInput,
                                   help_text=_("Leave empty: the date it is issued."))
    notes = forms.CharField(label=_("Notes for the customer"), required=False,
                            widget=forms.Textarea(attrs={"rows": 3}))


class InvoiceNewForm(InvoiceFieldsForm, InvoiceLineForm):
    """A standalone invoice: its title and notes, and its first line (an invoice always has
    one); more lines are added on the draft."""


class InvoiceForOrderForm(forms.Form):
    percent = _decimal(_("Share of the order (%)"), min_value=Decimal("0.01"),
                       max_value=HUNDRED, initial=HUNDRED,
                       help_text=_("100 for the whole order (or its balance after deposits); "
                                   "less for a deposit or an instalment."))


# ---------------------------------------------------------------------------------------------
# Payments, credit notes, refunds
# ---------------------------------------------------------------------------------------------
class PaymentForm(forms.Form):
    method = forms.ChoiceField(label=_("Method"), widget=forms.RadioSelect,
                               choices=[(m.value, m.label) for m in MANUAL_METHODS])
    # Checked by the service (over-payment): its message is the one shown next to the field.
    amount = _decimal(_("Amount received"), min_value=None)
    received_on = forms.DateField(label=_("Received on"), widget=_DateInput)
    reference = forms.CharField(label=_("Reference"), max_length=100, required=False,
                                help_text=_("Cheque number, transfer reference…"))

    def __init__(self, *args, balance: Decimal | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["method"].initial = MANUAL_METHODS[0].value
        self.fields["received_on"].initial = timezone.localdate()
        if balance is not None:
            self.fields["amount"].initial = balance


class CreditNoteForm(forms.Form):
    """Full (every line) or partial (a quantity per line); the reason is printed on it."""

    FULL, LINES = "full", "lines"
    scope = forms.ChoiceField(label=_("What to credit"), widget=forms.RadioSelect,
                              choices=[(FULL, _("The whole invoice")),
                                       (LINES, _("Some lines (the quantities below)"))],
                              initial=FULL)
    # The service asks for it too, in the same words.
    reason = forms.CharField(
        label=_("Reason (printed on the credit note)"), max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Say why the invoice is corrected (printed on the "
                                      "credit note).")})

    def __init__(self, *args, lines=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.lines = [line for line in lines if line.quantity > 0]
        for line in self.lines:
            self.fields[f"line_{line.pk}"] = _decimal(
                _("Quantity to credit (%(name)s)") % {"name": line.name}, places=3,
                required=False, max_value=line.quantity)

    def line_fields(self):
        return [(line, self[f"line_{line.pk}"]) for line in self.lines]

    def quantities(self) -> dict[int, Decimal]:
        """line id -> quantity to credit (partial credit notes only)."""
        return {line.pk: self.cleaned_data[f"line_{line.pk}"] for line in self.lines
                if self.cleaned_data.get(f"line_{line.pk}")}

    def clean(self):
        data = super().clean()
        if data.get("scope") == self.LINES and not self.errors and not self.quantities():
            raise ValidationError(_("Enter the quantity to credit on at least one line."))
        return data


class RefundForm(forms.Form):
    amount = _decimal(_("Amount to refund"), min_value=None)
    # The service asks for it too, in the same words.
    reason = forms.CharField(
        label=_("Reason (printed on the credit note)"), max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Say why the money is refunded (printed on the credit "
                                      "note).")})

    def __init__(self, *args, payment_id: int, refundable: Decimal | None = None, **kwargs):
        super().__init__(*args, prefix=f"refund-{payment_id}", **kwargs)
        if refundable is not None:
            self.fields["amount"].initial = refundable


class DeleteDraftForm(forms.Form):
    confirm = forms.BooleanField(label=_("Yes, delete this draft"))


# ---------------------------------------------------------------------------------------------
# Settings
# ---------------------------------------------------------------------------------------------
class BillingSettingsForm(forms.ModelForm):
    class Meta:
        model = BillingSettings
        fields = ["invoice_prefix", "credit_note_prefix", "payment_terms_days",
                  "late_penalty_rate", "reminder_days", "unpaid_checkout_hours",
                  "invoice_paid_orders"]
        localized_fields = ["late_penalty_rate"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("invoice_prefix", "credit_note_prefix"):
            self.fields[name].help_text = _(
                "Letters and digits. A change applies from the next number: documents already "
                "issued keep theirs.")

    def _prefix(self, name: str) -> str:
        value = (self.cleaned_data.get(name) or "").strip().upper()
        if not re.fullmatch(r"[A-Z0-9]{1,8}", value):
            raise ValidationError(_("Use 1 to 8 letters or digits, e.g. F or FAC."))
        return value

    def clean_invoice_prefix(self) -> str:
        return self._prefix("invoice_prefix")

    def clean_credit_note_prefix(self) -> str:
        return self._prefix("credit_note_prefix")

    def clean_reminder_days(self) -> str:
        raw = (self.cleaned_data.get("reminder_days") or "").strip()
        if not raw:
            return ""
        days = []
        for part in raw.replace(";", ",").split(","):
            part = part.strip()
            if not part:
                continue
            if not part.isdigit() or not 1 <= int(part) <= 365:
                raise ValidationError(_("Write days after the due date between 1 and 365, "
                                        "separated by commas, e.g. 7,15,30."))
            days.append(int(part))
        return ",".join(str(day) for day in sorted(set(days)))

    def clean(self):
        data = super().clean()
        if data.get("invoice_prefix") and data.get("invoice_prefix") == data.get(
                "credit_note_prefix"):
            self.add_error("credit_note_prefix", _("Credit notes need another prefix than "
                                                   "invoices: their numbers must never mix."))
        return data

    def service_data(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class StripeConnectForm(forms.Form):
    account_id = forms.CharField(
        label=_("Stripe account id"), max_length=64,
        help_text=_("Starts with acct_. Find it in your Stripe dashboard, under Settings → "
                    "Account details."),
        widget=forms.TextInput(attrs={"placeholder": "acct_1A2b3C4d5E6f7G8h",
                                      "autocomplete": "off", "spellcheck": "false"}))

    def clean_account_id(self) -> str:
        value = self.cleaned_data["account_id"].strip()
        if not STRIPE_ACCOUNT_RE.match(value):
            raise ValidationError(_("This is not a Stripe account id: it looks like "
                                    "acct_1A2b3C4d5E6f7G8h."))
        return value

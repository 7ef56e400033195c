"""Dashboard forms for sales. They only parse and validate input; sales.services write (and
raise SalesError, shown next to the field it names)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from catalog.models import BaseProduct, ProductStatus, TaxRate
from sales.models import (
    ADDRESS_FIELDS,
    Address,
    Customer,
    CustomerKind,
    CustomerState,
    OrderStatus,
    QuoteStatus,
    ShippingMethod,
)
from sales.services.quotes import DEFAULT_VALIDITY_DAYS

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
# List filters: every value lives in the URL; an invalid one is ignored, never an error page.
# ---------------------------------------------------------------------------------------------
ORDER_SORTS = {"date": "placed_at", "-date": "-placed_at", "number": "number",
               "-number": "-number", "total": "gross_total", "-total": "-gross_total",
               "status": "status", "-status": "-status"}
QUOTE_SORTS = {"date": "created_at", "-date": "-created_at", "number": "number",
               "-number": "-number", "total": "gross_total", "-total": "-gross_total",
               "status": "status", "-status": "-status", "valid": "valid_until",
               "-valid": "-valid_until"}
CUSTOMER_SORTS = {"name": "last_name", "-name": "-last_name", "email": "email",
                  "-email": "-email", "date": "created_at", "-date": "-created_at",
                  "orders": "order_count", "-orders": "-order_count"}

ORDER_STATUS_FILTERS = [("", _("All")), ("to_ship", _("To ship")), *OrderStatus.choices]
QUOTE_STATUS_FILTERS = [("", _("All")), ("open", _("Open")),
                        *[c for c in QuoteStatus.choices if c[0] != QuoteStatus.SUPERSEDED]]


class _ListFilterForm(forms.Form):
    SORTS: dict = {}
    DEFAULT_SORT = "-date"

    q = forms.CharField(required=False, max_length=100)
    sort = forms.CharField(required=False)
    page = forms.IntegerField(required=False, min_value=1)

    def clean_sort(self) -> str:
        sort = self.cleaned_data.get("sort") or self.DEFAULT_SORT
        return sort if sort in self.SORTS else self.DEFAULT_SORT

    def values(self) -> dict:
        """The valid filters, each invalid one dropped (a stale bookmark still opens)."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {name: data.get(name) for name in self.fields if name not in self.errors}


class _DocumentFilterForm(_ListFilterForm):
    customer = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    date_from = forms.DateField(label=_("From"), required=False, widget=_DateInput)
    date_to = forms.DateField(label=_("To"), required=False, widget=_DateInput)


class OrderFilterForm(_DocumentFilterForm):
    SORTS = ORDER_SORTS
    status = forms.ChoiceField(required=False, choices=ORDER_STATUS_FILTERS)


class QuoteFilterForm(_DocumentFilterForm):
    SORTS = QUOTE_SORTS
    status = forms.ChoiceField(required=False, choices=QUOTE_STATUS_FILTERS)


class CustomerFilterForm(_ListFilterForm):
    SORTS = CUSTOMER_SORTS
    kind = forms.ChoiceField(label=_("Kind"), required=False,
                             choices=[("", _("People and companies")), *CustomerKind.choices])
    state = forms.ChoiceField(label=_("Account"), required=False,
                              choices=[("", _("Any account")),
                                       (CustomerState.GUEST, CustomerState.GUEST.label),
                                       (CustomerState.REGISTERED, CustomerState.REGISTERED.label)])


# ---------------------------------------------------------------------------------------------
# Orders
# ---------------------------------------------------------------------------------------------
class OrderCancelForm(forms.Form):
    # Required by the service (it names the field), so the message is the service's.
    reason = forms.CharField(label=_("Reason (the customer will read it)"), required=False,
                             max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class OrderShipForm(forms.Form):
    tracking = forms.CharField(label=_("Tracking reference"), required=False, max_length=100,
                               help_text=_("Optional: the carrier's parcel number."))


# ---------------------------------------------------------------------------------------------
# Quotes
# ---------------------------------------------------------------------------------------------
class QuoteForm(forms.Form):
    valid_until = forms.DateField(label=_("Valid until"), widget=_DateInput)
    discount_percent = _decimal(_("Global discount (%)"), required=False, max_value=HUNDRED,
                                help_text=_("Applied to every line, after the line's own "
                                            "discount."))
    terms = forms.CharField(label=_("Terms"), required=False,
                            widget=forms.Textarea(attrs={"rows": 3}),
                            help_text=_("Payment and delivery conditions the customer accepts."))
    notes = forms.CharField(label=_("Notes for the customer"), required=False,
                            widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["valid_until"].initial = (timezone.localdate()
                                              + timedelta(days=DEFAULT_VALIDITY_DAYS))

    def service_data(self) -> dict:
        data = dict(self.cleaned_data)
        data["discount_percent"] = data.get("discount_percent") or ZERO
        return data


class CatalogLineForm(forms.Form):
    product = forms.ModelChoiceField(
        label=_("Product"), queryset=BaseProduct.objects.filter(status=ProductStatus.ACTIVE),
        widget=forms.RadioSelect, error_messages={
            "required": _("Find a product, then choose it in the list."),
            "invalid_choice": _("This product is no longer sold: choose another.")})
    quantity = _decimal(_("Quantity"), places=3, initial=Decimal("1"))
    unit_net = _decimal(_("Unit price excl. VAT"), required=False,
                        help_text=_("Leave empty for the catalog price."))
    discount_percent = _decimal(_("Discount (%)"), required=False, max_value=HUNDRED)


class FreeLineForm(forms.Form):
    name = forms.CharField(label=_("Description"), max_length=200)
    quantity = _decimal(_("Quantity"), places=3, initial=Decimal("1"))
    unit_net = _decimal(_("Unit price excl. VAT"))
    tax_rate = forms.ModelChoiceField(label=_("VAT rate"), queryset=TaxRate.objects.all(),
                                      empty_label=None)
    discount_percent = _decimal(_("Discount (%)"), required=False, max_value=HUNDRED)

    def __init__(self, *args, tax_rates=None, **kwargs):
        super().__init__(*args, **kwargs)
        if tax_rates is not None:  # the view's list: no second query for the same rates
            self.fields["tax_rate"].choices = [(r.pk, str(r)) for r in tax_rates]
            default = next((r for r in tax_rates if r.is_default), None)
            if default is not None and not self.is_bound:
                self.initial.setdefault("tax_rate", default.pk)


class LineEditForm(forms.Form):
    """One line of a draft, edited in its table row (inputs tied to the row's form by id)."""

    name = forms.CharField(label=_("Description"), max_length=200)
    quantity = _decimal(_("Quantity"), places=3)
    unit_net = _decimal(_("Unit price excl. VAT"))
    discount_percent = _decimal(_("Discount (%)"), required=False, max_value=HUNDRED)

    def __init__(self, *args, line_id: int, **kwargs):
        form_id = f"line-form-{line_id}"
        super().__init__(*args, auto_id=f"line-{line_id}-%s", **kwargs)
        for field in self.fields.values():
            field.widget.attrs["form"] = form_id
        self.form_id = form_id

    def service_data(self) -> dict:
        data = dict(self.cleaned_data)
        data["discount_percent"] = data.get("discount_percent") or ZERO
        return data


class QuoteAcceptForm(forms.Form):
    name = forms.CharField(label=_("Signed by (full name)"), max_length=150, required=False)
    accept_terms = forms.BooleanField(label=_("The customer accepted the terms"),
                                      required=False)


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), required=False, max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 2}))


# ---------------------------------------------------------------------------------------------
# Customers and addresses
# ---------------------------------------------------------------------------------------------
class CustomerForm(forms.ModelForm):
    class Meta:
        model = Customer
        fields = ["kind", "first_name", "last_name", "company_name", "email", "phone",
                  "vat_number", "company_id", "notes"]
        widgets = {"kind": forms.RadioSelect, "notes": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["notes"].help_text = _("Only your team sees these notes.")

    def service_data(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class AddressForm(forms.ModelForm):
    class Meta:
        model = Address
        fields = [*ADDRESS_FIELDS, "is_default_billing", "is_default_shipping"]

    def service_data(self) -> dict:
        return {name: self.cleaned_data[name] for name in ADDRESS_FIELDS}


# ---------------------------------------------------------------------------------------------
# Shipping methods
# ---------------------------------------------------------------------------------------------
class ShippingMethodForm(forms.ModelForm):
    class Meta:
        model = ShippingMethod
        fields = ["name", "kind", "price_net", "tax_rate", "free_above", "description",
                  "is_active", "position"]
        widgets = {"kind": forms.RadioSelect}
        localized_fields = ["price_net", "free_above"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tax_rate"].empty_label = None
        self.fields["position"].help_text = _("Smaller numbers are listed first at checkout.")
        self.fields["position"].required = False
        if not self.instance.pk and not self.initial.get("tax_rate"):
            default = TaxRate.objects.filter(is_default=True).first()
            if default is not None:
                self.initial["tax_rate"] = default.pk

    def service_data(self) -> dict:
        return dict(self.cleaned_data)

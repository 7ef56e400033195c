"""Storefront and customer-account forms: they parse and validate input; the services
(sales.services.*) decide and write, and their errors (SalesError.field) come back next to the
field they name."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from sales.models import ADDRESS_FIELDS, PaymentMethod
from tenants.accounts.forms import ThrottledAuthenticationForm

# What the storefront always offers. Card payments (Stripe Checkout, run by billing after the
# order is placed) are offered on top when the shop accepts cards: see `payment_methods_for`.
STOREFRONT_PAYMENT_METHODS = [PaymentMethod.BANK_TRANSFER]
PAYMENT_HINTS = {
    PaymentMethod.BANK_TRANSFER: _("We email you our bank details with your order "
                                   "confirmation; we prepare the order once the payment "
                                   "arrives."),
    PaymentMethod.CARD: _("Pay securely by card on the next page."),
}
NEW = "new"
SAME = "same"


def payment_methods_for(shop) -> list[PaymentMethod]:
    """The payment methods a shop's checkout offers: card first when the shop has connected a
    Stripe account that may take charges (`Shop.accepts_cards`), then bank transfer."""
    card = [PaymentMethod.CARD] if getattr(shop, "accepts_cards", False) else []
    return card + [m for m in STOREFRONT_PAYMENT_METHODS if m not in card]


def add_service_error(form: forms.Form, exc, *, prefix: str = "") -> None:
    """Show a service's error next to the field it names, or on top of the form."""
    name = f"{prefix}{exc.field}" if exc.field else None
    form.add_error(name if name in form.fields else None, exc.message)


# ---------------------------------------------------------------------------------------------
# Cart
# ---------------------------------------------------------------------------------------------
class AddToCartForm(forms.Form):
    product = forms.IntegerField(min_value=1, widget=forms.HiddenInput)
    # Parsed by the cart service (decimal units, "1,5" in French): kept as typed here.
    quantity = forms.CharField(label=_("Quantity"), max_length=20, initial="1")


class QuoteRequestForm(forms.Form):
    message = forms.CharField(
        label=_("Message (optional)"), required=False, max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Quantities, deadlines, delivery: anything that helps us price it."))


# ---------------------------------------------------------------------------------------------
# Addresses
# ---------------------------------------------------------------------------------------------
def _address_fields(prefix: str = "", *, required: bool = True) -> dict[str, forms.Field]:
    """One address's fields. Whether they must be filled in is the service's call
    (address_validate): a saved address picked instead makes them unused."""
    fields = {
        "full_name": forms.CharField(label=_("Full name"), max_length=150, required=required,
                                     widget=forms.TextInput(attrs={"autocomplete": "name"})),
        "company": forms.CharField(label=_("Company"), max_length=150, required=False,
                                   widget=forms.TextInput(attrs={"autocomplete": "organization"})),
        "line1": forms.CharField(label=_("Address"), max_length=200, required=required,
                                 widget=forms.TextInput(attrs={"autocomplete": "address-line1"})),
        "line2": forms.CharField(label=_("Address line 2"), max_length=200, required=False,
                                 widget=forms.TextInput(attrs={"autocomplete": "address-line2"})),
        "postal_code": forms.CharField(label=_("Postal code"), max_length=12, required=required,
                                       widget=forms.TextInput(attrs={"autocomplete":
                                                                     "postal-code"})),
        "city": forms.CharField(label=_("City"), max_length=100, required=required,
                                widget=forms.TextInput(attrs={"autocomplete": "address-level2"})),
        "country": forms.CharField(label=_("Country"), max_length=2, initial="FR",
                                   required=False, help_text=_("Two-letter code, e.g. FR."),
                                   widget=forms.TextInput(attrs={"autocomplete": "country",
                                                                 "size": 3})),
        "phone": forms.CharField(label=_("Phone"), max_length=30, required=False,
                                 widget=forms.TextInput(attrs={"autocomplete": "tel"})),
    }
    return {f"{prefix}{name}": field for name, field in fields.items()}


class AddressForm(forms.Form):
    """An address of the customer's address book."""

    default_billing = forms.BooleanField(label=_("Use as my default billing address"),
                                         required=False)
    default_shipping = forms.BooleanField(label=_("Use as my default delivery address"),
                                          required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        fields = _address_fields()
        fields.update(self.fields)
        self.fields = fields

    def address_data(self) -> dict:
        return {name: self.cleaned_data.get(name, "") for name in ADDRESS_FIELDS}


# ---------------------------------------------------------------------------------------------
# Checkout
# ---------------------------------------------------------------------------------------------
class CheckoutForm(forms.Form):
    """Contact, addresses, delivery, payment and a note, on one page. Choices (saved
    addresses, delivery options with their price) come from the view."""

    email = forms.EmailField(label=_("Email"), widget=forms.EmailInput(
        attrs={"autocomplete": "email"}),
        help_text=_("We send the order confirmation here."))
    first_name = forms.CharField(label=_("First name"), max_length=100,
                                 widget=forms.TextInput(attrs={"autocomplete": "given-name"}))
    last_name = forms.CharField(label=_("Last name"), max_length=100,
                                widget=forms.TextInput(attrs={"autocomplete": "family-name"}))
    phone = forms.CharField(label=_("Phone"), max_length=30, required=False,
                            widget=forms.TextInput(attrs={"autocomplete": "tel"}),
                            help_text=_("For the delivery, if the carrier needs to call."))
    company_name = forms.CharField(label=_("Company"), max_length=150, required=False,
                                   widget=forms.TextInput(attrs={"autocomplete": "organization"}),
                                   help_text=_("If you buy for a company."))
    billing_choice = forms.ChoiceField(label=_("Billing address"), widget=forms.RadioSelect,
                                       required=False)
    shipping_choice = forms.ChoiceField(label=_("Delivery address"), widget=forms.RadioSelect,
                                        required=False)
    shipping_method = forms.ChoiceField(label=_("Delivery"), widget=forms.RadioSelect,
                                        error_messages={"required": _("Choose a delivery "
                                                                      "option.")})
    payment_method = forms.ChoiceField(label=_("Payment"), widget=forms.RadioSelect,
                                       error_messages={"required": _("Choose how you will "
                                                                     "pay.")})
    note = forms.CharField(label=_("Note for the shop (optional)"), required=False,
                           max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, addresses=(), shipping_options=(),
                 payment_methods=STOREFRONT_PAYMENT_METHODS, **kwargs):
        super().__init__(*args, **kwargs)
        self.payment_methods = list(payment_methods)
        self.addresses = {str(a.pk): a for a in addresses}
        saved = [(key, str(address)) for key, address in self.addresses.items()]
        self.fields["billing_choice"].choices = saved + [(NEW, _("A new address"))]
        self.fields["shipping_choice"].choices = (
            [(SAME, _("Same as the billing address"))] + saved + [(NEW, _("Another address"))])
        self.options = {str(o.method.pk): o for o in shipping_options}
        self.fields["shipping_method"].choices = [(k, o.method.label)
                                                  for k, o in self.options.items()]
        self.fields["payment_method"].choices = [(m.value, m.label) for m in self.payment_methods]
        self.fields.update(_address_fields("billing_", required=False))
        self.fields["billing_full_name"].help_text = _("Leave empty to use your name.")
        self.fields.update(_address_fields("shipping_", required=False))
        if not self.is_bound:
            if self.options:  # the shop's first option, as it ordered them
                self.initial.setdefault("shipping_method", next(iter(self.options)))
            if self.initial.get("payment_method") not in {m.value for m in self.payment_methods}:
                # Nothing chosen yet, or a method no longer offered (cards switched off).
                self.initial["payment_method"] = self.payment_methods[0].value
            self.initial.setdefault("shipping_choice", SAME)
            self.initial.setdefault("billing_choice", next(iter(self.addresses), NEW))

    @property
    def has_saved_addresses(self) -> bool:
        return bool(self.addresses)

    def billing_fields(self):
        return [self[f"billing_{name}"] for name in ADDRESS_FIELDS]

    def shipping_fields(self):
        return [self[f"shipping_{name}"] for name in ADDRESS_FIELDS]

    def clean(self):
        cleaned = super().clean()
        for name in ("billing_choice", "shipping_choice"):
            choice = cleaned.get(name) or (NEW if name == "billing_choice" else SAME)
            valid = {key for key, _label in self.fields[name].choices}
            cleaned[name] = choice if choice in valid else (
                NEW if name == "billing_choice" else SAME)
        # A typed address needs these; the service checks their format (postal code...).
        needed = [("billing_", cleaned["billing_choice"] == NEW),
                  ("shipping_", cleaned["shipping_choice"] == NEW and not self.is_pickup())]
        for prefix, typed in needed:
            for name in ("line1", "postal_code", "city"):
                if typed and not (cleaned.get(f"{prefix}{name}") or "").strip():
                    self.add_error(f"{prefix}{name}", _("This field is required."))
        return cleaned

    def option(self):
        return self.options.get(self.cleaned_data.get("shipping_method", ""))

    def is_pickup(self) -> bool:
        option = self.option()
        return option is not None and option.method.kind == "pickup"

    def address(self, prefix: str) -> dict:
        """The typed address (prefix "billing_" or "shipping_"), as the services take it."""
        data = {name: self.cleaned_data.get(f"{prefix}{name}", "") for name in ADDRESS_FIELDS}
        if prefix == "billing_" and not data["full_name"]:
            data["full_name"] = " ".join(
                p for p in (self.cleaned_data.get("first_name", ""),
                            self.cleaned_data.get("last_name", "")) if p)
        if not data["company"] and prefix == "billing_":
            data["company"] = self.cleaned_data.get("company_name", "")
        return data


# ---------------------------------------------------------------------------------------------
# Accounts
# ---------------------------------------------------------------------------------------------
class SignUpForm(forms.Form):
    email = forms.EmailField(label=_("Email"), widget=forms.EmailInput(
        attrs={"autocomplete": "email", "autofocus": True}))
    first_name = forms.CharField(label=_("First name"), max_length=100,
                                 widget=forms.TextInput(attrs={"autocomplete": "given-name"}))
    last_name = forms.CharField(label=_("Last name"), max_length=100,
                                widget=forms.TextInput(attrs={"autocomplete": "family-name"}))
    phone = forms.CharField(label=_("Phone"), max_length=30, required=False,
                            widget=forms.TextInput(attrs={"autocomplete": "tel"}))
    password1 = forms.CharField(label=_("Password"), strip=False,
                                widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
                                help_text=_("At least 10 characters, not only digits."))
    password2 = forms.CharField(label=_("Password again"), strip=False,
                                widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("password1") and cleaned.get("password2") and (
                cleaned["password1"] != cleaned["password2"]):
            self.add_error("password2", _("The two passwords differ."))
        return cleaned


class CustomerLoginForm(ThrottledAuthenticationForm):
    """Email and password of a customer account (staff sign in on the staff page); limited
    per email and per address like the staff sign-in."""

    username = forms.EmailField(label=_("Email"), widget=forms.EmailInput(
        attrs={"autofocus": True, "autocomplete": "email"}))
    error_messages = {
        "invalid_login": _("Wrong email or password."),
        "inactive": _("This account is deactivated. Contact the shop."),
        "not_customer": _("This is the customers' sign-in: staff sign in on the staff page."),
    }

    def confirm_login_allowed(self, user) -> None:
        super().confirm_login_allowed(user)
        # Same rule as sales.selectors.customer_for_user: staff never buy as customers.
        customer = getattr(user, "customer", None)
        if user.is_staff or customer is None:
            raise ValidationError(self.error_messages["not_customer"], code="not_customer")



class QuoteAcceptForm(forms.Form):
    name = forms.CharField(label=_("Your full name, as your signature"), max_length=150,
                           widget=forms.TextInput(attrs={"autocomplete": "name"}))
    accept_terms = forms.BooleanField(
        label=_("I have read the quote and its terms, and I accept them."),
        error_messages={"required": _("Tick the box to accept the terms.")})


class QuoteDeclineForm(forms.Form):
    reason = forms.CharField(label=_("Why do you decline? (it helps us make a better offer)"),
                             max_length=2000, widget=forms.Textarea(attrs={"rows": 3}),
                             error_messages={"required": _("Tell us why, so we can make a "
                                                           "better offer.")})

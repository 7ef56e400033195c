from __future__ import annotations

import re

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from tenants.accounts.roles import ROLE_CHOICES
from tenants.accounts.throttling import Refusal, login_failed, login_refusal, login_succeeded


class ThrottledAuthenticationForm(AuthenticationForm):
    """Sign-in limited per email and per address (tenants.accounts.throttling): while either
    is locked out the password is not even checked, and `refusal` says why (the view answers
    429). Wrong passwords count; a success clears the email's count."""

    refusal: Refusal | None = None

    def clean(self):
        email = self.cleaned_data.get("username")
        if self.request is None:  # not a web sign-in: nothing to count
            return super().clean()
        self.refusal = login_refusal(self.request, email=email)
        if self.refusal is not None:
            raise ValidationError(self.refusal.message, code="throttled")
        try:
            cleaned = super().clean()
        except ValidationError as exc:
            if exc.code == "invalid_login":
                login_failed(self.request, email=email)
            raise
        if email:
            login_succeeded(self.request, email=email)
        return cleaned


class EmailLoginForm(ThrottledAuthenticationForm):
    """Email and password; only active staff may sign in to the dashboard (customers get
    their own login with the storefront)."""

    username = forms.EmailField(
        label=_("Email"), widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"})
    )
    error_messages = {
        "invalid_login": _("Wrong email or password. Both are case-sensitive except the email."),
        "inactive": _("This account is deactivated. Ask the shop's owner."),
    }


class InviteForm(forms.Form):
    email = forms.EmailField(label=_("Email"))
    full_name = forms.CharField(label=_("Full name"), max_length=150, required=False)
    role = forms.ChoiceField(label=_("Role"), choices=ROLE_CHOICES, initial="sales")


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=ROLE_CHOICES)


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        label=_("Token name"), max_length=80,
        help_text=_("What will use it, e.g. “Accounting sync”."),
    )


def iban_is_valid(iban: str) -> bool:
    """ISO 13616: country, check digits, then the account; mod 97 of the rearranged number is 1."""
    if not re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}", iban):
        return False
    digits = "".join(str(int(ch, 36)) for ch in iban[4:] + iban[:4])
    return int(digits) % 97 == 1


class ShopSettingsForm(forms.Form):
    name = forms.CharField(label=_("Shop name"), max_length=100)
    locale = forms.ChoiceField(label=_("Default language"), choices=settings.LANGUAGES)
    legal_name = forms.CharField(label=_("Legal name"), max_length=150, required=False)
    legal_form = forms.CharField(label=_("Legal form"), max_length=60, required=False,
                                 help_text=_("e.g. SAS, SARL, EI"))
    share_capital = forms.CharField(label=_("Share capital"), max_length=40, required=False)
    siren = forms.RegexField(label="SIREN", regex=r"^\d{9}$", required=False,
                             error_messages={"invalid": _("A SIREN is 9 digits.")})
    siret = forms.RegexField(label="SIRET", regex=r"^\d{14}$", required=False,
                             error_messages={"invalid": _("A SIRET is 14 digits.")})
    vat_number = forms.RegexField(
        label=_("VAT number"), regex=r"^[A-Z]{2}[0-9A-Z]{2,13}$", required=False,
        error_messages={"invalid": _("Country code then digits, e.g. FR12345678901.")},
    )
    rcs = forms.CharField(label=_("RCS registration"), max_length=80, required=False)
    address_line1 = forms.CharField(label=_("Address"), max_length=150, required=False)
    address_line2 = forms.CharField(label=_("Address (line 2)"), max_length=150, required=False)
    postal_code = forms.CharField(label=_("Postal code"), max_length=12, required=False)
    city = forms.CharField(label=_("City"), max_length=80, required=False)
    iban = forms.CharField(label="IBAN", max_length=42, required=False,
                           help_text=_("Where customers pay by bank transfer."))
    bic = forms.CharField(label="BIC", max_length=11, required=False)

    def clean_iban(self) -> str:
        iban = "".join(self.cleaned_data.get("iban", "").split()).upper()
        if iban and not iban_is_valid(iban):
            raise forms.ValidationError(_("This IBAN is not valid: check it against your bank "
                                          "details (e.g. FR76 3000 6000 0112 3456 7890 189)."))
        return iban

    def clean_bic(self) -> str:
        bic = self.cleaned_data.get("bic", "").strip().upper()
        if bic and not re.fullmatch(r"[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?", bic):
            raise forms.ValidationError(_("8 or 11 letters and digits, e.g. BNPAFRPPXXX."))
        return bic

    def clean(self):
        cleaned = super().clean()
        siren, siret = cleaned.get("siren"), cleaned.get("siret")
        if siren and siret and not siret.startswith(siren):
            self.add_error("siret", _("A SIRET starts with the company's SIREN."))
        return cleaned

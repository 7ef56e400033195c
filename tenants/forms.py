from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from tenants.models import Plan, ShopStatus
from tenants.services import subdomain_check
from tenants.subdomains import MAX_LENGTH, normalize_subdomain


class _PasswordProbe:
    """What the similarity validator compares a new password against, before the user exists."""

    def __init__(self, email: str, name: str):
        self.email = email
        self.full_name = name


class SubdomainField(forms.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", MAX_LENGTH + 10)  # the rule's own message is clearer
        kwargs.setdefault("label", _("Shop address"))
        kwargs.setdefault(
            "help_text",
            format_lazy(
                _("3 to 40 characters: lowercase letters, digits and hyphens. Your shop will live "
                  "at <address>.{base}"),
                base=settings.BASE_DOMAIN,
            ),
        )
        super().__init__(**kwargs)

    def clean(self, value):
        value = normalize_subdomain(super().clean(value))
        problem = subdomain_check(value)
        if problem:
            raise ValidationError(problem, code="subdomain")
        return value


class SignupForm(forms.Form):
    name = forms.CharField(label=_("Shop name"), max_length=100)
    subdomain = SubdomainField()
    email = forms.EmailField(label=_("Your email"), help_text=_("You will sign in with it."))
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(render_value=True, attrs={"autocomplete": "new-password"}),
        help_text=_("At least 10 characters, not only digits, not a common password."),
    )
    plan = forms.ModelChoiceField(
        label=_("Plan"),
        queryset=Plan.objects.filter(is_public=True),
        to_field_name="code",
        required=False,
        empty_label=None,
        error_messages={"invalid_choice": _("This plan does not exist. Choose one from the list.")},
    )

    def clean(self):
        cleaned = super().clean()
        password = cleaned.get("password")
        if password:
            probe = _PasswordProbe(cleaned.get("email", ""), cleaned.get("name", ""))
            try:
                validate_password(password, user=probe)
            except ValidationError as exc:
                self.add_error("password", exc)
        return cleaned


class ConsoleShopCreateForm(forms.Form):
    name = forms.CharField(label=_("Shop name"), max_length=100)
    subdomain = SubdomainField()
    owner_email = forms.EmailField(
        label=_("Owner's email"), help_text=_("They get a link to choose their password.")
    )
    plan = forms.ModelChoiceField(
        label=_("Plan"), queryset=Plan.objects.all(), to_field_name="code", empty_label=None
    )
    locale = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES, initial="fr")


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"), max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class ArchiveForm(ReasonForm):
    confirm = forms.BooleanField(
        label=_("I understand: the shop closes for good (its data is kept)."),
        error_messages={"required": _("Tick the box to confirm you want to archive this shop.")},
    )


class PlanChangeForm(forms.Form):
    plan = forms.ModelChoiceField(
        label=_("Plan"), queryset=Plan.objects.all(), to_field_name="code", empty_label=None
    )


SHOP_SORTS = {
    "name": "name",
    "-name": "-name",
    "created": "created_at",
    "-created": "-created_at",
    "status": "status",
    "-status": "-status",
}


class ShopFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False)
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("All statuses"))] + [
            c for c in ShopStatus.choices if c[0] != ShopStatus.POOLED
        ],
    )
    plan = forms.ModelChoiceField(
        label=_("Plan"), queryset=Plan.objects.all(), to_field_name="code", required=False,
        empty_label=_("All plans"),
    )
    sort = forms.ChoiceField(required=False, choices=[(k, k) for k in SHOP_SORTS])
    page = forms.IntegerField(required=False, min_value=1)

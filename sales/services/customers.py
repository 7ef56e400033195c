"""Customers, their addresses and their storefront accounts."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from sales.errors import SalesError
from sales.models import ADDRESS_FIELDS, Address, Customer, CustomerKind, CustomerState
from streams.events import auto_follow, record

if TYPE_CHECKING:
    from tenants.accounts.models import User

CUSTOMER_FIELDS = ("kind", "first_name", "last_name", "company_name", "email", "phone",
                   "vat_number", "company_id", "notes")
_VAT = re.compile(r"^[A-Z]{2}[A-Z0-9]{2,13}$")
_SIREN = re.compile(r"^(\d{9}|\d{14})$")


def _clean_customer(data: dict) -> dict:
    cleaned = {k: (data[k].strip() if isinstance(data[k], str) else data[k])
               for k in CUSTOMER_FIELDS if k in data}
    if "email" in cleaned:
        cleaned["email"] = cleaned["email"].lower()
        if not cleaned["email"]:
            raise SalesError(_("An email address is needed to send documents."), field="email")
    if cleaned.get("kind") == CustomerKind.COMPANY and not cleaned.get("company_name"):
        raise SalesError(_("A company needs its company name."), field="company_name")
    vat = cleaned.get("vat_number", "").replace(" ", "").upper()
    if vat and not _VAT.match(vat):
        raise SalesError(_("A VAT number starts with two country letters, e.g. FR12345678901."),
                         field="vat_number")
    if "vat_number" in cleaned:
        cleaned["vat_number"] = vat
    company_id = cleaned.get("company_id", "").replace(" ", "")
    if company_id and not _SIREN.match(company_id):
        raise SalesError(_("A SIREN has 9 digits, a SIRET 14."), field="company_id")
    if "company_id" in cleaned:
        cleaned["company_id"] = company_id
    return cleaned


@transaction.atomic
def customer_create(*, data: dict, by: User | None) -> Customer:
    """A customer record made by staff (or by a guest checkout)."""
    cleaned = _clean_customer(data)
    if not cleaned.get("first_name") and not cleaned.get("last_name") and not cleaned.get(
            "company_name"):
        raise SalesError(_("Give a name or a company name."), field="last_name")
    customer = Customer.objects.create(state=CustomerState.GUEST, **cleaned)
    record(subject=customer, verb="created", actor=by)
    auto_follow(user=by, subject=customer)
    return customer


@transaction.atomic
def customer_update(*, customer: Customer, data: dict, by: User | None) -> Customer:
    cleaned = _clean_customer(data)
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    changed = [key for key, value in cleaned.items() if getattr(customer, key) != value]
    for key, value in cleaned.items():
        setattr(customer, key, value)
    if customer.user_id and "email" in cleaned and customer.user.email != customer.email:
        raise SalesError(_("This customer signs in with %(email)s: they change it from their "
                           "account.") % {"email": customer.user.email}, field="email")
    customer.save()
    if changed:  # saving the form unchanged is not something that happened
        record(subject=customer, verb="updated", actor=by, data={"fields": changed})
    return customer


@transaction.atomic
def customer_register(*, email: str, password: str, first_name: str, last_name: str,
                      phone: str = "") -> Customer:
    """A storefront account: a shop user who is not staff, and their customer record."""
    email = (email or "").strip().lower()
    User = get_user_model()  # noqa: N806
    if User.objects.filter(email__iexact=email).exists():
        raise SalesError(_("An account with this email already exists: sign in, or reset your "
                           "password."), field="email")
    candidate = User(email=email, full_name=f"{first_name} {last_name}".strip())
    try:
        validate_password(password, user=candidate)
    except ValidationError as exc:
        raise SalesError(" ".join(exc.messages), field="password1") from exc
    candidate.set_password(password)
    try:
        with transaction.atomic():
            candidate.save()
    except IntegrityError as exc:  # the same email registered a moment ago
        raise SalesError(_("An account with this email already exists: sign in, or reset your "
                           "password."), field="email") from exc
    # Guest orders placed with this email stay with the guest record: linking them without
    # proving the address belongs to this person would show a stranger's orders.
    return Customer.objects.create(
        state=CustomerState.REGISTERED, user=candidate, email=email,
        **_clean_customer({"first_name": first_name, "last_name": last_name, "phone": phone}))


def _clean_address(data: dict) -> dict:
    cleaned = {k: (str(data.get(k) or "")).strip() for k in ADDRESS_FIELDS}
    cleaned["country"] = (cleaned["country"] or "FR").upper()
    missing = [k for k in ("full_name", "line1", "postal_code", "city") if not cleaned[k]]
    if missing:
        raise SalesError(_("This field is required."), field=missing[0])
    if not re.fullmatch(r"[A-Z]{2}", cleaned["country"]):
        raise SalesError(_("Use a two-letter country code, e.g. FR."), field="country")
    if cleaned["country"] == "FR" and not re.fullmatch(r"\d{5}", cleaned["postal_code"]):
        raise SalesError(_("A French postal code has 5 digits."), field="postal_code")
    return cleaned


def address_validate(data: dict) -> dict:
    """The cleaned address (checkout validates one without saving it)."""
    return _clean_address(data)


@transaction.atomic
def address_save(*, customer: Customer, data: dict, address: Address | None = None,
                 default_billing: bool = False, default_shipping: bool = False) -> Address:
    cleaned = _clean_address(data)
    if address is None:
        address = Address(customer=customer)
    elif address.customer_id != customer.pk:
        raise SalesError(_("This address belongs to another customer."))
    for key, value in cleaned.items():
        setattr(address, key, value)
    first = not customer.addresses.exclude(pk=address.pk).exists()
    if default_billing or first:
        customer.addresses.exclude(pk=address.pk).filter(is_default_billing=True).update(
            is_default_billing=False)
        address.is_default_billing = True
    if default_shipping or first:
        customer.addresses.exclude(pk=address.pk).filter(is_default_shipping=True).update(
            is_default_shipping=False)
        address.is_default_shipping = True
    address.save()
    return address


@transaction.atomic
def address_delete(*, address: Address) -> None:
    customer = address.customer
    was_billing, was_shipping = address.is_default_billing, address.is_default_shipping
    address.delete()
    successor = customer.addresses.order_by("id").first()
    if successor is not None and (was_billing or was_shipping):
        successor.is_default_billing = successor.is_default_billing or was_billing
        successor.is_default_shipping = successor.is_default_shipping or was_shipping
        successor.save(update_fields=["is_default_billing", "is_default_shipping"])


def address_snapshot(customer: Customer, *, shipping: bool = False) -> dict:
    """The customer's default address as an order keeps it, or their name alone."""
    flag = "is_default_shipping" if shipping else "is_default_billing"
    address = customer.addresses.filter(**{flag: True}).first()
    if address is not None:
        return address.snapshot()
    return {"full_name": customer.display_name, "company": customer.company_name}

"""Builders for sales tests: products through the catalog services, customers, staff with a
role, carts and orders through the sales services. Call them inside the shop's schema."""

from __future__ import annotations

import secrets
from decimal import Decimal

from django.contrib.auth.models import Group

from catalog.models import Project, TaxRate
from catalog.services.products import product_create
from sales.models import Customer, CustomerState, ShippingMethod
from sales.services.carts import cart_add, cart_get_or_create
from sales.services.checkout import CheckoutInput, checkout_place_order
from sales.services.customers import customer_register
from tenants.accounts.models import User
from tests.conftest import PASSWORD

BASE_URL = "http://alpha.localhost"
ADDRESS = {"full_name": "Marie Curie", "line1": "12 rue des Écoles", "postal_code": "75005",
           "city": "Paris", "country": "FR"}


def goods(sku: str = "BIKE", *, stock: str = "10", price: str = "100.00", rate: str = "20.00",
          **extra):
    data = {"sku": sku, "name": f"Goods {sku}", "net_price": Decimal(price),
            "tax_rate": TaxRate.objects.get(rate=Decimal(rate)), **extra}
    return product_create(kind="goods", data=data, initial_stock=Decimal(stock))


def service(sku: str = "SETUP", *, price: str = "50.00"):
    return product_create(kind="service", data={"sku": sku, "name": f"Service {sku}",
                                                "net_price": Decimal(price)})


def lot(number: str = "A01", *, price: str = "250000"):
    project = Project.objects.get_or_create(slug="jardins", defaults={"name": "Les Jardins"})[0]
    return product_create(kind="lot", data={
        "sku": f"LOT-{number}", "name": f"Lot {number}", "net_price": Decimal(price),
        "project": project, "lot_number": number, "surface_m2": Decimal("64.5"),
        "tax_rate": TaxRate.objects.get(rate=Decimal("20.00"))})


def customer(email: str = "marie@example.test", **extra) -> Customer:
    fields = {"first_name": "Marie", "last_name": "Curie", "state": CustomerState.GUEST, **extra}
    return Customer.objects.create(email=email, **fields)


def registered(email: str = "paul@example.test") -> Customer:
    return customer_register(email=email, password=PASSWORD, first_name="Paul",
                             last_name="Langevin")


def staff(role: str, email: str | None = None) -> User:
    user = User.objects.create_user(email or f"{role}-{secrets.token_hex(3)}@staff.test",
                                    PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    return User.objects.get(pk=user.pk)  # fresh: no stale permission cache


def standard_shipping() -> ShippingMethod:
    return ShippingMethod.objects.get(kind="flat")


def pickup() -> ShippingMethod:
    return ShippingMethod.objects.get(kind="pickup")


def checkout_input(**extra) -> CheckoutInput:
    fields = {"email": "guest@example.test", "first_name": "Ada", "last_name": "Lovelace",
              "billing_address": dict(ADDRESS), "shipping_method": standard_shipping(),
              "payment_method": "bank_transfer", "checkout_key": secrets.token_urlsafe(16),
              **extra}
    return CheckoutInput(**fields)


def place_order(*lines, customer=None, **extra):
    """An order through a real cart and checkout: lines are (product, quantity) pairs."""
    session: dict = {}
    cart = cart_get_or_create(session=session, customer=customer)
    for product, quantity in lines:
        cart_add(cart=cart, product=product, quantity=quantity)
    return checkout_place_order(cart=cart, customer=customer, data=checkout_input(**extra),
                                base_url=BASE_URL)

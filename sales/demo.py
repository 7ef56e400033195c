"""Demo sales for `manage.py seed_demo` (run in the demo shop's schema after the catalog's):
customers (people and companies, one with a storefront account), orders in every state and
quotes at every step, all made through the services. Does nothing if the shop has customers.
The off-plan sale of a lot with its billing schedule is seeded apart (`seed_lot_sale`), once."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from catalog.models import BaseProduct
from sales.models import Customer, Order, OrderStatus, ShippingMethod
from sales.services.carts import cart_add, cart_get_or_create
from sales.services.checkout import CheckoutInput, checkout_place_order
from sales.services.customers import address_save, customer_create, customer_register
from sales.services.orders import order_transition
from sales.services.quotes import (
    quote_accept,
    quote_create,
    quote_decline,
    quote_line_input,
    quote_send,
)
from streams.errors import MilestoneBillingRefused
from streams.models import Milestone
from streams.services.milestones import milestone_complete, milestone_create
from streams.subjects import content_type_id
from tenants.accounts.models import User

DEMO_CUSTOMER = "client@demo.example"
DEMO_CUSTOMER_PASSWORD = "demo-password-2026"
BASE_URL = "http://demo.localhost:8000"
# The lot the demo customer buys off-plan, and its billing schedule: the classic French
# instalments (35 % at the foundations, 70 % at the roof, 95 % at completion, 100 % at
# handover), as shares of the order, with their planned ends in days from today.
LOT_SALE = "JDL-B03"
LOT_SCHEDULE = [("Foundations", "35", -150), ("Roof on", "35", 45),
                ("Building completed", "25", 330), ("Handover of the keys", "5", 420)]

PEOPLE = [
    ("Camille", "Martin", "camille.martin@example.fr", "8 rue Crébillon", "44000", "Nantes"),
    ("Hugo", "Bernard", "hugo.bernard@example.fr", "21 avenue Jean Jaurès", "69007", "Lyon"),
    ("Léa", "Dubois", "lea.dubois@example.fr", "3 place du Capitole", "31000", "Toulouse"),
]
COMPANIES = [
    ("Atelier Vélo Ouest", "SAS", "FR32123456789", "12345678900011", "contact@velo-ouest.example",
     "5 quai de Versailles", "44000", "Nantes"),
    ("Loire Logistique", "SARL", "FR40987654321", "98765432100012", "achats@loire-log.example",
     "40 boulevard de la Prairie", "44200", "Nantes"),
]


def _address(customer: Customer, line1: str, postal_code: str, city: str) -> None:
    address_save(customer=customer, data={
        "full_name": customer.display_name, "company": customer.company_name, "line1": line1,
        "postal_code": postal_code, "city": city, "country": "FR"})


def _order(customer: Customer, lines: list[tuple[str, str]], *, shipping: str = "flat"):
    products = {p.sku: p for p in BaseProduct.objects.filter(sku__in=[s for s, _q in lines])}
    cart = cart_get_or_create(session={}, customer=None)
    for sku, quantity in lines:
        cart_add(cart=cart, product=products[sku], quantity=quantity)
    address = customer.addresses.first()
    return checkout_place_order(cart=cart, customer=customer, base_url=BASE_URL, data=CheckoutInput(
        email=customer.email, billing_address=address.snapshot(),
        shipping_method=ShippingMethod.objects.get(kind=shipping),
        payment_method="bank_transfer", checkout_key=f"demo-{cart.pk}"))


def seed() -> int:
    if Customer.objects.exists() or not BaseProduct.objects.exists():
        return seed_lot_sale()
    owner = User.objects.filter(is_staff=True).order_by("pk").first()
    customers = []
    for first, last, email, line1, postal_code, city in PEOPLE:
        customer = customer_create(data={"first_name": first, "last_name": last, "email": email,
                                         "phone": "+33 6 12 34 56 78"}, by=owner)
        _address(customer, line1, postal_code, city)
        customers.append(customer)
    for name, _form, vat, siret, email, line1, postal_code, city in COMPANIES:
        customer = customer_create(data={"kind": "company", "company_name": name,
                                         "last_name": "Achats", "email": email, "vat_number": vat,
                                         "company_id": siret}, by=owner)
        _address(customer, line1, postal_code, city)
        customers.append(customer)
    if not User.objects.filter(email=DEMO_CUSTOMER).exists():
        account = customer_register(email=DEMO_CUSTOMER, password=DEMO_CUSTOMER_PASSWORD,
                                    first_name="Chloé", last_name="Petit")
        _address(account, "17 rue de la Paix", "75002", "Paris")
        customers.append(account)

    camille, hugo, lea, atelier, loire = customers[:5]
    account = customers[-1]
    # Orders along the whole life cycle.
    _order(camille, [("PT-TUBE-700", "4"), ("PT-LIGHTS", "1")])
    confirmed = _order(hugo, [("BK-CITY-M", "1"), ("PT-LOCK", "1")])
    order_transition(order=confirmed, action="confirm", by=owner)
    preparing = _order(atelier, [("PT-CHAIN-11", "6"), ("PT-PADS", "2")])
    for action in ("confirm", "start_processing"):
        order_transition(order=preparing, action=action, by=owner)
    shipped = _order(lea, [("BK-ROAD-54", "1")], shipping="pickup")
    for action in ("confirm", "start_processing", "ship"):
        order_transition(order=shipped, action=action, by=owner, tracking="6A12345678901")
    delivered = _order(account, [("PT-LIGHTS", "2"), ("SV-SERVICE", "1")])
    for action in ("confirm", "start_processing", "ship", "deliver"):
        order_transition(order=delivered, action=action, by=owner)
    cancelled = _order(camille, [("PT-LOCK", "1")])
    order_transition(order=cancelled, action="cancel", by=owner,
                     reason="The customer ordered the wrong size.")

    # Quotes at every step.
    valid = {"valid_until": timezone.localdate() + timedelta(days=30),
             "terms": "Payment: 30 % on order, the balance on delivery."}
    quote_create(customer=loire, by=owner, data={**valid, "discount_percent": "8"}, lines=[
        quote_line_input(product=BaseProduct.objects.get(sku="VH-CARGO"), quantity="1"),
        quote_line_input(product=BaseProduct.objects.get(sku="SV-SERVICE"), quantity="4"),
        quote_line_input(name="Company branding on the cargo box", quantity="1",
                         unit_net=Decimal("180.00"), tax_rate=Decimal("20.00"))])
    workshop = quote_create(customer=atelier, by=owner, data=valid, lines=[
        quote_line_input(product=BaseProduct.objects.get(sku="PT-TUBE-700"), quantity="40",
                         discount_percent="15")])
    quote_send(quote=workshop, by=owner, base_url=BASE_URL)
    accepted = quote_create(customer=account, by=owner, data=valid, lines=[
        quote_line_input(product=BaseProduct.objects.get(sku="SV-FIT"), quantity="2")])
    quote_send(quote=accepted, by=owner, base_url=BASE_URL)
    quote_accept(quote=accepted, name="Chloé Petit", accept_terms=True, ip="127.0.0.1")
    declined = quote_create(customer=hugo, by=owner, data=valid, lines=[
        quote_line_input(product=BaseProduct.objects.get(sku="BK-ROAD-56"), quantity="2")])
    quote_send(quote=declined, by=owner, base_url=BASE_URL)
    quote_decline(quote=declined, reason="Found a cheaper offer elsewhere.")
    return len(customers) + 6 + 4 + seed_lot_sale()


def seed_lot_sale() -> int:
    """The demo customer buys lot LOT_SALE off-plan: a quote accepted online becomes an order,
    confirmed, with its billing schedule. The foundations are done: their milestone is
    completed, which invoices the first 35 % (billing, through streams' signal) — unless the
    shop's legal identity is incomplete (a fresh demo shop's is), when billing refuses and the
    milestone stays planned for staff to complete once it is filled in. Once per shop: does
    nothing when the lot was already sold or the schedule exists."""
    account = Customer.objects.filter(user__email=DEMO_CUSTOMER).first()
    lot = BaseProduct.objects.filter(sku=LOT_SALE).first()
    owner = User.objects.filter(is_staff=True).order_by("pk").first()
    if account is None or lot is None or owner is None:
        return 0
    order = (Order.objects.filter(lines__product=lot).exclude(status=OrderStatus.CANCELLED)
             .first())
    created = 0
    if order is None:
        quote = quote_create(customer=account, by=owner, data={
            "valid_until": timezone.localdate() + timedelta(days=30),
            "terms": "Off-plan sale (VEFA): paid in instalments as the building progresses."},
            lines=[quote_line_input(product=lot, quantity="1")])
        quote_send(quote=quote, by=owner, base_url=BASE_URL)
        order = quote_accept(quote=quote, name="Chloé Petit", accept_terms=True, ip="127.0.0.1")
        if order is None:  # the lot was not available after all: no sale, no schedule
            return 1
        order_transition(order=order, action="confirm", by=owner)
        created += 2
    if Milestone.objects.filter(subject_type_id=content_type_id(Order),
                                subject_id=order.pk).exists():
        return created
    today = timezone.localdate()
    milestones = [milestone_create(subject=order, by=owner, data={
        "name": name, "bill_percent": Decimal(share), "planned_end": today + timedelta(days=end),
        "planned_start": today + timedelta(days=end - 90)})
        for name, share, end in LOT_SCHEDULE]
    try:
        milestone_complete(milestone=milestones[0], by=owner)
    except MilestoneBillingRefused:
        pass  # the refusal rolled back alone (its own savepoint): the milestone stays planned
    return created + len(milestones)

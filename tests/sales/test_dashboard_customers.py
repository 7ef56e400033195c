"""Staff keep customer records and their addresses from the dashboard; managers keep the
shipping methods the checkout offers."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone, translation

from catalog.models import TaxRate
from sales.models import Address, Customer, CustomerKind, Order, ShippingMethod
from sales.services.customers import address_save
from sales.services.quotes import quote_create
from tests.conftest import host_of, in_schema, login
from tests.sales.factories import ADDRESS, customer, goods, place_order, registered, staff

pytestmark = pytest.mark.usefixtures("in_shop")

CUSTOMERS = "/dashboard/sales/customers/"
SHIPPING = "/dashboard/sales/shipping/"
PERSON = {"kind": "person", "first_name": "Ada", "last_name": "Lovelace",
          "email": "Ada@Example.test", "phone": "+33 6 12 34 56 78"}


def client_for(shop, role: str) -> Client:
    return login(Client(HTTP_HOST=host_of(shop)), shop, staff(role))


def bulk_customers(n: int, *, start: int = 0) -> None:
    now = timezone.now()
    made = Customer.objects.bulk_create([
        Customer(email=f"c{start + i}@example.test", last_name=f"Client{start + i:04d}",
                 created_at=now - timedelta(minutes=i)) for i in range(n)])
    Order.objects.bulk_create([
        Order(number=f"C-CUST-{c.pk}", customer=c, email=c.email) for c in made[::2]])


# ---------------------------------------------------------------------------------------------
# Pages and roles
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("role", ["owner", "manager", "sales", "warehouse", "accountant"])
def test_every_role_reads_customers(shop, role):
    marie = customer()
    client = client_for(shop, role)
    assert client.get(CUSTOMERS).status_code == 200
    assert client.get(f"{CUSTOMERS}{marie.pk}/").status_code == 200


@pytest.mark.parametrize(("role", "may_edit"), [
    ("owner", True), ("manager", True), ("sales", True), ("warehouse", False),
    ("accountant", False)])
def test_only_selling_roles_create_and_edit_customers(shop, role, may_edit):
    marie = customer()
    client = client_for(shop, role)
    expected = 200 if may_edit else 403
    assert client.get(f"{CUSTOMERS}new/").status_code == expected
    assert client.get(f"{CUSTOMERS}{marie.pk}/edit/").status_code == expected
    response = client.post(f"{CUSTOMERS}{marie.pk}/addresses/new/", ADDRESS)
    assert response.status_code == (302 if may_edit else 403)
    assert Address.objects.filter(customer=marie).exists() is may_edit


def test_detail_shows_quotes_only_to_roles_that_see_them(shop):
    marie = customer()
    order = place_order((goods("BIKE"), 1), customer=marie)
    quote = quote_create(customer=marie, by=staff("sales"))
    clerk = client_for(shop, "warehouse").get(f"{CUSTOMERS}{marie.pk}/").content.decode()
    assert order.number in clerk and quote.reference not in clerk
    assert "New quote" not in clerk
    seller = client_for(shop, "sales").get(f"{CUSTOMERS}{marie.pk}/").content.decode()
    assert order.number in seller and quote.reference in seller
    assert f'href="/dashboard/sales/quotes/new/?customer={marie.pk}"' in seller
    assert f'href="/dashboard/sales/orders/?customer={marie.pk}"' in seller


# ---------------------------------------------------------------------------------------------
# Create and edit
# ---------------------------------------------------------------------------------------------
def test_create_a_person_then_edit_them(shop, owner_client):
    response = owner_client.post(f"{CUSTOMERS}new/", {**PERSON, "notes": "VIP"})
    ada = Customer.objects.get()
    assert response["Location"] == f"{CUSTOMERS}{ada.pk}/"
    assert (ada.email, ada.state, ada.notes) == ("ada@example.test", "guest", "VIP")
    owner_client.post(f"{CUSTOMERS}{ada.pk}/edit/", {
        **PERSON, "kind": "company", "company_name": "Analytical Engines",
        "vat_number": "fr 12 345678901", "company_id": "732 829 320"})
    ada.refresh_from_db()
    assert (ada.kind, ada.company_name, ada.vat_number, ada.company_id) == (
        CustomerKind.COMPANY, "Analytical Engines", "FR12345678901", "732829320")
    page = owner_client.get(f"{CUSTOMERS}{ada.pk}/").content.decode()
    assert "Analytical Engines (Ada Lovelace)" in page and "FR12345678901" in page


@pytest.mark.parametrize(("data", "field", "message"), [
    ({"kind": "company", "company_name": ""}, "company_name", "A company needs its company name"),
    ({"vat_number": "12345"}, "vat_number", "two country letters"),
    ({"company_id": "12"}, "company_id", "A SIREN has 9 digits"),
    ({"email": "not-an-email"}, "email", "Enter a valid email address"),
    ({"first_name": "", "last_name": ""}, "last_name", "Give a name or a company name"),
])
def test_customer_errors_show_next_to_the_field_and_keep_the_input(
        shop, owner_client, data, field, message):
    response = owner_client.post(f"{CUSTOMERS}new/", {**PERSON, **data})
    assert response.status_code == 422
    assert message in " ".join(response.context["form"].errors[field])
    html = response.content.decode()
    assert 'value="+33 6 12 34 56 78"' in html and 'class="error-summary"' in html
    assert not Customer.objects.exists()


def test_a_registered_customer_keeps_their_sign_in_email(shop, owner_client):
    paul = registered()
    response = owner_client.post(f"{CUSTOMERS}{paul.pk}/edit/", {
        "kind": "person", "first_name": "Paul", "last_name": "Langevin",
        "email": "other@example.test"})
    assert response.status_code == 422
    assert "they change it from their account" in response.content.decode()
    assert Customer.objects.get(pk=paul.pk).email == "paul@example.test"


# ---------------------------------------------------------------------------------------------
# Addresses
# ---------------------------------------------------------------------------------------------
def test_addresses_are_added_edited_and_deleted(shop, owner_client):
    marie = customer()
    url = f"{CUSTOMERS}{marie.pk}/addresses/"
    response = owner_client.post(url + "new/", ADDRESS)
    assert response["Location"] == f"{CUSTOMERS}{marie.pk}/#addresses"
    home = Address.objects.get(customer=marie)
    assert home.is_default_billing and home.is_default_shipping, "the first is the default"
    owner_client.post(url + "new/", {**ADDRESS, "line1": "1 quai Conti",
                                     "is_default_shipping": "on"})
    office = Address.objects.get(customer=marie, line1="1 quai Conti")
    home.refresh_from_db()
    assert office.is_default_shipping and not home.is_default_shipping
    assert home.is_default_billing
    owner_client.post(url + f"{office.pk}/", {**ADDRESS, "line1": "2 quai Conti",
                                              "is_default_shipping": "on"})
    office.refresh_from_db()
    assert office.line1 == "2 quai Conti"
    page = owner_client.get(f"{CUSTOMERS}{marie.pk}/").content.decode()
    assert "2 quai Conti" in page and "12 rue des Écoles" in page
    owner_client.post(url + f"{home.pk}/delete/")
    office.refresh_from_db()
    assert list(Address.objects.filter(customer=marie)) == [office]
    assert office.is_default_billing, "the billing default moves to the address left"


def test_address_errors_keep_the_input(shop, owner_client):
    marie = customer()
    response = owner_client.post(f"{CUSTOMERS}{marie.pk}/addresses/new/",
                                 {**ADDRESS, "postal_code": "7500"})
    assert response.status_code == 422
    html = response.content.decode()
    assert "A French postal code has 5 digits." in html and "12 rue des Écoles" in html
    assert "<details class=\"add-lines\" open>" in html
    assert not Address.objects.exists()


def test_another_customers_address_cannot_be_reached(shop, owner_client):
    marie, paul = customer(), customer("paul@example.test")
    theirs = address_save(customer=paul, data=ADDRESS)
    assert owner_client.get(f"{CUSTOMERS}{marie.pk}/addresses/{theirs.pk}/").status_code == 404
    response = owner_client.post(f"{CUSTOMERS}{marie.pk}/addresses/{theirs.pk}/delete/")
    assert response.status_code == 404
    assert Address.objects.filter(pk=theirs.pk).exists()


# ---------------------------------------------------------------------------------------------
# The list
# ---------------------------------------------------------------------------------------------
def test_list_searches_filters_and_sorts(shop, owner_client):
    customer("marie@example.test")
    registered("paul@example.test")
    customer("acme@example.test", kind="company", company_name="Acme", first_name="",
             last_name="")
    place_order((goods("BIKE"), 1), customer=Customer.objects.get(email="marie@example.test"))

    def names(**params):
        return [row["name"] for row in owner_client.get(CUSTOMERS, params).context["rows"]]

    assert names(q="acme") == ["Acme"]
    assert names(kind="company") == ["Acme"]
    assert names(state="registered") == ["Paul Langevin"]
    assert names(sort="-orders")[0] == "Marie Curie"
    assert names(sort="name")[-1] == "Paul Langevin"
    partial = owner_client.get(CUSTOMERS, {"q": "a"}, HTTP_HX_REQUEST="true",
                               HTTP_HX_TARGET="customer-table")
    assert partial.content.decode().lstrip().startswith('<div id="customer-table"')


def test_customer_list_query_count_is_the_same_for_10_and_300(
        shop, django_assert_max_num_queries):
    client = client_for(shop, "sales")
    bulk_customers(10)
    client.get(CUSTOMERS)
    with django_assert_max_num_queries(8) as small:
        client.get(CUSTOMERS)
    bulk_customers(290, start=10)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get(CUSTOMERS, {"page": 4, "sort": "-orders"})
    assert len(response.context["rows"]) == 25
    assert response.context["page"].count == 300
    assert {row["orders"] for row in response.context["rows"]} <= {0, 1}


# ---------------------------------------------------------------------------------------------
# Shipping methods
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("role", "allowed"), [
    ("owner", True), ("manager", True), ("sales", False), ("warehouse", False),
    ("accountant", False)])
def test_shipping_methods_are_for_managers(shop, role, allowed):
    client = client_for(shop, role)
    expected = 200 if allowed else 403
    assert client.get(SHIPPING).status_code == expected
    assert client.get(f"{SHIPPING}new/").status_code == expected


def test_a_manager_creates_and_edits_shipping_methods(shop):
    client = client_for(shop, "manager")
    vat = TaxRate.objects.get(rate=Decimal("20.00"))
    response = client.post(f"{SHIPPING}new/", {
        "name": "Express", "kind": "flat", "price_net": "12.50", "tax_rate": vat.pk,
        "free_above": "", "description": "Next day", "is_active": "on", "position": "3"})
    assert response["Location"] == SHIPPING
    express = ShippingMethod.objects.get(name="Express")
    assert (express.price_net, express.free_above, express.position) == (
        Decimal("12.50"), None, 3)
    client.post(f"{SHIPPING}{express.pk}/", {
        "name": "Express pickup", "kind": "pickup", "price_net": "12.50", "tax_rate": vat.pk,
        "free_above": "50", "position": "3"})
    express.refresh_from_db()
    assert (express.kind, express.price_net, express.free_above, express.is_active) == (
        "pickup", Decimal("0.00"), None, False), "a pickup is free; unticked: not offered"
    listing = client.get(SHIPPING).content.decode()
    assert "Express pickup" in listing and "Not offered" in listing


def test_shipping_method_errors_keep_the_input(shop, owner_client):
    vat = TaxRate.objects.get(rate=Decimal("20.00"))
    response = owner_client.post(f"{SHIPPING}new/", {
        "name": "  ", "kind": "flat", "price_net": "-1", "tax_rate": vat.pk,
        "description": "Kept"})
    assert response.status_code == 422
    assert "Kept" in response.content.decode()
    assert set(response.context["form"].errors) == {"price_net"}
    assert not ShippingMethod.objects.filter(description="Kept").exists()


def test_a_method_without_a_name_speaks_each_customers_language(shop, owner_client):
    with in_schema(shop):
        method = ShippingMethod.objects.get(kind="flat")
        assert method.name == "", "the seeded methods keep the standard wording"
        with translation.override("fr"):
            assert (method.label, method.summary) == ("Livraison standard",
                                                      "Livrée en 2 à 4 jours ouvrés.")
        with translation.override("en"):
            assert method.label == "Standard delivery"
        method.name = "Colissimo"
        assert method.label == "Colissimo"

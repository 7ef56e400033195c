"""Staff drive orders from the dashboard: a list that filters, sorts and pages at a constant
query cost, and a detail page showing exactly the transitions each role may run."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from catalog.models import StockLevel
from sales.models import Order, OrderStatus
from sales.services.orders import LineInput, order_transition
from sales.services.quotes import quote_create
from sales.services.workflow import ORDER_ACTIONS
from streams.selectors import events_of
from tenants.accounts.models import User
from tests.conftest import PASSWORD, host_of, login
from tests.sales.factories import customer, goods, place_order, staff

pytestmark = pytest.mark.usefixtures("in_shop")

ORDERS = "/dashboard/sales/orders/"
ROLES = ("owner", "manager", "sales", "warehouse", "accountant")


def client_for(shop, role: str) -> Client:
    return login(Client(HTTP_HOST=host_of(shop)), shop, staff(role))


def shown_actions(html: str, order: Order) -> set[str]:
    """The transition forms a page offers for this order."""
    return set(re.findall(rf'action="/dashboard/sales/orders/{order.pk}/transition/(\w+)/"', html))


def bulk_orders(n: int, *, who=None, start: int = 0) -> list[Order]:
    """Many orders quickly (ORM, no checkout): enough to show a page's cost does not grow."""
    who = who or customer(f"bulk{start}@example.test", last_name=f"Bulk{start}")
    now = timezone.now()
    return Order.objects.bulk_create([
        Order(number=f"C-BULK-{start + i:05d}", customer=who, email=who.email,
              gross_total=Decimal(i), placed_at=now - timedelta(minutes=i))
        for i in range(n)])


# ---------------------------------------------------------------------------------------------
# Who may open the pages
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("role", ROLES)
def test_every_role_with_orders_opens_the_list_and_the_detail(shop, role):
    order = place_order((goods("BIKE"), 1))
    client = client_for(shop, role)
    assert client.get(ORDERS).status_code == 200
    assert client.get(f"{ORDERS}{order.pk}/").status_code == 200


def test_staff_without_a_role_and_customers_are_refused(shop):
    order = place_order((goods("BIKE"), 1))
    no_role = login(Client(HTTP_HOST=host_of(shop)), shop,
                    User.objects.create_user("norole@staff.test", PASSWORD, is_staff=True))
    assert no_role.get(ORDERS).status_code == 403
    assert no_role.get(f"{ORDERS}{order.pk}/").status_code == 403
    anonymous = Client(HTTP_HOST=host_of(shop))
    assert anonymous.get(ORDERS).status_code == 302


def test_the_nav_shows_sales_links_by_role(shop):
    nav = client_for(shop, "warehouse").get(ORDERS).content.decode()
    assert 'href="/dashboard/sales/orders/"' in nav
    assert 'href="/dashboard/sales/customers/"' in nav
    assert 'href="/dashboard/sales/quotes/"' not in nav, "warehouse has no quotes"
    nav = client_for(shop, "sales").get(ORDERS).content.decode()
    assert 'href="/dashboard/sales/quotes/"' in nav


# ---------------------------------------------------------------------------------------------
# Transition buttons: exactly the allowed ones
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("role", "pending", "confirmed"), [
    ("owner", {"confirm", "cancel"}, {"start_processing", "cancel"}),
    ("manager", {"confirm", "cancel"}, {"start_processing", "cancel"}),
    ("sales", {"confirm"}, set()),
    ("warehouse", set(), {"start_processing"}),
    ("accountant", set(), set()),
])
def test_detail_shows_exactly_the_transitions_the_role_may_run(shop, role, pending, confirmed):
    order = place_order((goods("BIKE"), 1))
    client = client_for(shop, role)
    page = client.get(f"{ORDERS}{order.pk}/")
    assert {b["name"] for b in page.context["buttons"]} == pending
    assert shown_actions(page.content.decode(), order) == pending
    order_transition(order=order, action="confirm", by=staff("sales"))
    page = client.get(f"{ORDERS}{order.pk}/")
    assert shown_actions(page.content.decode(), order) == confirmed


def test_buttons_use_the_workflow_labels_primary_first(shop, owner_client):
    order = place_order((goods("BIKE"), 1))
    page = owner_client.get(f"{ORDERS}{order.pk}/")
    buttons = page.context["buttons"]
    assert [b["name"] for b in buttons] == ["confirm", "cancel"]
    html = page.content.decode()
    assert str(ORDER_ACTIONS["confirm"][0]) in html and str(ORDER_ACTIONS["cancel"][0]) in html
    assert html.index("Confirm order") < html.index("Cancel order")


@pytest.mark.parametrize(("role", "action"), [
    ("warehouse", "confirm"), ("accountant", "confirm"), ("sales", "cancel"),
    ("accountant", "cancel"), ("sales", "start_processing"),
])
def test_a_transition_posted_by_the_wrong_role_is_refused_and_changes_nothing(
        shop, role, action):
    bike = goods("BIKE", stock="5")
    order = place_order((bike, 2))
    if action == "start_processing":
        order_transition(order=order, action="confirm", by=staff("sales"))
    before = Order.objects.get(pk=order.pk).status
    events = events_of(order).count()
    response = client_for(shop, role).post(f"{ORDERS}{order.pk}/transition/{action}/",
                                           {"reason": "test"})
    assert response.status_code == 403
    assert "Your role does not allow" in response.content.decode()
    assert Order.objects.get(pk=order.pk).status == before
    assert events_of(order).count() == events
    level = StockLevel.objects.get(pk=bike.pk)
    assert (level.on_hand, level.reserved) == (5, 2)


def test_an_illegal_transition_is_refused_with_the_reason(shop, owner_client):
    order = place_order((goods("BIKE"), 1))
    response = owner_client.post(f"{ORDERS}{order.pk}/transition/deliver/")
    assert response.status_code == 409
    assert "is not possible now" in response.content.decode()
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PENDING
    unknown = owner_client.post(f"{ORDERS}{order.pk}/transition/explode/")
    assert unknown.status_code == 409


def test_confirm_redirects_with_a_message_and_records_who(shop):
    order = place_order((goods("BIKE"), 1))
    seller = staff("sales")
    client = login(Client(HTTP_HOST=host_of(shop)), shop, seller)
    response = client.post(f"{ORDERS}{order.pk}/transition/confirm/", follow=True)
    assert response.redirect_chain[-1][0] == f"{ORDERS}{order.pk}/"
    assert "now confirmed" in response.content.decode()
    order.refresh_from_db()
    assert order.status == OrderStatus.CONFIRMED
    event = events_of(order).filter(verb="confirm").get()
    assert event.actor == seller and event.actor_kind == "staff"


def test_htmx_transition_answers_the_header_history_and_a_toast(shop, owner_client):
    order = place_order((goods("BIKE"), 1))
    response = owner_client.post(f"{ORDERS}{order.pk}/transition/confirm/",
                                 HTTP_HX_REQUEST="true", HTTP_HX_TARGET="order-header")
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div class="page-header doc-header" id="order-header"')
    assert 'badge-confirmed' in html
    assert 'id="order-history" hx-swap-oob="true"' in html
    assert 'id="order-facts" hx-swap-oob="true"' in html
    assert 'hx-swap-oob="innerHTML:#messages"' in html and "now confirmed" in html
    assert shown_actions(html, order) == {"start_processing", "cancel"}


def test_cancel_needs_a_reason_shown_next_to_the_field(shop, owner_client):
    bike = goods("BIKE", stock="5")
    order = place_order((bike, 2))
    refused = owner_client.post(f"{ORDERS}{order.pk}/transition/cancel/", {"reason": "  "},
                                HTTP_HX_REQUEST="true")
    assert refused.status_code == 422
    html = refused.content.decode()
    assert 'id="id_reason_error"' in html and "Say why the order is cancelled" in html
    assert "<details class=\"action-form\" open>" in html
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PENDING
    owner_client.post(f"{ORDERS}{order.pk}/transition/cancel/", {"reason": "Out of paint"})
    order.refresh_from_db()
    assert (order.status, order.cancel_reason) == (OrderStatus.CANCELLED, "Out of paint")
    assert StockLevel.objects.get(pk=bike.pk).reserved == 0
    page = owner_client.get(f"{ORDERS}{order.pk}/").content.decode()
    assert "Out of paint" in page and "badge-cancelled" in page
    assert shown_actions(page, order) == set()


def test_warehouse_ships_with_a_tracking_reference(shop):
    bike = goods("BIKE", stock="5")
    order = place_order((bike, 2))
    order_transition(order=order, action="confirm", by=staff("sales"))
    clerk = client_for(shop, "warehouse")
    clerk.post(f"{ORDERS}{order.pk}/transition/start_processing/")
    clerk.post(f"{ORDERS}{order.pk}/transition/ship/", {"tracking": "COLIS-42"})
    order.refresh_from_db()
    assert (order.status, order.tracking_reference) == (OrderStatus.SHIPPED, "COLIS-42")
    assert StockLevel.objects.get(pk=bike.pk).on_hand == 3
    page = clerk.get(f"{ORDERS}{order.pk}/").content.decode()
    assert "COLIS-42" in page and "badge-shipped" in page
    assert shown_actions(page, order) == {"deliver"}


# ---------------------------------------------------------------------------------------------
# Detail content
# ---------------------------------------------------------------------------------------------
def test_detail_shows_lines_totals_per_rate_addresses_and_history(shop, owner_client):
    bike = goods("BIKE", price="100.00", rate="20.00")
    book = goods("BOOK", price="10.00", rate="5.50")
    order = place_order((bike, 2), (book, 3), note="Ring twice")
    order_transition(order=order, action="confirm", by=staff("sales"))
    page = owner_client.get(f"{ORDERS}{order.pk}/")
    html = page.content.decode()
    totals = page.context["totals"]
    assert (totals.net, totals.vat, totals.gross) == (
        Decimal("230.00"), Decimal("41.65"), Decimal("271.65"))
    assert totals.gross == Order.objects.get(pk=order.pk).gross_total
    assert [(v["rate"], v["base"], v["vat"]) for v in page.context["vat_rows"]] == [
        (Decimal("5.50"), Decimal("30.00"), Decimal("1.65")),
        (Decimal("20.00"), Decimal("200.00"), Decimal("40.00"))]
    for text in ("Goods BIKE", "<code>BOOK</code>", "271.65", "VAT 5.5 % on 30.00 €",
                 "12 rue des Écoles", "Ring twice", "Bank transfer", "Order placed",
                 "Pending → Confirmed"):
        assert text in html, text
    assert f'href="/dashboard/sales/customers/{order.customer_id}/"' in html


# ---------------------------------------------------------------------------------------------
# The list
# ---------------------------------------------------------------------------------------------
def test_list_searches_filters_sorts_and_pages(shop, owner_client):
    bike = goods("BIKE", stock="100")
    ada = place_order((bike, 1), email="ada@example.test")
    grace = place_order((bike, 2), email="grace@example.test", last_name="Hopper")
    order_transition(order=grace, action="confirm", by=staff("sales"))
    bulk_orders(30)

    def numbers(**params):
        return [row["number"] for row in owner_client.get(ORDERS, params).context["rows"]]

    assert numbers(q="grace@") == [grace.number]
    assert numbers(q=ada.number) == [ada.number]
    assert numbers(q="Hopper") == [grace.number]
    assert numbers(status="confirmed") == [grace.number]
    assert numbers(status="to_ship") == [grace.number]
    assert numbers(customer=ada.customer_id) == [ada.number]
    assert numbers(sort="-total")[:3] == [grace.number, ada.number, "C-BULK-00029"]
    assert numbers(sort="number")[:3] == [ada.number, grace.number, "C-BULK-00000"]
    assert len(numbers(date_from=timezone.localdate().isoformat())) == 25
    assert numbers(date_to=(timezone.localdate() - timedelta(days=1)).isoformat()) == []
    assert numbers(status="nonsense", sort="bogus", date_from="yesterday")  # ignored, not a 500
    page = owner_client.get(ORDERS, {"page": 2})
    assert page.context["page"].count == 32 and len(page.context["rows"]) == 7
    assert "26–32 of 32" in page.content.decode()


def test_list_partial_keeps_filters_in_the_url(shop, owner_client):
    order = place_order((goods("BIKE"), 1))
    response = owner_client.get(ORDERS, {"status": "pending", "sort": "total"},
                                HTTP_HX_REQUEST="true", HTTP_HX_TARGET="order-table")
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="order-table"')
    assert '<input type="hidden" name="status" value="pending" form="order-filters">' in html
    assert '<input type="hidden" name="sort" value="total" form="order-filters">' in html
    assert 'aria-sort="ascending"' in html and "badge-pending" in html
    assert f'href="/dashboard/sales/orders/{order.pk}/"' in html
    assert 'id="order-count" hx-swap-oob="true"' in html


def test_list_filtered_by_customer_names_them(shop, owner_client):
    marie = customer("marie@example.test")
    bulk_orders(2, who=marie)
    html = owner_client.get(ORDERS, {"customer": marie.pk}).content.decode()
    assert "Customer: Marie Curie" in html
    empty = owner_client.get(ORDERS, {"customer": marie.pk, "status": "shipped"})
    assert "Customer: Marie Curie" in empty.content.decode()
    assert "No order matches these filters" in empty.content.decode()


def test_money_and_dates_follow_the_language(shop, owner_client):
    who = customer()
    Order.objects.create(number="C-FR-1", customer=who, email=who.email,
                         gross_total=Decimal("1234.56"))
    owner_client.cookies["django_language"] = "fr"
    html = owner_client.get(ORDERS).content.decode()
    assert "1\xa0234,56\xa0€" in html
    assert timezone.localdate().strftime("%d/%m/%Y") in html


def test_empty_list_says_what_it_is_for(shop, owner_client):
    html = owner_client.get(ORDERS).content.decode()
    assert "No orders yet" in html and "/dashboard/sales/quotes/new/" in html


def test_list_query_count_is_the_same_for_10_and_300_orders(
        shop, django_assert_max_num_queries):
    client = client_for(shop, "sales")  # a role: its permissions are read (owner skips that)
    bulk_orders(10)
    client.get(ORDERS)  # warm-up: per-process caches
    # Tenant, session, user with permissions, and one statement for the page with its total.
    with django_assert_max_num_queries(6) as small:
        client.get(ORDERS)
    bulk_orders(290, start=10)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get(ORDERS, {"page": 3, "sort": "-total"})
    assert len(response.context["rows"]) == 25
    assert response.context["page"].count == 300
    with django_assert_max_num_queries(len(small.captured_queries)):
        client.get(ORDERS, {"q": "bulk", "status": "pending"}, HTTP_HX_REQUEST="true",
                   HTTP_HX_TARGET="order-table")


def test_a_page_past_the_end_shows_the_last_one_and_the_links_around_it(shop, owner_client):
    bulk_orders(130)
    response = owner_client.get(ORDERS, {"page": 99, "sort": "date"})
    page = response.context["page"]
    assert (page.number, page.num_pages, page.count, page.start, page.end) == (6, 6, 130, 126, 130)
    assert [row["number"] for row in response.context["rows"]] == [
        f"C-BULK-{i:05d}" for i in range(4, -1, -1)]  # oldest last: sorted by date, ascending
    assert page.page_numbers == [1, None, 4, 5, 6]
    assert "126–130 of 130" in response.content.decode()
    assert owner_client.get(ORDERS, {"page": 3}).context["page"].page_numbers == [1, 2, 3, 4, 5, 6]


def test_page_links_stay_a_window_on_a_long_list():
    from tenants.pagination import _page_numbers

    assert _page_numbers(1, 1) == [1]
    assert _page_numbers(1, 400) == [1, 2, 3, None, 400]
    assert _page_numbers(50, 400) == [1, None, 48, 49, 50, 51, 52, None, 400]
    assert _page_numbers(4, 6) == [1, 2, 3, 4, 5, 6]


# ---------------------------------------------------------------------------------------------
# Dashboard home cards
# ---------------------------------------------------------------------------------------------
def test_home_cards_count_and_link_to_their_lists(shop, owner_client):
    bike = goods("BIKE", stock="10")
    to_ship = place_order((bike, 1))
    order_transition(order=to_ship, action="confirm", by=staff("sales"))
    place_order((bike, 1))
    quote_create(customer=customer(), by=None, lines=[LineInput.from_product(bike, Decimal(2))])
    html = owner_client.get("/dashboard/").content.decode()
    assert 'id="sales-to-ship"' in html and 'href="/dashboard/sales/orders/?status=to_ship"' in html
    assert 'id="sales-open-quotes"' in html and "?status=open" in html
    assert "worth 240.00\xa0€ incl. VAT" in html
    assert 'id="sales-today"' in html and "2 orders today" in html
    to_ship_card = html[html.index('id="sales-to-ship"'):html.index('id="sales-today"')]
    assert '<p class="kpi-value">1</p>' in to_ship_card  # from the kept counts
    listed = owner_client.get(ORDERS, {"status": "to_ship"}).context["rows"]
    assert [row["number"] for row in listed] == [to_ship.number]


def test_home_cards_follow_the_role(shop):
    assert 'id="sales-open-quotes"' not in client_for(shop, "warehouse").get(
        "/dashboard/").content.decode()
    assert 'id="sales-to-ship"' in client_for(shop, "warehouse").get(
        "/dashboard/").content.decode()

"""Platform console: only platform admins; every action is audited."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client
from django_tenants.utils import schema_context

from tenants.accounts.models import User
from tenants.models import Domain, Plan, PlatformAuditLog, Shop, ShopStatus
from tests.conftest import PASSWORD, host_of, login, owner_of

pytestmark = pytest.mark.django_db

CONSOLE_PAGES = ["/console/", "/console/pool/", "/console/audit/", "/console/shops/new/"]


@pytest.mark.parametrize("path", CONSOLE_PAGES)
def test_anonymous_visitors_are_sent_to_the_console_login(platform_client, path, _platform):
    response = platform_client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/console/login/")


@pytest.mark.parametrize("path", CONSOLE_PAGES)
def test_public_users_who_are_not_platform_admins_are_refused(platform_client, path, _platform):
    user = User.objects.create_user("someone@example.test", PASSWORD)
    platform_client.force_login(user)
    assert platform_client.get(path).status_code == 403


def test_shop_staff_cannot_reach_the_console(shop):
    client = login(Client(HTTP_HOST=host_of(shop)), shop, owner_of(shop))
    assert client.get("/console/").status_code == 404, "no console on shop hosts"
    # and the shop owner's credentials are unknown on the platform
    platform = Client(HTTP_HOST=settings.BASE_DOMAIN)
    response = platform.post("/console/login/", {"username": owner_of(shop).email,
                                                 "password": PASSWORD})
    assert response.status_code == 200
    assert platform.get("/console/").status_code == 302


def test_shop_transitions_are_refused_to_non_admins(platform_client, shop):
    user = User.objects.create_user("someone@example.test", PASSWORD)
    platform_client.force_login(user)
    response = platform_client.post(f"/console/shops/{shop.pk}/suspend/", {"reason": "x"})
    assert response.status_code == 403
    assert Shop.objects.get(pk=shop.pk).status == ShopStatus.ACTIVE
    assert not PlatformAuditLog.objects.filter(shop=shop).exists()


def test_suspend_reactivate_archive_each_leave_an_audit_row(admin_client, platform_admin, shop):
    for action, status in [("suspend", "suspended"), ("reactivate", "active"),
                           ("archive", "archived")]:
        data = {"reason": f"why {action}", "confirm": "on"}
        response = admin_client.post(f"/console/shops/{shop.pk}/{action}/", data)
        assert response.status_code == 302
        assert Shop.objects.get(pk=shop.pk).status == status

    rows = list(PlatformAuditLog.objects.filter(shop=shop).order_by("pk"))
    assert [r.action for r in rows] == ["shop.suspended", "shop.reactivated", "shop.archived"]
    assert all(r.actor == platform_admin and r.actor_label == platform_admin.email for r in rows)
    assert rows[0].data == {"from": "active", "to": "suspended", "reason": "why suspend"}


def test_archiving_needs_an_explicit_confirmation(admin_client, shop):
    response = admin_client.post(f"/console/shops/{shop.pk}/archive/", {"reason": "x"}, follow=True)
    assert "Tick the box" in response.content.decode()
    assert Shop.objects.get(pk=shop.pk).status == ShopStatus.ACTIVE
    assert not PlatformAuditLog.objects.filter(shop=shop).exists()


def test_a_refused_transition_says_why_and_changes_nothing(admin_client, shop):
    response = admin_client.post(f"/console/shops/{shop.pk}/reactivate/", follow=True)
    assert "Only a suspended shop can be reactivated" in response.content.decode()
    assert Shop.objects.get(pk=shop.pk).status == ShopStatus.ACTIVE
    assert not PlatformAuditLog.objects.filter(shop=shop).exists()


def test_change_plan_is_audited(admin_client, shop):
    response = admin_client.post(f"/console/shops/{shop.pk}/plan/", {"plan": "business"})
    assert response.status_code == 302
    assert Shop.objects.get(pk=shop.pk).plan.code == "business"
    row = PlatformAuditLog.objects.get(shop=shop, action="shop.plan_changed")
    assert row.data == {"from": "starter", "to": "business"}


def test_forged_plan_is_refused(admin_client, shop):
    response = admin_client.post(f"/console/shops/{shop.pk}/plan/", {"plan": "gold"}, follow=True)
    assert "Choose a plan" in response.content.decode()
    assert Shop.objects.get(pk=shop.pk).plan.code == "starter"


def test_create_a_shop_for_someone_emails_the_owner_a_password_link(
    admin_client, platform_admin, pooled_shop, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post("/console/shops/new/", {
            "name": "Boulangerie Paul", "subdomain": "paul", "owner_email": "paul@example.test",
            "plan": "business", "locale": "fr",
        })
    assert response.status_code == 302
    shop = Shop.objects.get(domains__domain=f"paul.{settings.BASE_DOMAIN}")
    assert (shop.status, shop.plan.code, shop.locale) == ("active", "business", "fr")
    with schema_context(shop.schema_name):
        owner = User.objects.get(email="paul@example.test")
        assert not owner.has_usable_password()
    assert PlatformAuditLog.objects.get(shop=shop).action == "shop.created"
    assert PlatformAuditLog.objects.get(shop=shop).actor == platform_admin
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["paul@example.test"]
    link = next(line for line in mail.outbox[0].body.splitlines() if "/accounts/password/reset/" in line)
    assert link.startswith(f"http://paul.{settings.BASE_DOMAIN}/")

    # the link lets the owner choose a password, then sign in
    client = Client(HTTP_HOST=f"paul.{settings.BASE_DOMAIN}")
    form_page = client.get(link.split(settings.BASE_DOMAIN, 1)[1], follow=True)
    assert form_page.context["validlink"]
    client.post(form_page.redirect_chain[-1][0], {"new_password1": PASSWORD,
                                                 "new_password2": PASSWORD})
    assert client.post("/accounts/login/", {"username": "paul@example.test",
                                            "password": PASSWORD}).status_code == 302


def test_create_shop_with_invalid_subdomain_creates_nothing(admin_client, pooled_shop):
    shops, domains = Shop.objects.count(), Domain.objects.count()
    response = admin_client.post("/console/shops/new/", {
        "name": "X", "subdomain": "api", "owner_email": "x@example.test", "plan": "starter",
        "locale": "fr",
    })
    assert response.status_code == 422
    assert "reserved" in " ".join(response.context["form"].errors["subdomain"])
    assert (Shop.objects.count(), Domain.objects.count()) == (shops, domains)
    assert not PlatformAuditLog.objects.exists()


def _make_shops(n: int) -> None:
    plan = Plan.objects.get(code="starter")
    for i in range(n):
        # Rows only (no schema): the list reads public tables, so this is all it needs.
        shop = Shop(schema_name=f"shop_list{i:04d}", name=f"Listed {i:03d}", plan=plan,
                    status=ShopStatus.ACTIVE, owner_email=f"o{i}@example.test")
        Shop.objects.bulk_create([shop])
        created = Shop.objects.get(schema_name=f"shop_list{i:04d}")
        Domain.objects.create(domain=f"listed{i}.{settings.BASE_DOMAIN}", tenant=created,
                              is_primary=True)


def test_shop_list_searches_filters_sorts_and_paginates(admin_client, shop, other_shop):
    _make_shops(30)

    page1 = admin_client.get("/console/", {"sort": "name"})
    names = [s.name for s in page1.context["page"].items]
    assert page1.context["page"].count == 32
    assert len(names) == 25
    assert names == sorted(names)
    assert "1–25 of 32" in page1.content.decode()
    page2 = admin_client.get("/console/", {"sort": "name", "page": 2})
    assert len(page2.context["page"].items) == 7

    found = admin_client.get("/console/", {"q": "listed7"})
    assert [s.name for s in found.context["page"].items] == ["Listed 007"]
    by_status = admin_client.get("/console/", {"status": "active", "plan": "starter", "q": "alpha"})
    assert [s.name for s in by_status.context["page"].items] == ["Alpha Shop"]


def test_shop_list_htmx_request_returns_only_the_table(admin_client, shop):
    response = admin_client.get("/console/", {"q": "alpha"}, HTTP_HX_REQUEST="true",
                                HTTP_HX_TARGET="shop-table")
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="shop-table"')
    assert "Alpha Shop" in html
    assert "<nav" not in html.split('<nav class="pagination"')[0]


def test_shop_list_query_count_does_not_grow_with_shops(admin_client, django_assert_max_num_queries,
                                                        shop):
    _make_shops(3)
    with django_assert_max_num_queries(10) as small:
        admin_client.get("/console/")
    _make_shops_more = 40
    plan = Plan.objects.get(code="starter")
    for i in range(_make_shops_more):
        created = Shop.objects.bulk_create([Shop(schema_name=f"shop_more{i:04d}", name=f"More {i}",
                                                 plan=plan, status=ShopStatus.ACTIVE)])[0]
        created = Shop.objects.get(schema_name=created.schema_name)
        Domain.objects.create(domain=f"more{i}.{settings.BASE_DOMAIN}", tenant=created)
    with django_assert_max_num_queries(len(small.captured_queries)):
        admin_client.get("/console/")


def test_shop_detail_shows_usage_domains_and_history(admin_client, shop, platform_admin):
    admin_client.post(f"/console/shops/{shop.pk}/plan/", {"plan": "business"})
    response = admin_client.get(f"/console/shops/{shop.pk}/")
    html = response.content.decode()
    assert response.context["usage"] == {"staff": 1, "products": 0, "orders": 0, "customers": 0,
                                         "invoices": 0}
    assert host_of(shop) in html
    assert "Plan changed" in html


def test_pool_page_shows_ready_shops_and_fills_on_demand(admin_client, pooled_shop, settings):
    settings.SHOP_POOL_SIZE = 1
    response = admin_client.get("/console/pool/")
    assert response.context["ready"] == Shop.objects.filter(status="pooled").count()
    admin_client.post("/console/pool/")
    row = PlatformAuditLog.objects.get(action="pool.filled")
    assert row.data["ready"] >= 1

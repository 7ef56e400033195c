"""Tenant side: roles, the staff page, invitations, seats, password flows, dashboard shell."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client

from tenants.accounts.models import User
from tenants.accounts.roles import ROLES
from tenants.accounts.services import staff_invite
from tenants.errors import PlanLimitReached
from tenants.models import Plan, Shop
from tests.conftest import PASSWORD, host_of, in_schema, login

pytestmark = pytest.mark.django_db


def make_staff(shop: Shop, email: str, role: str) -> User:
    from django.contrib.auth.models import Group

    with in_schema(shop):
        user = User.objects.create_user(email, PASSWORD, is_staff=True)
        user.groups.add(Group.objects.get(name=role))
        return user


def test_every_shop_has_the_five_role_groups(shop):
    from django.contrib.auth.models import Group

    with in_schema(shop):
        assert set(Group.objects.values_list("name", flat=True)) >= set(ROLES)
        owner = Group.objects.get(name="owner")
        assert owner.permissions.filter(codename="manage_staff").exists()
        assert not Group.objects.get(name="sales").permissions.filter(codename="manage_staff").exists()


def test_owner_invites_staff_who_sets_a_password_and_signs_in(
    owner_client, shop, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post("/dashboard/staff/invite/",
                                     {"email": "Clerk@Example.test", "role": "sales"})
    assert response.status_code == 302
    with in_schema(shop):
        clerk = User.objects.get(email="clerk@example.test")
        assert clerk.role == "sales" and clerk.is_staff and not clerk.has_usable_password()
    assert mail.outbox[-1].to == ["clerk@example.test"]
    link = re.search(r"http://\S+/accounts/password/reset/\S+", mail.outbox[-1].body).group(0)

    client = Client(HTTP_HOST=host_of(shop))
    page = client.get(link.split(host_of(shop), 1)[1], follow=True)
    client.post(page.redirect_chain[-1][0], {"new_password1": PASSWORD, "new_password2": PASSWORD})
    client.post("/accounts/login/", {"username": "clerk@example.test", "password": PASSWORD})
    assert client.get("/dashboard/").status_code == 200


def test_staff_seats_are_limited_by_the_plan(owner_client, shop):
    Plan.objects.filter(pk=shop.plan_id).update(max_staff=2)
    owner_client.post("/dashboard/staff/invite/", {"email": "one@example.test", "role": "sales"})

    response = owner_client.post("/dashboard/staff/invite/", {"email": "two@example.test",
                                                             "role": "sales"})

    assert response.status_code == 422
    assert "all are in use" in response.content.decode()
    with in_schema(shop):
        assert not User.objects.filter(email="two@example.test").exists()


def test_seat_limit_holds_in_the_service_too(shop, owner):
    with in_schema(shop):
        staff_invite(email="a@example.test", role="sales", by=owner, max_staff=2)
        with pytest.raises(PlanLimitReached):
            staff_invite(email="b@example.test", role="sales", by=owner, max_staff=2)


def test_a_sales_clerk_cannot_manage_staff(shop):
    clerk = make_staff(shop, "sales@example.test", "sales")
    client = login(Client(HTTP_HOST=host_of(shop)), shop, clerk)
    assert client.get("/dashboard/").status_code == 200
    assert client.get("/dashboard/staff/").status_code == 403
    assert client.post("/dashboard/staff/invite/", {"email": "x@example.test",
                                                    "role": "owner"}).status_code == 403
    assert client.get("/dashboard/settings/").status_code == 403
    with in_schema(shop):
        assert not User.objects.filter(email="x@example.test").exists()


def test_manager_sees_staff_but_cannot_invite(shop):
    manager = make_staff(shop, "manager@example.test", "manager")
    client = login(Client(HTTP_HOST=host_of(shop)), shop, manager)
    page = client.get("/dashboard/staff/")
    assert page.status_code == 200
    assert "Send invitation" not in page.content.decode()
    assert client.post("/dashboard/staff/invite/", {"email": "y@example.test",
                                                    "role": "sales"}).status_code == 403


def test_deactivated_staff_cannot_sign_in_and_loses_their_session(owner_client, shop):
    clerk = make_staff(shop, "leaver@example.test", "warehouse")
    clerk_client = login(Client(HTTP_HOST=host_of(shop)), shop, clerk)

    owner_client.post(f"/dashboard/staff/{clerk.pk}/deactivate/")

    assert clerk_client.get("/dashboard/").status_code == 302
    response = Client(HTTP_HOST=host_of(shop)).post(
        "/accounts/login/", {"username": clerk.email, "password": PASSWORD})
    assert response.status_code == 200


def test_the_last_owner_cannot_be_deactivated_or_demoted(owner_client, shop, owner):
    other = make_staff(shop, "co-owner@example.test", "owner")
    owner_client.post(f"/dashboard/staff/{other.pk}/deactivate/")  # fine: one owner remains
    response = owner_client.post(f"/dashboard/staff/{owner.pk}/deactivate/", follow=True)
    assert "cannot deactivate yourself" in response.content.decode()
    with in_schema(shop):
        assert User.objects.get(pk=owner.pk).is_active


def test_customers_and_anonymous_users_cannot_open_the_dashboard(shop):
    with in_schema(shop):
        customer = User.objects.create_user("buyer@example.test", PASSWORD)
    assert Client(HTTP_HOST=host_of(shop)).get("/dashboard/").status_code == 302
    client = login(Client(HTTP_HOST=host_of(shop)), shop, customer)
    assert client.get("/dashboard/").status_code == 403


def test_dashboard_shell_has_navigation_csrf_for_htmx_and_checklist(owner_client):
    html = owner_client.get("/dashboard/").content.decode()
    assert 'hx-headers=\'{"X-CSRFToken": "' in html
    assert "/static/django_htmx/htmx-2.min.js" in html
    assert 'aria-live="polite"' in html
    assert "Get your shop ready" in html
    assert 'href="/dashboard/staff/"' in html


def test_storefront_shell_shows_the_shop_name_and_empty_catalog(shop_client):
    html = shop_client.get("/").content.decode()
    assert "Alpha Shop" in html
    assert "catalog is on its way" in html


def test_shop_settings_save_legal_identity(owner_client, shop):
    response = owner_client.post("/dashboard/settings/", {
        "name": "Alpha Shop", "locale": "fr", "legal_name": "Alpha SAS", "legal_form": "SAS",
        "siren": "123456789", "siret": "12345678900012", "vat_number": "FR12123456789",
        "city": "Lyon",
    })
    assert response.status_code == 302
    saved = Shop.objects.get(pk=shop.pk)
    assert (saved.legal_name, saved.siren, saved.locale) == ("Alpha SAS", "123456789", "fr")


def test_shop_settings_reject_a_siret_of_another_company(owner_client, shop):
    response = owner_client.post("/dashboard/settings/", {
        "name": "Alpha Shop", "locale": "en", "siren": "123456789", "siret": "99999999900012",
    })
    assert response.status_code == 422
    assert "starts with the company" in response.content.decode()
    assert Shop.objects.get(pk=shop.pk).siren == ""


def test_shop_bank_details_are_checked_before_they_are_printed(owner_client, shop):
    base = {"name": "Alpha Shop", "locale": "en"}
    refused = owner_client.post("/dashboard/settings/", {
        **base, "iban": "FR76 3000 6000 0112 3456 7890 188", "bic": "BNPAFRPP"})
    assert refused.status_code == 422 and "IBAN is not valid" in refused.content.decode()
    assert Shop.objects.get(pk=shop.pk).iban == ""
    saved = owner_client.post("/dashboard/settings/", {
        **base, "iban": "fr76 3000 6000 0112 3456 7890 189", "bic": "bnpafrppxxx"})
    assert saved.status_code == 302
    shop = Shop.objects.get(pk=shop.pk)
    assert (shop.iban, shop.bic) == ("FR7630006000011234567890189", "BNPAFRPPXXX")


def test_password_change_and_reset_by_email(owner_client, shop, owner):
    response = owner_client.post("/accounts/password/change/", {
        "old_password": PASSWORD, "new_password1": "another-long-pass-77",
        "new_password2": "another-long-pass-77"})
    assert response.status_code == 302

    anonymous = Client(HTTP_HOST=host_of(shop))
    anonymous.post("/accounts/password/reset/", {"email": owner.email})
    assert mail.outbox[-1].to == [owner.email]
    assert f"http://{host_of(shop)}/accounts/password/reset/" in mail.outbox[-1].body


def test_logout_ends_the_session(owner_client):
    owner_client.post("/accounts/logout/")
    assert owner_client.get("/dashboard/").status_code == 302


@pytest.mark.parametrize(("cookie", "expected"), [(None, "fr"), ("en", "en")])
def test_shop_locale_is_the_default_language(shop_client, shop, cookie, expected):
    Shop.objects.filter(pk=shop.pk).update(locale="fr")
    if cookie:
        shop_client.cookies["django_language"] = cookie
    html = shop_client.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en").content.decode()
    assert f'<html lang="{expected}">' in html

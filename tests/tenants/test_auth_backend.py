"""The request's user, permissions and role come from one query (StaffBackend.get_user), and
nothing of it outlives the request: what an owner changes takes effect on the next request."""

from __future__ import annotations

import pytest
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.test import Client

from tenants.accounts.backends import StaffBackend
from tenants.accounts.models import User
from tenants.accounts.services import staff_deactivate, staff_set_role
from tests.conftest import host_of, in_schema, login, owner_of
from tests.tenants.test_staff import make_staff

pytestmark = pytest.mark.django_db


def test_user_permissions_and_role_cost_one_query(shop, django_assert_num_queries):
    clerk = make_staff(shop, "clerk@example.test", "sales")
    with in_schema(shop):
        User.objects.exists()  # the schema's search_path, set by the first query
        with django_assert_num_queries(1):
            user = StaffBackend().get_user(clerk.pk)
            assert user.has_perm("catalog.view_baseproduct")
            assert not user.has_perm("accounts.manage_staff")
            assert (user.role, user.role_label) == ("sales", "Sales")


def test_permissions_are_djangos_own_and_group_ones(shop):
    clerk = make_staff(shop, "clerk@example.test", "warehouse")
    with in_schema(shop):
        clerk.user_permissions.add(Permission.objects.get(codename="manage_shop_settings"))
        expected = ModelBackend().get_all_permissions(User.objects.get(pk=clerk.pk))
        user = StaffBackend().get_user(clerk.pk)
        assert user.get_all_permissions() == expected
        assert "accounts.manage_shop_settings" in expected
        assert StaffBackend().get_all_permissions(User.objects.get(pk=clerk.pk)) == expected


def test_unknown_or_inactive_users_are_no_one(shop):
    clerk = make_staff(shop, "clerk@example.test", "sales")
    with in_schema(shop):
        User.objects.filter(pk=clerk.pk).update(is_active=False)
        assert StaffBackend().get_user(clerk.pk) is None
        assert StaffBackend().get_user(clerk.pk + 1000) is None


def test_a_superuser_has_every_permission(shop):
    with in_schema(shop):
        root = User.objects.create_user("root@example.test", "x" * 12, is_staff=True,
                                        is_superuser=True)
        user = StaffBackend().get_user(root.pk)
        assert user.role is None
        assert user.has_perm("accounts.manage_staff")
        assert StaffBackend().get_all_permissions(user) == {
            f"{p.content_type.app_label}.{p.codename}"
            for p in Permission.objects.select_related("content_type")}


def test_a_deactivated_member_is_refused_on_the_next_request(shop):
    clerk = make_staff(shop, "clerk@example.test", "sales")
    client = login(Client(HTTP_HOST=host_of(shop)), shop, clerk)
    assert client.get("/dashboard/catalog/").status_code == 200
    with in_schema(shop):
        staff_deactivate(user=User.objects.get(pk=clerk.pk), by=owner_of(shop))
    response = client.get("/dashboard/catalog/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_a_revoked_permission_takes_effect_on_the_next_request(shop):
    clerk = make_staff(shop, "clerk@example.test", "sales")
    client = login(Client(HTTP_HOST=host_of(shop)), shop, clerk)
    assert client.get("/dashboard/catalog/").status_code == 200
    with in_schema(shop):
        Group.objects.get(name="sales").permissions.remove(
            Permission.objects.get(codename="view_baseproduct"))
    assert client.get("/dashboard/catalog/").status_code == 403


def test_the_user_menu_shows_the_role_of_the_moment(shop):
    clerk = make_staff(shop, "clerk@example.test", "sales")
    client = login(Client(HTTP_HOST=host_of(shop)), shop, clerk)
    assert "clerk@example.test · Sales" in client.get("/dashboard/").content.decode()
    with in_schema(shop):
        staff_set_role(user=User.objects.get(pk=clerk.pk), role="warehouse", by=owner_of(shop))
    assert "clerk@example.test · Warehouse" in client.get("/dashboard/").content.decode()

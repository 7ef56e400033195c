"""The platform's Django admin (public host): platform admins are deactivated, never deleted
(a delete would collect rows in shop-only tables that the public schema does not have)."""

from __future__ import annotations

import pytest

from tenants.accounts.models import User
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_a_platform_admin_cannot_be_deleted_only_deactivated(platform_client, _platform):
    root = User.objects.create_superuser("super@platform.test", PASSWORD)
    former = User.objects.create_user("former@platform.test", PASSWORD, is_staff=True)
    platform_client.force_login(root)

    assert platform_client.get(f"/admin/accounts/user/{former.pk}/delete/").status_code == 403
    assert platform_client.post(f"/admin/accounts/user/{former.pk}/delete/",
                                {"post": "yes"}).status_code == 403
    listing = platform_client.get("/admin/accounts/user/")
    assert listing.status_code == 200 and "delete_selected" not in listing.content.decode()
    assert User.objects.filter(pk=former.pk).exists()

    response = platform_client.post(f"/admin/accounts/user/{former.pk}/change/", {
        "email": former.email, "full_name": "", "is_staff": "on", "last_login_0": "",
        "last_login_1": "", "date_joined_0": "2026-01-01", "date_joined_1": "10:00:00"})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert User.objects.get(pk=former.pk).is_active is False

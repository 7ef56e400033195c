"""Production settings: refuse to start without secrets, and `check --deploy` is clean."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django_tenants.utils import schema_context

from tenants.accounts.models import User
from tenants.services import shop_open

ROOT = Path(__file__).resolve().parents[2]
PROD_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": "x7!prod-like-secret-key-with-enough-entropy-0123456789-abcdefghij",
    "BASE_DOMAIN": "shops.example",
    "EMAIL_URL": "smtp://mail.example:587",
}


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items()
            if k not in {"DEBUG", "SECRET_KEY", "BASE_DOMAIN", "DATABASE_URL", "ALLOWED_HOSTS",
                         "DJANGO_ALLOW_ASYNC_UNSAFE"}}
    base["DATABASE_URL"] = settings.DATABASE_URL  # the test database server
    base.update(env)
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=base,
                          capture_output=True, text=True, timeout=120)


def test_check_deploy_is_clean_in_production_settings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=PROD_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize("missing", ["SECRET_KEY", "BASE_DOMAIN"])
def test_production_refuses_to_start_without(missing):
    env = {k: v for k, v in PROD_ENV.items() if k != missing}
    result = manage("check", env=env)
    assert result.returncode != 0
    assert f"{missing} must be set" in result.stderr


@pytest.mark.django_db
def test_owner_passwords_are_hashed_with_argon2(settings, pooled_shop):
    # Tests put a fast hasher first (tests/conftest.py); put back the production list.
    settings.PASSWORD_HASHERS = settings.PASSWORD_HASHERS[1:]
    opened = shop_open(name="Argon", subdomain="argon", owner_email="a@example.test",
                       owner_password="a-long-test-password-42")
    with schema_context(opened.shop.schema_name):
        assert User.objects.get(pk=opened.owner_id).password.startswith("argon2$argon2id$")

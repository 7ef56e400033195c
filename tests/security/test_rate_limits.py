"""Sign-in, sign-up and password reset are rate limited per email and per client address
(tenants/accounts/throttling.py): beyond the limit the page comes back with the reason and
HTTP 429, and nothing else happens. A locked-out email is refused from any address, whether or
not an account has it, and the answer is the same either way. Counters are per shop."""

from __future__ import annotations

import time

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client, RequestFactory

import config.settings as settings_module
from sales.models import Customer
from tenants.accounts import throttling
from tenants.models import Shop
from tests.conftest import PASSWORD, host_of, in_schema
from tests.sales.factories import registered

pytestmark = pytest.mark.django_db
WRONG = "not-the-password-00"
LOCKED = "Too many failed sign-in attempts"
ELSEWHERE = "203.0.113.9"  # another client address


@pytest.fixture(autouse=True)
def small_limits(settings):
    settings.AUTH_RATE_LIMITS = {
        "login_email": (3, 900), "login_ip": (6, 900),
        "signup_email": (2, 3600), "signup_ip": (3, 3600),
        "reset_email": (2, 3600), "reset_ip": (4, 3600),
    }


def later(monkeypatch, seconds: int) -> None:
    """The clock (and so the cache's expiry) moves on."""
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now + seconds)


def sign_in(client: Client, path: str, email: str, password: str, **extra):
    return client.post(path, {"username": email, "password": password}, **extra)


def is_signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


# ---------------------------------------------------------------------------------------------
# Staff sign-in on a shop
# ---------------------------------------------------------------------------------------------
def test_staff_email_locked_after_failures_even_with_the_right_password_from_elsewhere(shop, owner):
    client = Client(HTTP_HOST=host_of(shop))
    for _ in range(3):
        response = sign_in(client, "/accounts/login/", owner.email, WRONG)
        assert response.status_code == 200 and LOCKED not in response.content.decode()
    other = Client(HTTP_HOST=host_of(shop), REMOTE_ADDR=ELSEWHERE)
    refused = sign_in(other, "/accounts/login/", owner.email, PASSWORD)
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 800
    html = refused.content.decode()
    assert LOCKED in html and "15 minutes" in html
    assert f'value="{owner.email}"' in html, "the form keeps what was typed"
    assert not is_signed_in(other)


def test_a_lockout_reads_the_same_whether_or_not_the_account_exists(shop, owner):
    answers = []
    for email in (owner.email, "nobody-here@example.test"):
        client = Client(HTTP_HOST=host_of(shop))
        for _ in range(3):
            assert sign_in(client, "/accounts/login/", email, WRONG).status_code == 200
        answers.append(sign_in(client, "/accounts/login/", email, WRONG, REMOTE_ADDR=ELSEWHERE))
    real, unknown = answers
    assert real.status_code == unknown.status_code == 429
    assert real["Retry-After"] == unknown["Retry-After"]
    assert real.context["form"].non_field_errors() == unknown.context["form"].non_field_errors()


def test_after_the_cool_down_the_right_password_works(shop, owner, monkeypatch):
    client = Client(HTTP_HOST=host_of(shop))
    for _ in range(3):
        sign_in(client, "/accounts/login/", owner.email, WRONG)
    assert sign_in(client, "/accounts/login/", owner.email, PASSWORD).status_code == 429
    later(monkeypatch, 901)
    assert sign_in(client, "/accounts/login/", owner.email, PASSWORD).status_code == 302
    assert is_signed_in(client)


def test_a_successful_sign_in_forgets_the_emails_failures(shop, owner):
    client = Client(HTTP_HOST=host_of(shop))
    for _ in range(2):
        sign_in(client, "/accounts/login/", owner.email, WRONG)
    assert sign_in(client, "/accounts/login/", owner.email, PASSWORD).status_code == 302
    client.logout()
    for _ in range(2):
        assert sign_in(client, "/accounts/login/", owner.email, WRONG).status_code == 200
    assert sign_in(client, "/accounts/login/", owner.email, PASSWORD).status_code == 302


def test_one_address_failing_on_many_emails_is_paused(shop, owner):
    client = Client(HTTP_HOST=host_of(shop))
    for number in range(6):
        assert sign_in(client, "/accounts/login/", f"guess{number}@example.test",
                       WRONG).status_code == 200
    assert sign_in(client, "/accounts/login/", owner.email, PASSWORD).status_code == 429
    elsewhere = Client(HTTP_HOST=host_of(shop), REMOTE_ADDR=ELSEWHERE)
    assert sign_in(elsewhere, "/accounts/login/", owner.email, PASSWORD).status_code == 302


def test_behind_a_proxy_each_client_counts_for_itself_and_spoofing_does_not_help(shop, settings):
    def fail_from(forwarded: str):
        client = Client(HTTP_HOST=host_of(shop), REMOTE_ADDR="10.0.0.1",
                        HTTP_X_FORWARDED_FOR=forwarded)
        return sign_in(client, "/accounts/login/", f"g{time.monotonic_ns()}@example.test", WRONG)

    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    for _ in range(6):
        fail_from("198.51.100.1")  # one client, behind the proxy at 10.0.0.1
    assert fail_from("198.51.100.1").status_code == 429
    # Another client of the same proxy is not paused; a client writing its own header is
    # still counted as the address the proxy saw (the rightmost).
    assert fail_from("198.51.100.2").status_code == 200
    assert fail_from("1.2.3.4, 198.51.100.1").status_code == 429

    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 0}
    assert fail_from("198.51.100.1").status_code == 200, "no proxy: the header means nothing"


def test_counts_are_per_shop(shop, other_shop, owner):
    client = Client(HTTP_HOST=host_of(shop))
    for _ in range(3):
        sign_in(client, "/accounts/login/", "same@example.test", WRONG)
    assert sign_in(client, "/accounts/login/", "same@example.test", WRONG).status_code == 429
    beta = Client(HTTP_HOST=host_of(other_shop))
    assert sign_in(beta, "/accounts/login/", "same@example.test", WRONG).status_code == 200


# ---------------------------------------------------------------------------------------------
# Platform console and storefront customers
# ---------------------------------------------------------------------------------------------
def test_console_sign_in_is_limited(platform_admin):
    client = Client(HTTP_HOST=settings.BASE_DOMAIN)
    for _ in range(3):
        assert sign_in(client, "/console/login/", platform_admin.email, WRONG).status_code == 200
    refused = sign_in(client, "/console/login/", platform_admin.email, PASSWORD,
                      REMOTE_ADDR=ELSEWHERE)
    assert refused.status_code == 429 and LOCKED in refused.content.decode()
    assert not is_signed_in(client)


def test_customer_sign_in_is_limited(shop):
    with in_schema(shop):
        customer = registered("lock.me@example.test")
    client = Client(HTTP_HOST=host_of(shop))
    for _ in range(3):
        assert sign_in(client, "/account/login/", customer.email, WRONG).status_code == 200
    refused = sign_in(client, "/account/login/", customer.email, PASSWORD, REMOTE_ADDR=ELSEWHERE)
    assert refused.status_code == 429 and LOCKED in refused.content.decode()
    assert not is_signed_in(client)


# ---------------------------------------------------------------------------------------------
# Sign-up
# ---------------------------------------------------------------------------------------------
def signup_form(number: int) -> dict[str, str]:
    return {"email": f"new{number}@example.test", "first_name": "Ada", "last_name": "Byron",
            "phone": "", "password1": PASSWORD, "password2": PASSWORD}


def test_customer_sign_ups_per_address(shop):
    for number in range(3):
        client = Client(HTTP_HOST=host_of(shop))
        assert client.post("/account/signup/", signup_form(number)).status_code == 302
    client = Client(HTTP_HOST=host_of(shop))
    refused = client.post("/account/signup/", signup_form(9))
    assert refused.status_code == 429 and "Too many sign-ups" in refused.content.decode()
    assert 'value="new9@example.test"' in refused.content.decode()
    with in_schema(shop):
        assert not Customer.objects.filter(email="new9@example.test").exists()
    elsewhere = Client(HTTP_HOST=host_of(shop), REMOTE_ADDR=ELSEWHERE)
    assert elsewhere.post("/account/signup/", signup_form(9)).status_code == 302


def test_platform_sign_ups_per_address_refused_before_any_shop_is_made(db):
    # This address already signed up as often as allowed this hour.
    request = RequestFactory().post("/signup/", REMOTE_ADDR="127.0.0.1")
    for number in range(3):
        assert throttling.attempt(request, action="signup", email=f"o{number}@x.test") is None
    shops = Shop.objects.count()
    client = Client(HTTP_HOST=settings.BASE_DOMAIN)
    refused = client.post("/signup/", {"name": "Too Many", "subdomain": "too-many",
                                       "email": "owner@too-many.test", "password": PASSWORD,
                                       "plan": ""})
    assert refused.status_code == 429 and "Too many sign-ups" in refused.content.decode()
    assert int(refused["Retry-After"]) > 3500
    assert 'value="too-many"' in refused.content.decode()
    assert Shop.objects.count() == shops


# ---------------------------------------------------------------------------------------------
# Password reset requests
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/accounts/password/reset/", "/account/password/reset/"])
def test_reset_requests_per_email_then_refused_from_anywhere(shop, owner, path):
    with in_schema(shop):
        email = registered("forgetful@example.test").email if path.startswith("/account/") \
            else owner.email
    client = Client(HTTP_HOST=host_of(shop))
    for _ in range(2):
        assert client.post(path, {"email": email}).status_code == 302
    assert len(mail.outbox) == 2
    elsewhere = Client(HTTP_HOST=host_of(shop), REMOTE_ADDR=ELSEWHERE)
    refused = elsewhere.post(path, {"email": email})
    assert refused.status_code == 429
    assert "Too many password reset requests" in refused.content.decode()
    assert len(mail.outbox) == 2, "no more email"


def test_reset_requests_for_an_unknown_email_are_limited_alike(shop):
    client = Client(HTTP_HOST=host_of(shop))
    for _ in range(2):
        assert client.post("/accounts/password/reset/",
                           {"email": "ghost@example.test"}).status_code == 302
    assert client.post("/accounts/password/reset/",
                       {"email": "ghost@example.test"}).status_code == 429
    assert mail.outbox == []


# ---------------------------------------------------------------------------------------------
# Settings
# ---------------------------------------------------------------------------------------------
def test_limits_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("RATE_LOGIN_EMAIL", "7/2m")
    assert settings_module.env_limit("RATE_LOGIN_EMAIL", "5/15m") == (7, 120)
    monkeypatch.delenv("RATE_LOGIN_EMAIL")
    assert settings_module.env_limit("RATE_LOGIN_EMAIL", "5/15m") == (5, 900)
    for bad in ("7", "0/1h", "7/h", "7/3d", "x/1h"):
        monkeypatch.setenv("RATE_LOGIN_EMAIL", bad)
        with pytest.raises(settings_module.ImproperlyConfigured, match="RATE_LOGIN_EMAIL"):
            settings_module.env_limit("RATE_LOGIN_EMAIL", "5/15m")

"""The foundation journey: a merchant opens a shop on the platform, lands signed in on its
dashboard on the shop's own host, signs out and signs in again."""

from __future__ import annotations

import re
import secrets

from playwright.sync_api import expect

from tenants.models import Domain, Shop, ShopStatus

PASSWORD = "violet-harbour-lantern-73"


def unique_subdomain() -> str:
    return f"e2e-{secrets.token_hex(4)}"


def fill_signup(page, *, name: str, subdomain: str, email: str, password: str) -> None:
    page.get_by_label("Shop name").fill(name)
    page.get_by_label("Shop address").fill(subdomain)
    page.get_by_label("Your email").fill(email)
    page.get_by_label("Password").fill(password)


def sign_up_with_browser(page, server, *, subdomain: str, shop_name: str, email: str) -> None:
    page.goto(server.platform_url + "/signup/")
    fill_signup(page, name=shop_name, subdomain=subdomain, email=email, password=PASSWORD)
    page.get_by_role("button", name="Create my shop").click()
    page.wait_for_url(f"{server.shop_url(subdomain)}/dashboard/")


def assert_on_dashboard(page, server, *, subdomain: str, shop_name: str) -> None:
    expect(page).to_have_url(f"{server.shop_url(subdomain)}/dashboard/")
    expect(page.locator("nav.sidenav .brand")).to_have_text(shop_name)
    expect(page).to_have_title(re.compile(re.escape(shop_name)))
    expect(page.get_by_role("heading", name="Get your shop ready")).to_be_visible()
    # A new shop: only "Open your shop" is done; the catalog adds its own first step.
    expect(page.locator("ol.checklist li")).to_have_count(4)
    expect(page.locator("ol.checklist li.done")).to_have_count(1)
    expect(page.get_by_role("link", name="Add your first product")).to_be_visible()


def test_merchant_opens_a_shop_signs_out_and_back_in(e2e_server, browser_page, shot):
    page = browser_page
    subdomain = unique_subdomain()
    shop_name = f"Atelier {subdomain[4:].upper()}"
    email = f"founder@{subdomain}.test"

    # The platform home sends the merchant to the signup form.
    page.goto(e2e_server.platform_url + "/")
    shot(page, "01-platform-home")
    page.locator("main").get_by_role("link", name="Open your shop").click()
    expect(page).to_have_url(e2e_server.platform_url + "/signup/")
    expect(page.get_by_role("heading", name="Open your shop", level=1)).to_be_visible()

    # The address check (HTMX, on blur): a reserved name, then a free one.
    status = page.locator("#subdomain-status")
    address = page.get_by_label("Shop address")
    address.fill("admin")
    address.blur()
    expect(status).to_contain_text("reserved")
    expect(status.locator(".status-bad")).to_be_visible()
    shot(page, "02-signup-reserved-address")
    address.fill(subdomain)
    address.blur()
    expect(status).to_contain_text(f"{subdomain}.localhost is available")
    expect(status.locator(".status-good")).to_be_visible()

    fill_signup(page, name=shop_name, subdomain=subdomain, email=email, password=PASSWORD)
    shot(page, "03-signup-filled")
    page.get_by_role("button", name="Create my shop").click()

    # Lands signed in on the new shop's own host (the hand-off link is consumed on the way).
    page.wait_for_url(f"{e2e_server.shop_url(subdomain)}/dashboard/")
    assert_on_dashboard(page, e2e_server, subdomain=subdomain, shop_name=shop_name)
    expect(page.get_by_text("Welcome to your shop!")).to_be_visible()
    shot(page, "04-dashboard-after-signup")

    shop = Shop.objects.get(domains__domain=f"{subdomain}.localhost")
    assert shop.name == shop_name
    assert shop.status == ShopStatus.ACTIVE
    assert shop.owner_email == email

    # The welcome message is shown once.
    page.reload()
    assert_on_dashboard(page, e2e_server, subdomain=subdomain, shop_name=shop_name)
    expect(page.get_by_text("Welcome to your shop!")).to_have_count(0)

    # Sign out from the user menu.
    menu = page.locator("details.user-menu")
    menu.locator("summary").click()
    expect(menu).to_have_attribute("open", "")
    expect(menu).to_contain_text(email)
    shot(page, "05-user-menu-open")
    menu.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{e2e_server.shop_url(subdomain)}/")
    expect(page.locator("details.user-menu")).to_have_count(0)

    # Signed out: the dashboard asks for a sign-in again.
    page.goto(f"{e2e_server.shop_url(subdomain)}/dashboard/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/dashboard/$"))
    expect(page.get_by_role("heading", name=f"Sign in to {shop_name}")).to_be_visible()

    # A wrong password is refused, the right one lets the owner back in.
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD + "-nope")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("Wrong email or password.")).to_be_visible()
    shot(page, "06-login-wrong-password")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{e2e_server.shop_url(subdomain)}/dashboard/")
    assert_on_dashboard(page, e2e_server, subdomain=subdomain, shop_name=shop_name)
    shot(page, "07-dashboard-after-sign-in")

    # The session is the shop's own: the platform host does not know this user.
    page.goto(e2e_server.platform_url + "/")
    expect(page.locator("details.user-menu")).to_have_count(0)

    assert page.js_errors == []


def test_signup_without_javascript_lands_on_the_dashboard(e2e_server, open_page, shot):
    page = open_page(java_script_enabled=False)
    subdomain = unique_subdomain()
    shop_name = f"Plain {subdomain[4:].upper()}"
    email = f"plain@{subdomain}.test"

    page.goto(e2e_server.platform_url + "/signup/")
    # A reserved address is refused by the server (422, the form comes back with the error).
    fill_signup(page, name=shop_name, subdomain="admin", email=email, password=PASSWORD)
    with page.expect_navigation() as refused:
        page.get_by_role("button", name="Create my shop").click()
    assert refused.value.status == 422
    expect(page.locator("#id_subdomain_error")).to_contain_text("reserved")
    expect(page.get_by_label("Shop name")).to_have_value(shop_name)
    shot(page, "01-signup-refused")
    assert not Domain.objects.filter(domain="admin.localhost").exists()

    page.get_by_label("Shop address").fill(subdomain)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create my shop").click()
    page.wait_for_url(f"{e2e_server.shop_url(subdomain)}/dashboard/")
    assert_on_dashboard(page, e2e_server, subdomain=subdomain, shop_name=shop_name)
    shot(page, "02-dashboard")


def test_welcome_toast_leaves_the_user_menu_usable(e2e_server, browser_page, shot):
    page = browser_page
    subdomain = unique_subdomain()
    sign_up_with_browser(page, e2e_server, subdomain=subdomain, shop_name="Toast Shop",
                         email=f"toast@{subdomain}.test")
    expect(page.get_by_text("Welcome to your shop!")).to_be_visible()
    shot(page, "01-dashboard-with-toast")
    page.locator("details.user-menu summary").click(timeout=2_000)
    expect(page.locator("details.user-menu")).to_have_attribute("open", "")


def test_signup_help_texts_are_announced_with_their_fields(e2e_server, browser_page):
    page = browser_page
    page.goto(e2e_server.platform_url + "/signup/")
    expect(page.get_by_label("Shop address")).to_have_accessible_description(
        re.compile(r"^3 to 40 characters")
    )
    expect(page.get_by_label("Your email")).to_have_accessible_description(
        "You will sign in with it.", timeout=1_000
    )

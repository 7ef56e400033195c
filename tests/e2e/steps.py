"""Steps the browser journeys share: finding fields by their accessible names, signing in,
registering a customer, accepting a quote online. Each journey keeps its own data and
assertions; these are only the clicks that read the same everywhere."""

from __future__ import annotations

import re

from playwright.sync_api import expect

ORDER_NUMBER = re.compile(r"C-\d{4}-\d{5}")


def textbox(scope, name: str):
    # Required fields' labels end with an aria-hidden "*": the accessible name is the bare label.
    return scope.get_by_role("textbox", name=name, exact=True)


def number(scope, name: str):
    return scope.get_by_role("spinbutton", name=name, exact=True)


def sign_in_staff(page, shop_url: str, email: str, password: str) -> None:
    page.goto(shop_url + "/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(shop_url + "/dashboard/")


def register_customer_form(page, shop_url: str, customer: dict, password: str) -> None:
    """Fill and send the storefront's sign-up form (open on `page`); lands in the account."""
    textbox(page, "Email").fill(customer["email"])
    textbox(page, "First name").fill(customer["first_name"])
    textbox(page, "Last name").fill(customer["last_name"])
    # Label texts end with an aria-hidden "*" (required): match the words, not the star.
    page.get_by_label(re.compile(r"^Password\W*$")).fill(password)
    page.get_by_label(re.compile(r"^Password again\W*$")).fill(password)
    page.get_by_role("button", name="Create my account").click()
    expect(page).to_have_url(shop_url + "/account/")
    expect(page.locator("#messages")).to_contain_text("Welcome! Your account is ready.")


def accept_quote_online(page, reference: str, *, name: str = "Marie Curie") -> str:
    """On the quote's public page: sign, accept the terms, accept. Returns the number of the
    order it became."""
    textbox(page, "Your full name, as your signature").fill(name)
    page.get_by_role(
        "checkbox", name="I have read the quote and its terms, and I accept them.").check()
    page.get_by_role("button", name="Accept and sign").click()
    expect(page.get_by_role("heading", name="Thank you, the quote is accepted!")).to_be_visible()
    lead = page.locator(".notice-page .lead")
    expect(lead).to_contain_text(re.compile(rf"Quote {reference} is now order C-\d{{4}}-\d{{5}}"))
    return ORDER_NUMBER.search(lead.text_content()).group(0)

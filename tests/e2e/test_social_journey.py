"""Follows, comments and the inbox in a browser: a manager follows a customer (the box swaps
in place, the level changes on select); a salesperson asks them a question with an @mention,
edits it (history kept) — without reloading the page; the manager's badge counts it, the
inbox opens it and marks it read; deleting leaves a tombstone under which the reply stays."""

from __future__ import annotations

import re
import secrets

from django.contrib.auth.models import Group
from playwright.sync_api import expect

from sales.services.customers import customer_create
from tenants.accounts.models import User
from tenants.services import shop_open
from tests.conftest import in_schema
from tests.e2e.steps import sign_in_staff

PASSWORD = "quiet-harbour-lantern-27"


def sign_in(page, shop_url: str, email: str) -> None:
    sign_in_staff(page, shop_url, email, PASSWORD)


def test_follow_mention_inbox_and_tombstone(e2e_server, open_page, shot):
    subdomain = f"e2e-social-{secrets.token_hex(3)}"
    shop = shop_open(name="Social shop", subdomain=subdomain, owner_email=f"owner@{subdomain}.test",
                     owner_password=PASSWORD, locale="en").shop
    with in_schema(shop):
        marie = customer_create(data={"kind": "person", "first_name": "Marie",
                                      "last_name": "Curie", "email": "marie@example.test"},
                                by=None)
        for email, name, role in (("sam.seller@staff.test", "Sam Seller", "sales"),
                                  ("max.manager@staff.test", "Max Manager", "manager")):
            user = User.objects.create_user(email, PASSWORD, is_staff=True, full_name=name)
            user.groups.add(Group.objects.get(name=role))
    shop_url = e2e_server.shop_url(subdomain)
    customer_page = f"{shop_url}/dashboard/sales/customers/{marie.pk}/"

    def settled(page) -> None:
        expect(page.locator(".htmx-request, .htmx-settling, .htmx-added")).to_have_count(0)

    # The manager follows the customer: the box swaps in place; the level changes on select.
    manager = open_page()
    sign_in(manager, shop_url, "max.manager@staff.test")
    manager.goto(customer_page)
    manager.get_by_role("button", name="Follow", exact=True).click()
    level = manager.get_by_label("Following")
    expect(level).to_have_value("all")
    settled(manager)  # htmx wires the swapped box up as it settles; a change before is lost
    level.select_option("important")
    expect(manager.locator("#messages")).to_contain_text("important changes only")
    settled(manager)
    level.select_option("all")
    expect(manager.locator("#messages")).to_contain_text("you will hear about everything")

    # The salesperson asks a question with a mention, then corrects it: no page reload.
    seller = open_page()
    sign_in(seller, shop_url, "sam.seller@staff.test")
    seller.goto(customer_page)
    seller.evaluate("window.samePage = true")
    seller.get_by_label("Add a comment").fill("@max.manager can you call her <today>?")
    seller.get_by_role("button", name="Post comment").click()
    comments = seller.locator("section.comments")
    expect(comments.locator(".mention")).to_have_text("@max.manager")
    expect(seller.get_by_label("Following")).to_have_value("all")  # commenting follows
    expect(comments).to_contain_text("can you call her <today>?")
    comments.get_by_text("Edit", exact=True).click()
    comments.get_by_label("Your comment").fill("@max.manager can you call her tomorrow?")
    comments.get_by_role("button", name="Save comment").click()
    expect(comments).to_contain_text("can you call her tomorrow?")
    comments.get_by_text("edited", exact=True).click()
    expect(comments.locator(".comment-history")).to_contain_text("can you call her <today>?")
    assert seller.evaluate("window.samePage") is True
    shot(seller, "comment")

    # The manager's badge counts it (the polled partial), the inbox opens it and marks it read.
    manager.evaluate("htmx.ajax('GET', '/dashboard/activity/inbox/badge/', "
                     "{target: '#inbox-badge', swap: 'outerHTML'})")
    badge = manager.locator("#inbox-badge")
    expect(badge.locator(".count")).to_have_text("1")
    badge.click()
    item = manager.locator("li.inbox-item.unread")
    expect(item).to_contain_text("New comment")
    expect(item).to_contain_text("You were mentioned")
    shot(manager, "inbox")
    item.get_by_role("link").click()
    expect(manager).to_have_url(customer_page)
    expect(manager.locator("#inbox-badge .count")).to_have_count(0)

    # The manager replies; the salesperson deletes the question: its replies stay.
    manager.get_by_text("Reply", exact=True).click()
    manager.get_by_label(re.compile("^Reply to")).fill("Done, she is fine with Tuesday.")
    manager.get_by_role("button", name="Post reply").click()
    expect(manager.locator(".comment-replies")).to_contain_text("she is fine with Tuesday")
    seller.reload()
    question = seller.locator("section.comments article.comment").first
    question.get_by_text("Delete", exact=True).click()
    question.get_by_role("button", name="Delete comment").click()
    comments = seller.locator("section.comments")
    expect(comments).to_contain_text("This comment was deleted.")
    expect(comments).to_contain_text("she is fine with Tuesday")
    expect(comments).not_to_contain_text("call her")
    # The history on the same page follows without a reload: the excerpt is gone there too.
    expect(seller.locator(".streams-timeline")).not_to_contain_text("call her")
    shot(seller, "tombstone")
    assert not seller.js_errors and not manager.js_errors

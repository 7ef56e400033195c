"""The dashboard's side navigation, prepared in Python.

Every dashboard page draws it, so it is on every page's bill: as template tags it cost a
`reverse()` per link, a permission lookup per `perms.x.y` and a dozen `{% if %}`s (about a
millisecond, a sixth of the order list). Here the links are reversed once per URLconf and
script prefix, the permissions read once from the user's set, and the template only loops."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django import template
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

register = template.Library()


@dataclass(frozen=True)
class NavLink:
    url_name: str
    label: Promise
    perm: str | None  # None: every staff member sees it
    current: Callable[[str, str], bool]  # (app name, URL name) of the page -> this section


NAV = (
    NavLink("dashboard:home", _("Home"), None, lambda app, name: name == "home"),
    NavLink("sales_dashboard:order_list", _("Orders"), "sales.view_order",
            lambda app, name: app == "sales_dashboard" and "order" in name),
    NavLink("sales_dashboard:quote_list", _("Quotes"), "sales.view_quote",
            lambda app, name: app == "sales_dashboard" and "quote" in name),
    NavLink("sales_dashboard:customer_list", _("Customers"), "sales.view_customer",
            lambda app, name: app == "sales_dashboard" and ("customer" in name or "address" in name)),
    NavLink("billing_dashboard:invoice_list", _("Invoices"), "billing.view_invoice",
            lambda app, name: app == "billing_dashboard"),
    NavLink("catalog_dashboard:product_list", _("Catalog"), "catalog.view_baseproduct",
            lambda app, name: app == "catalog_dashboard"),
    NavLink("streams:feed", _("Activity"), None, lambda app, name: app == "streams" and name == "feed"),
    NavLink("streams:my_work", _("My work"), None,
            lambda app, name: app == "streams" and name == "my_work"),
    NavLink("dashboard:staff", _("Staff"), "accounts.view_staff", lambda app, name: name == "staff"),
    NavLink("dashboard:api_tokens", _("API tokens"), None, lambda app, name: name == "api_tokens"),
    NavLink("dashboard:settings", _("Settings"), "accounts.manage_shop_settings",
            lambda app, name: name == "settings"),
)

_urls: dict[tuple[str | None, str], tuple[str, ...]] = {}


def _reversed() -> tuple[str, ...]:
    key = (get_urlconf(), get_script_prefix())
    urls = _urls.get(key)
    if urls is None:
        urls = _urls[key] = tuple(reverse(link.url_name) for link in NAV)
    return urls


@register.simple_tag(takes_context=True)
def dashboard_nav(context) -> list[dict]:
    """The links this user may follow, in order: url, label and whether it is this page's
    section."""
    request = context["request"]
    match = request.resolver_match
    app, name = (match.app_name, match.url_name or "") if match else ("", "")
    user = request.user
    return [{"url": url, "label": link.label, "current": link.current(app, name)}
            for link, url in zip(NAV, _reversed(), strict=True)
            if link.perm is None or user.has_perm(link.perm)]

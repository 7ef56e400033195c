"""Shared by the sales dashboard pages: formats resolved once per page, list queries, sort
headers and status chips, errors shown next to fields, partial answers with their out-of-band
parts. (Timelines are streams': `{% streams_panel object %}`, labels in sales/events.py.)"""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.db import connection
from django.http import HttpRequest, HttpResponse, QueryDict
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import dateformat, formats, numberformat, timezone
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext as _

from catalog.pricing import currency_symbol
from sales.errors import SalesError
from sales.selectors import customer_get
from tenants.urls_util import shop_url

ZERO = Decimal("0")
PICKER_LIMIT = 10

# ---------------------------------------------------------------------------------------------
# Small helpers: formatting, list links, errors
# ---------------------------------------------------------------------------------------------
def money(amount: Decimal | None, currency: str = "EUR") -> str:
    """An amount as the shop's locale writes it: 1 234,56 € in French."""
    number = formats.number_format(amount or ZERO, 2, use_l10n=True, force_grouping=True)
    return f"{number}\xa0{currency_symbol(currency)}"


def format_day(value) -> str:
    if value is None:
        return ""
    if hasattr(value, "hour"):
        value = timezone.localtime(value)
    return formats.date_format(value, "SHORT_DATE_FORMAT")


class RowFormat:
    """Formatting for list rows, with the locale's formats and the status labels looked up
    once per page: per row, Django's helpers would resolve them again (and
    get_FOO_display() rebuilds its choices on each call), which costs more than the query."""

    def __init__(self, *status_choices):
        self.date_format = formats.get_format("SHORT_DATE_FORMAT")
        self.decimal = formats.get_format("DECIMAL_SEPARATOR")
        self.thousand = formats.get_format("THOUSAND_SEPARATOR")
        self.grouping = formats.get_format("NUMBER_GROUPING")
        self.labels = {value: str(label) for choices in status_choices
                       for value, label in choices}
        self._days: dict = {}

    def money(self, amount: Decimal | None, currency: str = "EUR") -> str:
        number = numberformat.format(amount or ZERO, self.decimal, 2, self.grouping,
                                     self.thousand, force_grouping=True)
        return f"{number}\xa0{currency_symbol(currency)}"

    def day(self, value) -> str:
        if value is None:
            return ""
        if hasattr(value, "hour"):
            value = timezone.localtime(value).date()
        text = self._days.get(value)
        if text is None:  # a page's rows share a few dates
            text = self._days[value] = dateformat.format(value, self.date_format)
        return text


def format_qty(quantity: Decimal) -> str:
    """2.000 -> 2, 1.500 -> 1.5 (1,5 in French)."""
    return formats.number_format(quantity.normalize(), use_l10n=True)


def format_pct(rate: Decimal) -> str:
    """A rate as people write it: 20, 5.5 (5,5 in French)."""
    return format_qty(rate)


def list_query(request: HttpRequest, **changes) -> QueryDict:
    """The list's current query with `changes` applied (None removes a key) and no page."""
    query = request.GET.copy()
    query.pop("page", None)
    for key, value in changes.items():
        if value in (None, ""):
            query.pop(key, None)
        else:
            query[key] = value
    return query


def url_with_query(path: str, query: QueryDict) -> str:
    encoded = query.urlencode()
    return f"{path}?{encoded}" if encoded else path


def sort_headers(request: HttpRequest, path: str, columns: list[tuple], current: str
                  ) -> list[dict]:
    """The table's column headers, in order. A sortable column (a key) links to the list
    sorted by it, or reversed when it already is; the others (key None) are plain labels."""
    headers = []
    for key, label, numeric in columns:
        ascending, descending = current == key, current == f"-{key}"
        headers.append({
            "label": label, "num": numeric,
            "url": url_with_query(path, list_query(request, sort=f"-{key}" if ascending else key))
            if key else "",
            "indicator": "▲" if ascending else "▼" if descending else "",
            "aria_sort": "ascending" if ascending else "descending" if descending else "",
        })
    return headers


def status_chips(request: HttpRequest, path: str, choices, current: str) -> list[dict]:
    return [{"label": label, "current": value == (current or ""),
             "url": url_with_query(path, list_query(request, status=value or None))}
            for value, label in choices]


def form_error(form, exc: SalesError) -> None:
    field = exc.field if exc.field in form.fields else None
    form.add_error(field, exc.message)


def field_error_or_message(request: HttpRequest, form, exc: SalesError) -> None:
    """A field's mistake goes next to the field; anything else (the quote is no longer a
    draft, the line was removed meanwhile) is a message: the form may no longer be shown."""
    if exc.field in form.fields:
        form.add_error(exc.field, exc.message)
    else:
        messages.error(request, exc.message)


def partial_with_oob(request: HttpRequest, template: str, main: str, context: dict,
                      oob: tuple[str, ...] = (), status: int = 200) -> HttpResponse:
    """An HTMX answer: the targeted partial, then copies of other partials that changed,
    swapped out of band (each partial marks its root with hx-swap-oob when `oob` is set)."""
    html = render_to_string(f"{template}#{main}", context, request=request)
    for name in oob:
        html += render_to_string(f"{template}#{name}", {**context, "oob": True},
                                 request=request)
    return HttpResponse(html, status=status)


def shop_base_url(request: HttpRequest) -> str:
    """The shop's own address, for links in customers' emails (same scheme and port)."""
    return shop_url(request, connection.tenant.get_primary_domain().domain, "")


# One reverse() per page instead of one per row (like catalog's product list).
ORDER_URL_PREFIX = SimpleLazyObject(lambda: reverse("sales_dashboard:order_detail", args=[0])[:-2])
QUOTE_URL_PREFIX = SimpleLazyObject(lambda: reverse("sales_dashboard:quote_detail", args=[0])[:-2])
CUSTOMER_URL_PREFIX = SimpleLazyObject(
    lambda: reverse("sales_dashboard:customer_detail", args=[0])[:-2])


def customer_label(rows: list[dict], customer_id: int | None) -> str:
    """The filtered customer's name: from the rows when there are some (no extra query)."""
    if not customer_id:
        return ""
    if rows:
        return rows[0]["customer"]
    customer = customer_get(pk=customer_id)
    return customer.display_name if customer else _("Unknown customer")

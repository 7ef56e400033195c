"""What the dashboard's global search finds in billing (declared on
BillingConfig.dashboard_search, see tenants/accounts/search.py): invoices and credit notes, by
the words their list filters on. One query."""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _

from billing.selectors import invoices_for_dashboard
from sales.views.dashboard.common import money
from tenants.accounts.search import SearchGroup, SearchHit, search_group


def invoices(request: HttpRequest, q: str) -> SearchGroup | None:
    if not request.user.has_perm("billing.view_invoice"):
        return None
    return search_group(
        invoices_for_dashboard(q=q),
        lambda invoice: SearchHit(
            label=invoice.reference,
            url=reverse("billing_dashboard:invoice_detail", args=[invoice.pk]),
            detail=" · ".join(part for part in (
                invoice.customer.display_name, money(invoice.gross_total, invoice.currency),
                invoice.get_kind_display() if invoice.is_credit_note else "") if part),
            status=invoice.status, status_label=invoice.get_status_display()),
        title=_("Invoices"),
        q=q, list_url="billing_dashboard:invoice_list",
        position=40)

"""The sales cards of the dashboard home."""

from __future__ import annotations

from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from sales.selectors import (
    sales_summary,
)
from sales.views.dashboard.common import (
    money,
)


# ---------------------------------------------------------------------------------------------
# Dashboard home (declared on SalesConfig.dashboard_widgets)
# ---------------------------------------------------------------------------------------------
def sales_widget(request: HttpRequest) -> str | None:
    """Dashboard home cards: open quotes, orders to ship, today's sales; each opens the list
    it counts. None when the user may not see orders."""
    user = request.user
    if not user.has_perm("sales.view_order"):
        return None
    summary = sales_summary()
    today = timezone.localdate().isoformat()
    orders_url = reverse("sales_dashboard:order_list")
    context = {
        "summary": summary,
        "show_quotes": user.has_perm("sales.view_quote"),
        "quotes_value": money(summary.open_quotes_value),
        "today_value": money(summary.today_sales),
        "quotes_url": reverse("sales_dashboard:quote_list") + "?status=open",
        "to_ship_url": f"{orders_url}?status=to_ship",
        "today_url": f"{orders_url}?date_from={today}&date_to={today}",
    }
    return render_to_string("sales/dashboard/_home_widget.html", context, request=request)

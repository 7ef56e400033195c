"""The billing cards of the dashboard home (declared on BillingConfig.dashboard_widgets):
revenue this month with its last six months drawn as a small SVG line, what customers still
owe, and what is overdue; each card opens the list it counts."""

from __future__ import annotations

from decimal import Decimal

from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, timezone

from billing.selectors import billing_summary
from sales.views.dashboard.common import money

WIDTH, HEIGHT, PAD = 120, 36, 3


def sparkline(values: list[Decimal]) -> dict:
    """Points of a small line chart (SVG user units), drawn on the server: no chart library,
    no JavaScript. The lowest value sits on the bottom edge, the highest on the top one."""
    low, high = min(values + [Decimal(0)]), max(values + [Decimal(0)])
    span = (high - low) or Decimal(1)
    step = (WIDTH - 2 * PAD) / max(len(values) - 1, 1)
    points = []
    for index, value in enumerate(values):
        x = PAD + index * step
        y = PAD + float((high - value) / span) * (HEIGHT - 2 * PAD)
        points.append((round(x, 1), round(y, 1)))
    zero = round(PAD + float(high / span) * (HEIGHT - 2 * PAD), 1)
    return {"width": WIDTH, "height": HEIGHT, "zero": zero, "last": points[-1],
            "points": " ".join(f"{x},{y}" for x, y in points)}


def billing_widget(request: HttpRequest) -> str | None:
    """Dashboard home cards; None when the user may not see invoices."""
    if not request.user.has_perm("billing.view_invoice"):
        return None
    today = timezone.localdate()
    summary = billing_summary(today)
    invoices = reverse("billing_dashboard:invoice_list")
    first = today.replace(day=1)
    change = summary.month_revenue - summary.previous_month_revenue
    context = {
        "summary": summary,
        "revenue": money(summary.month_revenue),
        "change": money(abs(change)), "change_up": change > 0, "change_down": change < 0,
        "outstanding": money(summary.outstanding),
        "overdue": money(summary.overdue),
        "revenue_url": f"{invoices}?date_from={first.isoformat()}&date_to={today.isoformat()}",
        "outstanding_url": f"{invoices}?status=unpaid",
        "overdue_url": f"{invoices}?status=overdue",
        "spark": sparkline([net for _month, net in summary.months]),
        "months": [{"label": formats.date_format(month, "YEAR_MONTH_FORMAT"),
                    "value": money(net)} for month, net in summary.months],
    }
    return render_to_string("billing/dashboard/_home_widget.html", context, request=request)

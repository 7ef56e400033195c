"""Rendering and sending the sales pipeline's emails, in the shop's language. They are sent by
tasks (sales.tasks) queued after the transaction commits."""

from __future__ import annotations

from django.core.mail import send_mail
from django.db import connection
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from tenants.models import Shop


def deliver(name: str, *, to: list[str], context: dict) -> None:
    """Render <name>_subject.txt and <name>.txt and send them; a bare name is one of
    templates/sales/email/, another app names its own folder ("billing/email/reminder")."""
    base = name if "/" in name else f"sales/email/{name}"
    shop = connection.tenant
    if not isinstance(shop, Shop):  # a task or script in schema_context() has a stand-in
        shop = Shop.objects.get(schema_name=connection.schema_name)
    context = {"shop_name": shop.name, "shop": shop, **context}
    with translation.override(getattr(shop, "locale", None) or "en"):
        subject = render_to_string(f"{base}_subject.txt", context)
        body = render_to_string(f"{base}.txt", context)
    send_mail(" ".join(subject.split()), body, None, to)


def order_url(base_url: str, order) -> str:
    return base_url + reverse("sales_account:order_detail", args=[order.number])


def quote_public_url(base_url: str, token: str) -> str:
    return base_url + reverse("sales_public:quote", args=[token])


def quote_dashboard_url(base_url: str, quote) -> str:
    return base_url + reverse("sales_dashboard:quote_detail", args=[quote.pk])

"""Background work of the sales pipeline. Emails are queued after the transaction commits (a
rolled-back order never emails anyone; a mail server that is down never fails a placed order:
`robust=True` logs the error instead) and run in the schema of the shop that queued them
(tenant-schemas-celery); with no broker, right after the commit, in-process. The periodic
expiry runs in every active shop in turn."""

from __future__ import annotations

from celery import shared_task
from django.db import connection, transaction
from django_tenants.utils import schema_context

from sales.emails import deliver, order_url, quote_dashboard_url, quote_public_url
from sales.links import quote_link_token
from sales.models import Order, Quote
from tenants.models import Shop, ShopStatus


@shared_task(name="sales.order_confirmation")
def order_confirmation_task(*, order_id: int, base_url: str) -> None:
    order = Order.objects.select_related("customer").get(pk=order_id)
    context = {"order": order, "lines": list(order.lines.all()),
               "link": order_url(base_url, order) if order.customer.user_id else ""}
    deliver("order_confirmation", to=[order.email], context=context)


@shared_task(name="sales.quote_link")
def quote_link_task(*, quote_id: int, base_url: str) -> None:
    quote = Quote.objects.select_related("customer").get(pk=quote_id)
    context = {"quote": quote, "link": quote_public_url(base_url, quote_link_token(quote))}
    deliver("quote_link", to=[quote.customer.email], context=context)


@shared_task(name="sales.staff_quote_notice")
def staff_quote_notice_task(*, kind: str, quote_id: int, base_url: str) -> None:
    """Tell the shop (its owner's address) that a customer requested, accepted or declined."""
    owner = Shop.objects.filter(schema_name=connection.schema_name).values_list(
        "owner_email", flat=True).first()
    if not owner:
        return
    quote = Quote.objects.select_related("customer").get(pk=quote_id)
    deliver("staff_quote_notice", to=[owner],
            context={"quote": quote, "kind": kind, "link": quote_dashboard_url(base_url, quote)})


@shared_task(name="sales.expire_quotes")
def expire_quotes_task() -> int:
    """Sent quotes past their validity date become expired, in every active shop."""
    from sales.services.quotes import quotes_expire  # the services queue this module's tasks

    expired = 0
    for schema in Shop.objects.filter(status=ShopStatus.ACTIVE).exclude(
            schema_name="public").values_list("schema_name", flat=True):
        with schema_context(schema):
            expired += quotes_expire()
    return expired


@shared_task(name="sales.compact_order_counts")
def compact_order_counts_task() -> None:
    """Fold the kept order counts' deltas into their per-status rows, in every active shop."""
    from sales.services.orders import order_counts_compact  # the services queue this module's tasks

    for schema in Shop.objects.filter(status=ShopStatus.ACTIVE).exclude(
            schema_name="public").values_list("schema_name", flat=True):
        with schema_context(schema):
            order_counts_compact()


def order_confirmation_send(*, order: Order, base_url: str) -> None:
    order_id = order.pk
    transaction.on_commit(lambda: order_confirmation_task.delay(order_id=order_id,
                                                                base_url=base_url),
                          robust=True)


def quote_link_send(*, quote: Quote, base_url: str) -> None:
    quote_id = quote.pk
    transaction.on_commit(lambda: quote_link_task.delay(quote_id=quote_id, base_url=base_url),
                          robust=True)


def staff_quote_notice_send(*, kind: str, quote: Quote, base_url: str) -> None:
    quote_id = quote.pk
    transaction.on_commit(lambda: staff_quote_notice_task.delay(kind=kind, quote_id=quote_id,
                                                                base_url=base_url),
                          robust=True)

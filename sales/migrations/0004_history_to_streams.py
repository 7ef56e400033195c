"""Quotes' and orders' history rows (QuoteEvent, OrderEvent) copied into streams' events, the
one table timelines and the activity feed read (0005 then removes the old tables).

Who acted maps to the event's actor (name snapshotted, as streams does), `by_customer` to the
customer actor kind, from/to status to before/after; the subject's label is the document's as
streams names it ("Order C-2026-00042", "Quote D-2026-00012-R2").
"""

from django.conf import settings
from django.db import migrations
from django.db.models import F
from django.utils.translation import gettext as _

BATCH = 2000
NORMAL, HIGH = 20, 30
# Verbs that matter most (as sales/events.py says; repeated here: a migration must not
# depend on code that will change).
HIGH_VERBS = {
    "quote": {"accept", "decline", "cancel"},
    "order": {"cancel", "payment", "refund", "invoice_not_issued", "paid_after_cancel",
              "refund_by_hand", "refund_failed"},
}
ROW_FIELDS = ("id", "verb", "from_status", "to_status", "by_id", "by_customer", "message",
              "data", "at")


def quote_label(number: str, revision: int) -> str:
    reference = number if revision == 1 else f"{number}-R{revision}"
    return _("Quote %(reference)s") % {"reference": reference}


def order_label(number: str) -> str:
    return _("Order %(number)s") % {"number": number}


def copied_events(rows, *, kind: str, subject_type_id: int, labels: dict, actors: dict
                  ) -> list[dict]:
    """The streams event fields for history rows (dicts with ROW_FIELDS and `subject_id`).
    `labels`: subject id -> label; `actors`: user id -> (name, is_staff)."""
    events = []
    for row in rows:
        by = row["by_id"]
        name, is_staff = actors.get(by, ("", True)) if by else ("", False)
        if row.get("by_customer") or (by and not is_staff):
            actor_kind = "customer"
        else:
            actor_kind = "staff" if by else "system"
        events.append({
            "subject_type_id": subject_type_id, "subject_id": row["subject_id"],
            "subject_label": labels.get(row["subject_id"], "")[:200], "verb": row["verb"],
            "before": row["from_status"] or "", "after": row["to_status"] or "",
            "actor_id": by, "actor_kind": actor_kind, "actor_name": name[:150],
            "message": row["message"] or "", "data": row["data"] or {},
            "importance": HIGH if row["verb"] in HIGH_VERBS[kind] else NORMAL,
            "at": row["at"],
        })
    return events


def _batches(queryset):
    batch = []
    for row in queryset.iterator(chunk_size=BATCH):
        batch.append(row)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def copy_history(apps, schema_editor):
    Event = apps.get_model("streams", "Event")
    ContentType = apps.get_model("contenttypes", "ContentType")
    User = apps.get_model(*settings.AUTH_USER_MODEL.split("."))
    Quote = apps.get_model("sales", "Quote")
    Order = apps.get_model("sales", "Order")
    sources = (("quote", apps.get_model("sales", "QuoteEvent"), "quote_id"),
               ("order", apps.get_model("sales", "OrderEvent"), "order_id"))
    for kind, History, key in sources:
        rows = History.objects.order_by("id").values(*ROW_FIELDS, subject_id=F(key))
        content_type = None
        for batch in _batches(rows):
            if content_type is None:  # only a shop with history needs the type now
                content_type, _created = ContentType.objects.get_or_create(
                    app_label="sales", model=kind)
            ids = {row["subject_id"] for row in batch}
            if kind == "quote":
                labels = {pk: quote_label(number, revision) for pk, number, revision in
                          Quote.objects.filter(pk__in=ids).values_list("pk", "number",
                                                                       "revision")}
            else:
                labels = {pk: order_label(number) for pk, number in
                          Order.objects.filter(pk__in=ids).values_list("pk", "number")}
            actors = {pk: (full_name or email, is_staff) for pk, full_name, email, is_staff in
                      User.objects.filter(pk__in={r["by_id"] for r in batch if r["by_id"]})
                      .values_list("pk", "full_name", "email", "is_staff")}
            Event.objects.bulk_create([
                Event(**fields) for fields in copied_events(
                    batch, kind=kind, subject_type_id=content_type.pk, labels=labels,
                    actors=actors)])


class Migration(migrations.Migration):
    dependencies = [
        ("sales", "0003_shipping_standard_wording"),
        ("streams", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [migrations.RunPython(copy_history, migrations.RunPython.noop)]

"""Invoices' history rows (InvoiceEvent) copied into streams' events, the one table timelines
and the activity feed read (0005 then removes the old table).

Who acted maps to the event's actor (name snapshotted), from/to status to before/after. Rows
that recorded a state change under another name take the transition's name, as new events do
(streams records transitions by name): a payment or a credit that moved the invoice is
`settle` (or `cancel` when the credit closed it), `overdue` is `mark_overdue`.
"""

from django.conf import settings
from django.db import migrations
from django.utils.translation import gettext as _

BATCH = 2000
NORMAL, HIGH = 20, 30
# As billing/events.py says (repeated: a migration must not depend on code that changes).
HIGH_VERBS = {"settle", "mark_overdue", "cancel", "credited", "refund", "overpaid"}
ROW_FIELDS = ("id", "invoice_id", "verb", "from_status", "to_status", "by_id", "message",
              "data", "at")


def invoice_label(kind: str, number: str | None) -> str:
    credit_note = kind == "credit_note"
    if not number:
        return _("Draft credit note") if credit_note else _("Draft invoice")
    if credit_note:
        return _("Credit note %(number)s") % {"number": number}
    return _("Invoice %(number)s") % {"number": number}


def transition_verb(row: dict) -> str:
    verb = row["verb"]
    if verb == "overdue":
        return "mark_overdue"
    if verb in ("payment", "credited") and row["from_status"]:
        return "cancel" if row["to_status"] == "cancelled" else "settle"
    return verb


def copied_events(rows, *, subject_type_id: int, labels: dict, actors: dict) -> list[dict]:
    """The streams event fields for InvoiceEvent rows (dicts with ROW_FIELDS). `labels`:
    invoice id -> label; `actors`: user id -> (name, is_staff)."""
    events = []
    for row in rows:
        by = row["by_id"]
        name, is_staff = actors.get(by, ("", True)) if by else ("", False)
        verb = transition_verb(row)
        events.append({
            "subject_type_id": subject_type_id, "subject_id": row["invoice_id"],
            "subject_label": labels.get(row["invoice_id"], "")[:200], "verb": verb,
            "before": row["from_status"] or "", "after": row["to_status"] or "",
            "actor_id": by, "actor_name": name[:150],
            "actor_kind": ("staff" if is_staff else "customer") if by else "system",
            "message": row["message"] or "", "data": row["data"] or {},
            "importance": HIGH if verb in HIGH_VERBS else NORMAL, "at": row["at"],
        })
    return events


def copy_history(apps, schema_editor):
    Event = apps.get_model("streams", "Event")
    ContentType = apps.get_model("contenttypes", "ContentType")
    User = apps.get_model(*settings.AUTH_USER_MODEL.split("."))
    Invoice = apps.get_model("billing", "Invoice")
    InvoiceEvent = apps.get_model("billing", "InvoiceEvent")
    content_type = None
    batch: list[dict] = []
    rows = InvoiceEvent.objects.order_by("id").values(*ROW_FIELDS).iterator(chunk_size=BATCH)
    for row in rows:
        batch.append(row)
        if len(batch) < BATCH:
            continue
        content_type = content_type or _content_type(ContentType)
        _write(Event, Invoice, User, batch, content_type)
        batch = []
    if batch:
        _write(Event, Invoice, User, batch, content_type or _content_type(ContentType))


def _content_type(ContentType):
    # Only a shop with history needs the type now (a new one gets it after migrating).
    return ContentType.objects.get_or_create(app_label="billing", model="invoice")[0]


def _write(Event, Invoice, User, batch, content_type):
    labels = {pk: invoice_label(kind, number) for pk, kind, number in
              Invoice.objects.filter(pk__in={r["invoice_id"] for r in batch})
              .values_list("pk", "kind", "number")}
    actors = {pk: (full_name or email, is_staff) for pk, full_name, email, is_staff in
              User.objects.filter(pk__in={r["by_id"] for r in batch if r["by_id"]})
              .values_list("pk", "full_name", "email", "is_staff")}
    Event.objects.bulk_create([
        Event(**fields) for fields in copied_events(
            batch, subject_type_id=content_type.pk, labels=labels, actors=actors)])


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0003_invoice_pdf_private"),
        ("streams", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [migrations.RunPython(copy_history, migrations.RunPython.noop)]

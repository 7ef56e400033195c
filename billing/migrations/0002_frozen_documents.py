"""An issued invoice or credit note is frozen in the database itself, whatever the code does:
its legal content cannot change, it cannot be deleted, and its lines can be neither added,
changed nor removed. What may still change: its status, what was paid or credited, reminders,
the stored PDF (made once from the frozen content), and who created or issued it (a person can
be removed). The refusals carry SQLSTATE 23514 (check_violation), so Django raises
IntegrityError."""

from django.db import migrations

FROZEN_COLUMNS = [
    "kind", "number", "customer_id", "order_id", "credited_invoice_id", "order_percent", "title",
    "seller", "buyer", "issue_date", "service_date", "due_date", "payment_terms",
    "late_penalty_rate", "reason", "notes", "currency", "net_total",
    "vat_total", "gross_total", "issued_at", "created_at",
]
_OLD = ", ".join(f"OLD.{c}" for c in FROZEN_COLUMNS)
_NEW = ", ".join(f"NEW.{c}" for c in FROZEN_COLUMNS)

FORWARD = f"""
CREATE FUNCTION billing_invoice_frozen() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.status <> 'draft' THEN
            RAISE EXCEPTION 'document % is issued: it cannot be deleted', OLD.number
                USING ERRCODE = 'check_violation';
        END IF;
        RETURN OLD;
    END IF;
    IF OLD.status <> 'draft' AND (NEW.status = 'draft' OR ({_NEW}) IS DISTINCT FROM ({_OLD})) THEN
        RAISE EXCEPTION 'document % is issued: it cannot be changed (make a credit note)',
            OLD.number USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER billing_invoice_frozen BEFORE UPDATE OR DELETE ON billing_invoice
    FOR EACH ROW EXECUTE FUNCTION billing_invoice_frozen();

CREATE FUNCTION billing_invoiceline_frozen() RETURNS trigger AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND EXISTS (
            SELECT 1 FROM billing_invoice WHERE id = OLD.invoice_id AND status <> 'draft') THEN
        RAISE EXCEPTION 'the lines of an issued document cannot change'
            USING ERRCODE = 'check_violation';
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND EXISTS (
            SELECT 1 FROM billing_invoice WHERE id = NEW.invoice_id AND status <> 'draft') THEN
        RAISE EXCEPTION 'the lines of an issued document cannot change'
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN COALESCE(NEW, OLD);
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER billing_invoiceline_frozen BEFORE INSERT OR UPDATE OR DELETE
    ON billing_invoiceline FOR EACH ROW EXECUTE FUNCTION billing_invoiceline_frozen();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS billing_invoiceline_frozen ON billing_invoiceline;
DROP FUNCTION IF EXISTS billing_invoiceline_frozen();
DROP TRIGGER IF EXISTS billing_invoice_frozen ON billing_invoice;
DROP FUNCTION IF EXISTS billing_invoice_frozen();
"""


def settings_row(apps, schema_editor):
    BillingSettings = apps.get_model("billing", "BillingSettings")
    if not BillingSettings.objects.exists():
        BillingSettings.objects.create()


class Migration(migrations.Migration):
    dependencies = [("billing", "0001_initial")]
    operations = [
        migrations.RunSQL(FORWARD, BACKWARD),
        migrations.RunPython(settings_row, migrations.RunPython.noop),
    ]

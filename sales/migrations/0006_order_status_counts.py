"""Orders counted per status by the database itself (sales.models.OrderStatusCount and
OrderStatusDelta).

A row trigger on sales_order records each transaction's changes in its own delta rows (one
per transaction and status, so writers never wait for one another), in the writer's
transaction, whoever writes (services, bulk loads, the shell): a rolled-back order never
counted. `order_counts_compact` folds committed deltas into the count rows. TRUNCATE (the test
runner's flush) empties both. The counts start from the orders already there."""

from django.db import migrations, models

FORWARD = """
CREATE FUNCTION sales_order_status_count() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        DELETE FROM sales_orderstatusdelta;
        DELETE FROM sales_orderstatuscount;
        RETURN NULL;
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.status = NEW.status THEN
        RETURN NULL;
    END IF;
    INSERT INTO sales_orderstatusdelta AS d (txid, status, change)
    SELECT pg_current_xact_id()::text::bigint, v.status, v.change FROM (VALUES
        (CASE WHEN TG_OP <> 'INSERT' THEN OLD.status END, -1),
        (CASE WHEN TG_OP <> 'DELETE' THEN NEW.status END, 1)) AS v(status, change)
    WHERE v.status IS NOT NULL
    ON CONFLICT (txid, status) DO UPDATE SET change = d.change + EXCLUDED.change;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER sales_order_status_count AFTER INSERT OR DELETE OR UPDATE OF status
    ON sales_order FOR EACH ROW EXECUTE FUNCTION sales_order_status_count();
CREATE TRIGGER sales_order_status_count_truncate AFTER TRUNCATE
    ON sales_order FOR EACH STATEMENT EXECUTE FUNCTION sales_order_status_count();

INSERT INTO sales_orderstatuscount (status, count)
    SELECT status, COUNT(*) FROM sales_order GROUP BY status;
"""

BACKWARD = """
DROP TRIGGER IF EXISTS sales_order_status_count_truncate ON sales_order;
DROP TRIGGER IF EXISTS sales_order_status_count ON sales_order;
DROP FUNCTION IF EXISTS sales_order_status_count();
"""


class Migration(migrations.Migration):

    dependencies = [
        ('sales', '0005_remove_history_models'),
    ]

    operations = [
        migrations.CreateModel(
            name='OrderStatusCount',
            fields=[
                ('status', models.CharField(max_length=50, primary_key=True, serialize=False)),
                ('count', models.BigIntegerField(default=0)),
            ],
        ),
        migrations.CreateModel(
            name='OrderStatusDelta',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('txid', models.BigIntegerField()),
                ('status', models.CharField(max_length=50)),
                ('change', models.BigIntegerField()),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('txid', 'status'), name='order_status_delta_per_transaction')],
            },
        ),
        migrations.RunSQL(FORWARD, BACKWARD),
    ]

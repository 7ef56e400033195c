from decimal import Decimal

from django.db import migrations
from django.utils import timezone


def stock_existing_vehicles(apps, schema_editor):
    """Vehicles listed before they were stocked get a level of one (they are on the lot), with
    its receipt in the ledger so on hand still equals the sum of movements."""
    Vehicle = apps.get_model("catalog", "Vehicle")
    StockLevel = apps.get_model("catalog", "StockLevel")
    StockMovement = apps.get_model("catalog", "StockMovement")
    now = timezone.now()
    missing = Vehicle.objects.filter(stock__isnull=True).values_list("pk", flat=True)
    for pk in missing:
        StockLevel.objects.create(product_id=pk, on_hand=Decimal("1"), reserved=Decimal("0"))
        StockMovement.objects.create(product_id=pk, kind="receipt", on_hand_delta=Decimal("1"),
                                     reserved_delta=Decimal("0"),
                                     reason="Vehicle in stock (stock levels for vehicles)",
                                     created_at=now)


class Migration(migrations.Migration):
    dependencies = [("catalog", "0003_import_job")]
    operations = [migrations.RunPython(stock_existing_vehicles, migrations.RunPython.noop)]

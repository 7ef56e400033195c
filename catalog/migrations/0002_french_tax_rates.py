from decimal import Decimal

from django.db import migrations

# French VAT rates (taux normal, intermédiaire, réduit, particulier), seeded in every shop.
RATES = [
    ("TVA 20 %", Decimal("20.00"), True),
    ("TVA 10 %", Decimal("10.00"), False),
    ("TVA 5,5 %", Decimal("5.50"), False),
    ("TVA 2,1 %", Decimal("2.10"), False),
]


def seed(apps, schema_editor):
    TaxRate = apps.get_model("catalog", "TaxRate")
    if TaxRate.objects.exists():
        return
    for name, rate, default in RATES:
        TaxRate.objects.create(name=name, rate=rate, is_default=default)


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]

from decimal import Decimal

from django.db import migrations

# What a new shop offers until the merchant changes it (dashboard: Sales settings).
METHODS = [
    # name, kind, price excl. VAT, free above (incl. VAT), description
    ("Standard delivery", "flat", Decimal("5.75"), Decimal("100.00"),
     "Delivered in 2 to 4 working days; free from 100 € of goods."),
    ("Pickup at the shop", "pickup", Decimal("0.00"), None, "Collect your order at our address."),
]


def seed(apps, schema_editor):
    ShippingMethod = apps.get_model("sales", "ShippingMethod")
    TaxRate = apps.get_model("catalog", "TaxRate")
    if ShippingMethod.objects.exists():
        return
    rate = TaxRate.objects.filter(is_default=True).first() or TaxRate.objects.first()
    if rate is None:
        return
    for position, (name, kind, price, free_above, description) in enumerate(METHODS):
        ShippingMethod.objects.create(name=name, kind=kind, price_net=price, tax_rate=rate,
                                      free_above=free_above, description=description,
                                      position=position)


class Migration(migrations.Migration):
    dependencies = [("sales", "0001_initial"), ("catalog", "0002_french_tax_rates")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]

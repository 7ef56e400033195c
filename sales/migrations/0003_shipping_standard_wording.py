from django.db import migrations, models

# The names and descriptions 0002 wrote in English: emptied, so each customer reads the
# standard wording in their own language (ShippingMethod.label / .summary). A name or
# description a merchant changed is kept.
SEEDED = {
    "flat": ("Standard delivery", "Delivered in 2 to 4 working days; free from 100 € of goods."),
    "pickup": ("Pickup at the shop", "Collect your order at our address."),
}


def use_standard_wording(apps, schema_editor):
    ShippingMethod = apps.get_model("sales", "ShippingMethod")
    for kind, (name, description) in SEEDED.items():
        ShippingMethod.objects.filter(kind=kind, name=name).update(name="")
        ShippingMethod.objects.filter(kind=kind, description=description).update(description="")


class Migration(migrations.Migration):
    dependencies = [("sales", "0002_default_shipping_methods")]
    operations = [
        migrations.AlterField(
            model_name="shippingmethod", name="name",
            field=models.CharField(blank=True, help_text="Leave empty to show the standard wording in each customer's language.", max_length=100, verbose_name="name"),
        ),
        migrations.RunPython(use_standard_wording, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="customer", name="kind",
            field=models.CharField(choices=[("person", "Person"), ("company", "Company")], default="person", max_length=10, verbose_name="customer type"),
        ),
    ]

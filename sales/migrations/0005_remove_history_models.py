"""QuoteEvent and OrderEvent removed: their rows live on as streams events (0004)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("sales", "0004_history_to_streams")]

    operations = [
        migrations.DeleteModel(name="OrderEvent"),
        migrations.DeleteModel(name="QuoteEvent"),
    ]

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("events", "0005_delivery_subject_order"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="delivery", name="events_delivery_claimed"),
    ]

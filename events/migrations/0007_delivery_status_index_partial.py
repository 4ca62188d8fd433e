from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("events", "0006_drop_claimed_index"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="delivery", name="events_delivery_status_sink"),
        migrations.AddIndex(
            model_name="delivery",
            index=models.Index(
                condition=models.Q(("status__in", ["dead", "discarded"])),
                fields=["status", "sink"],
                name="events_delivery_given_up",
            ),
        ),
    ]

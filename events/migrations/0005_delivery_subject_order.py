from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def copy_subjects(apps, schema_editor):
    Delivery = apps.get_model("events", "Delivery")
    OutboxEvent = apps.get_model("events", "OutboxEvent")
    Delivery.objects.update(
        subject=Subquery(OutboxEvent.objects.filter(pk=OuterRef("event_id")).values("subject")[:1])
    )


class Migration(migrations.Migration):
    dependencies = [
        ("events", "0004_unsequenced_in_order"),
    ]

    operations = [
        migrations.AddField(
            model_name="delivery",
            name="subject",
            field=models.CharField(default="", editable=False, max_length=512),
            preserve_default=False,
        ),
        migrations.RunPython(copy_subjects, migrations.RunPython.noop, elidable=True),
        migrations.AddIndex(
            model_name="delivery",
            index=models.Index(
                condition=models.Q(("status__in", ["pending", "claimed"])),
                fields=["sink", "subject", "id"],
                name="events_delivery_undelivered",
            ),
        ),
    ]

import json

from django.db import migrations

NAME = "versioning: compact commits and collect garbage"


def forwards(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    nightly, _ = CrontabSchedule.objects.get_or_create(
        minute="30", hour="3", day_of_week="*", day_of_month="*", month_of_year="*", timezone="UTC"
    )
    PeriodicTask.objects.get_or_create(
        name=NAME,
        defaults={
            "task": "versioning.compact",
            "crontab": nightly,
            "kwargs": json.dumps({"older_than_days": 30, "grace_minutes": 60}),
            "enabled": True,
            "description": (
                "Writes missing checkpoints, collapses linear runs of commits older than "
                "older_than_days on archived branches, deletes unreachable commits and "
                "unreferenced blobs older than grace_minutes."
            ),
        },
    )


def backwards(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("versioning", "0004_branch_name_segments"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]

"""The outbox cursor row, and the beat schedules of the events app (django-celery-beat)."""

import json

from django.db import migrations

SCHEDULES = [
    # (name, task, every seconds, description)
    ("events: drain outbox", "events.drain_outbox", 5,
     "Sequence committed events and deliver them (safety net for on-commit drains)."),
    ("events: retry due deliveries", "events.retry_due_deliveries", 10,
     "Deliver deliveries whose backoff has elapsed."),
    ("events: reap stale claims", "events.reap_stale_claims", 60,
     "Return claims of workers that died mid-batch."),
    ("events: purge delivered events", "events.purge_delivered", 3600,
     "Delete finished events older than OMS_EVENTS_RETENTION_DAYS."),
]


def forwards(apps, schema_editor):
    apps.get_model("events", "OutboxCursor").objects.get_or_create(pk=1)
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for name, task, seconds, description in SCHEDULES:
        interval, _ = IntervalSchedule.objects.get_or_create(every=seconds, period="seconds")
        PeriodicTask.objects.update_or_create(
            name=name,
            defaults={
                "task": task,
                "interval": interval,
                "args": json.dumps([]),
                "kwargs": json.dumps({}),
                "description": description,
                "enabled": True,
                # A beat tick that waits longer than its interval is dropped, not piled up.
                "expire_seconds": max(seconds, 5),
            },
        )


def backwards(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name__in=[s[0] for s in SCHEDULES]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("events", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]

from django.db import migrations

NAME = "ontology: report overdue deprecations"


def forwards(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    daily, _ = CrontabSchedule.objects.get_or_create(
        minute="0", hour="6", day_of_week="*", day_of_month="*", month_of_year="*", timezone="UTC"
    )
    PeriodicTask.objects.get_or_create(
        name=NAME,
        defaults={
            "task": "ontology.report_overdue_deprecations",
            "crontab": daily,
            "enabled": True,
            "description": (
                "Lists deprecated entities and properties of protected branches past their "
                "deadline: sets oms_ontology_overdue_deprecations and publishes "
                "com.oms.ontology.deprecation.overdue.v1 per branch."
            ),
        },
    )


def backwards(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("ontology", "0003_leaner_property_indexes"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]

from django.db import migrations


def create_main(apps, schema_editor):
    Branch = apps.get_model("versioning", "Branch")
    Branch.objects.get_or_create(
        name="main",
        defaults={"protected": True, "description": "The ontology of record."},
    )


class Migration(migrations.Migration):
    dependencies = [("versioning", "0001_initial")]

    operations = [migrations.RunPython(create_main, migrations.RunPython.noop)]

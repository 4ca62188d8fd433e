"""``versioning.view_pii`` for the steward and admin role groups (issue 12): the role groups
are set again from their one definition (``ensure_admin.role_permissions``)."""

from importlib import import_module

from django.db import migrations

# the same step as 0005 (which reads the roles' one definition), run again
create_role_groups = import_module("ontology.migrations.0005_role_groups").create_role_groups


class Migration(migrations.Migration):
    dependencies = [
        ("ontology", "0009_i12_pii_examples"),
        ("versioning", "0012_i12_encrypted_contact"),
    ]

    operations = [migrations.RunPython(create_role_groups, migrations.RunPython.noop)]

"""The role groups (viewer, editor, steward, admin) with their permissions, so that every
database has them, not only those where ``manage.py ensure_admin`` ran. The roles are
defined once, in ``ontology/management/commands/ensure_admin.py``."""

from django.db import migrations


def create_role_groups(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    from ontology.management.commands.ensure_admin import role_permissions

    # permissions are made after migrating (post_migrate): make them now for this step
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, permissions in role_permissions().items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set(Permission.objects.filter(permissions))


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("authtoken", "0004_alter_tokenproxy_options"),
        ("ontology", "0004_overdue_deprecations_schedule"),
        ("versioning", "0010_branch_compatibility_mode"),
        ("events", "0008_webhook_secret_encrypted"),
        # every app with an admin page: the admin role's "every permission" includes theirs
        ("token_blacklist", "0013_alter_blacklistedtoken_options_and_more"),
        ("axes", "0010_accessattemptexpiration"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
        ("guardian", "0003_remove_groupobjectpermission_guardian_gr_content_ae6aec_idx_and_more"),
    ]

    operations = [migrations.RunPython(create_role_groups, migrations.RunPython.noop)]

"""Grant the creator of every existing branch ``versioning.edit_branch`` on it.

Editing the ontology on a branch now needs the right to edit that branch, which
``create_branch`` grants to a new branch's creator. Branches created before did not get
the grant; this gives it to them, so an editor keeps editing the branches they made.

It lives in ``ontology`` (which owns who may write its rows) rather than in
``versioning``, so that it does not fork versioning's migration chain.
"""

from django.db import migrations


def grant_creators(apps, schema_editor):
    Branch = apps.get_model("versioning", "Branch")
    branches = list(Branch.objects.exclude(created_by=None).values_list("pk", "created_by_id"))
    if not branches:
        return
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    UserObjectPermission = apps.get_model("guardian", "UserObjectPermission")
    content_type, _ = ContentType.objects.get_or_create(app_label="versioning", model="branch")
    permission, _ = Permission.objects.get_or_create(
        content_type=content_type,
        codename="edit_branch",
        defaults={"name": "Can edit the ontology on this branch"},
    )
    for pk, user_id in branches:
        UserObjectPermission.objects.get_or_create(
            user_id=user_id,
            permission=permission,
            content_type=content_type,
            object_pk=str(pk),
        )


class Migration(migrations.Migration):
    dependencies = [
        ("ontology", "0001_initial"),
        ("versioning", "0006_approval_source_head"),
        ("guardian", "0003_remove_groupobjectpermission_guardian_gr_content_ae6aec_idx_and_more"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(grant_creators, migrations.RunPython.noop)]

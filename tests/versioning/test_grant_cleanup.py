"""Scheduled clean-up of per-branch grants whose branch is gone."""

from __future__ import annotations

import pytest
from django_celery_beat.models import PeriodicTask
from guardian.models import UserObjectPermission
from guardian.shortcuts import assign_perm

from tests.factories import BranchFactory, UserFactory
from versioning.models import Branch
from versioning.tasks import clean_orphan_grants

pytestmark = pytest.mark.django_db


def test_grants_of_a_branch_deleted_behind_the_services_back_are_removed():
    user = UserFactory()
    kept, gone = BranchFactory(name="kept"), BranchFactory(name="gone")
    assign_perm("versioning.edit_branch", user, kept)
    assign_perm("versioning.edit_branch", user, gone)
    Branch.objects.filter(pk=gone.pk).delete()  # not through delete_branch

    assert clean_orphan_grants() == 1
    left = UserObjectPermission.objects.filter(user=user)
    assert [int(g.object_pk) for g in left] == [kept.pk]
    assert user.has_perm("versioning.edit_branch", kept)


def test_the_clean_up_is_on_the_beat_schedule():
    task = PeriodicTask.objects.get(task="versioning.clean_orphan_grants")
    assert task.enabled and task.crontab is not None

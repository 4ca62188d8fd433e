"""Compaction and garbage collection keep what they must and delete what nobody reaches."""

from datetime import timedelta

import pytest

from tests.versioning.support import edit, seed_main
from versioning import compaction, services, tasks
from versioning.models import Blob, Branch, Commit, TreeEntry

pytestmark = pytest.mark.django_db

NOW = {"older_than": timedelta(0), "grace": timedelta(0)}


def commits_on(branch, count, name="Type0"):
    made = []
    for i in range(count):
        edit(branch, name, description=f"{branch.name} {i}")
        made.append(services.commit_changes(branch, None, f"{branch.name} {i}"))
    return made


def test_collapses_old_runs_on_archived_branches_keeping_heads_and_forks():
    main = seed_main(3)
    dev = services.create_branch("dev", "main", None)
    made = commits_on(dev, 5)
    fork = services.create_branch("fork", made[1].id, None)  # a head inside the run
    tree = services.tree_at(made[-1])
    services.archive_branch(dev, None)
    report = compaction.run(**NOW)
    # made[0] folds into made[1] (a head, kept); made[2], made[3] fold into made[4]
    assert report.collapsed_commits == 3
    assert not Commit.objects.filter(id__in=[made[0].id, made[2].id, made[3].id]).exists()
    head = Commit.objects.get(id=made[-1].id)
    assert head.parent_id == made[1].id
    assert Commit.objects.get(id=made[1].id).parent_id == main.head_id
    assert services.tree_at(head) == tree
    assert services.documents_at("fork") == services.documents_at(made[1].id)
    assert fork.head_id == made[1].id
    assert Commit.objects.filter(id=main.head_id).exists()


def test_active_branches_and_main_are_never_collapsed():
    seed_main(2)
    dev = services.create_branch("dev", "main", None)
    made = commits_on(dev, 4)
    assert compaction.run(**NOW).collapsed_commits == 0
    assert Commit.objects.filter(id__in=[c.id for c in made]).count() == 4


def test_deletes_unreachable_commits_and_unreferenced_blobs():
    main = seed_main(2)
    tmp = services.create_branch("tmp", "main", None)
    edit(tmp, "Type1", description="only here")
    lost = services.commit_changes(tmp, None, "lost")
    lost_blob = lost.delta[next(iter(lost.delta))]
    services.delete_branch(tmp, None)
    blobs = Blob.objects.count()
    report = compaction.run(**NOW)
    assert report.unreachable_commits == 1 and report.blobs == 1 and report.blob_bytes > 0
    assert not Commit.objects.filter(id=lost.id).exists()
    assert not Blob.objects.filter(hash=lost_blob).exists()
    assert Blob.objects.count() == blobs - 1
    assert Commit.objects.filter(id=main.head_id).exists()
    # within the grace period nothing goes
    again = services.create_branch("tmp2", "main", None)
    edit(again, "Type1", description="young")
    young = services.commit_changes(again, None, "young")
    services.delete_branch(again, None)
    assert (
        compaction.run(older_than=timedelta(0), grace=timedelta(hours=1)).unreachable_commits == 0
    )
    assert Commit.objects.filter(id=young.id).exists()


def test_writes_missing_checkpoints(settings):
    seed_main(2)
    dev = services.create_branch("dev", "main", None)
    made = commits_on(dev, 3)
    settings.OMS_VERSIONING_CHECKPOINT_EVERY = 2
    tree = services.tree_at(made[-1])
    report = compaction.run(**NOW)
    assert report.checkpoints == 1
    head = Commit.objects.get(id=made[-1].id)
    assert head.is_checkpoint and head.depth == 0
    assert TreeEntry.objects.filter(commit=head).count() == len(tree)
    assert services.tree_at(head) == tree


def test_task_reports_and_is_scheduled():
    from django_celery_beat.models import PeriodicTask

    seed_main(1)
    assert tasks.compact.name == "versioning.compact"
    assert tasks.compact.max_retries == 3 and tasks.compact.soft_time_limit
    assert set(tasks.compact.run(older_than_days=0, grace_minutes=0)) >= {"blobs", "checkpoints"}
    scheduled = PeriodicTask.objects.get(task="versioning.compact")
    assert scheduled.enabled and scheduled.crontab is not None
    assert Branch.objects.filter(name="main").exists()

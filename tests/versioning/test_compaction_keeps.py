"""Compaction on archived branches keeps what history still needs — releases, merge
bases (a commit merged elsewhere), fork points — and says what it saved, as a log line and
as metrics; its schedule comes from a data migration that stewards can tune."""

from __future__ import annotations

import inspect
import json
import logging
from datetime import timedelta

import pytest
from prometheus_client import REGISTRY

from tests.factories import ObjectTypeFactory
from tests.versioning.support import edit, rid_of, seed_main, steward
from versioning import compaction, services, tasks
from versioning.changes import mark_changed
from versioning.models import Branch, Commit, Release

pytestmark = pytest.mark.django_db

NOW = {"older_than": timedelta(0), "grace": timedelta(0)}


def commits_on(branch, count, name="Type0", start=0):
    made = []
    for i in range(start, start + count):
        edit(branch, name, description=f"{branch.name} {i}")
        made.append(services.commit_changes(branch, None, f"{branch.name} {i}"))
    return made


def exists(*commits) -> list[bool]:
    return [Commit.objects.filter(id=c.id).exists() for c in commits]


def test_a_released_commit_in_an_old_run_is_kept():
    seed_main(2)
    dev = services.create_branch("dev", "main", None)
    made = commits_on(dev, 5)
    Release.objects.create(
        version="3.1.0",
        commit=made[2],
        branch_name="dev",
        created_at=made[2].created_at,
        compatibility="COMPATIBLE",
    )
    released = services.documents_at(made[2].id)
    services.archive_branch(dev, None)
    report = compaction.run(**NOW)
    assert exists(*made) == [False, False, True, False, True]
    assert report.collapsed_commits == 3
    assert Commit.objects.get(id=made[4].id).parent_id == made[2].id
    assert services.documents_at("3.1.0") == released


def test_a_commit_merged_into_main_stays_the_merge_base():
    author, reviewer = steward("author"), steward("reviewer")
    main = seed_main(3)
    dev = services.create_branch("dev", "main", author)
    before = commits_on(dev, 2)  # dev 0, dev 1 (merged)
    proposal = services.open_proposal(dev, main, "First part", author)
    services.approve(proposal, reviewer)
    services.merge_proposal(proposal, reviewer)
    after = commits_on(dev, 3, start=2)  # dev 2..4, not merged
    services.archive_branch(dev, None)

    report = compaction.run(**NOW)
    # dev 0 folds into dev 1 (merged into main: kept); dev 2, dev 3 fold into dev 4 (head)
    assert exists(*before, *after) == [False, True, False, False, True]
    assert report.collapsed_commits == 3
    assert Commit.objects.get(id=after[-1].id).parent_id == before[-1].id

    services.archive_branch(Branch.objects.get(name="dev"), None, archived=False)
    main.refresh_from_db()
    dev.refresh_from_db()
    merge = services.three_way(main.head_id, dev.head_id)
    assert merge.base == before[-1].id  # the merge base survived compaction
    assert [c.kind for c in merge.result.conflicts] == []
    assert set(merge.result.tree_changes) == {rid_of(dev, "Type0")}
    assert merge.result.tree_changes[rid_of(dev, "Type0")]["description"] == "dev 4"


def test_a_fork_point_with_two_children_is_kept():
    seed_main(2)
    dev = services.create_branch("dev", "main", None)
    made = commits_on(dev, 4)
    side = services.create_branch("side", made[1].id, None)
    commits_on(side, 1, name="Type1")
    services.archive_branch(dev, None)
    report = compaction.run(**NOW)
    # made[1] has two children (made[2] and side's commit): kept; made[0] folds into it
    assert exists(*made) == [False, True, False, True]
    assert report.collapsed_commits == 2
    side.refresh_from_db()
    assert side.head.parent_id == made[1].id
    assert services.documents_at("side")[rid_of(side, "Type0")]["description"] == "dev 1"


def test_young_commits_on_archived_branches_are_not_collapsed():
    seed_main(2)
    dev = services.create_branch("dev", "main", None)
    made = commits_on(dev, 4)
    services.archive_branch(dev, None)
    report = compaction.run(older_than=timedelta(days=30), grace=timedelta(0))
    assert report.collapsed_commits == 0 and all(exists(*made))


def sample(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_a_run_reports_what_it_saved_as_a_log_line_and_metrics(caplog):
    seed_main(2)
    dev = services.create_branch("dev", "main", None)
    commits_on(dev, 4)  # the three below the head fold into it
    services.archive_branch(dev, None)
    tmp = services.create_branch("tmp", "main", None)
    commits_on(tmp, 1, name="Type1")
    services.delete_branch(tmp, None)

    removed = "oms_versioning_compaction_removed_total"
    before = {
        kind: sample(removed, kind=kind)
        for kind in ("collapsed_commits", "unreachable_commits", "blobs", "tree_entries")
    }
    freed = sample("oms_versioning_compaction_bytes_freed_total")
    runs = sample("oms_versioning_compaction_runs_total", result="ok")
    with caplog.at_level(logging.INFO, logger="versioning.compaction"):
        result = tasks.compact.run(older_than_days=0, grace_minutes=0)

    assert result["collapsed_commits"] == 3 and result["unreachable_commits"] == 1
    # the documents of the folded commits and of the lost one are referenced no more
    assert result["blobs"] == 4 and result["blob_bytes"] > 0
    (line,) = [r for r in caplog.records if r.name == "versioning.compaction"]
    assert line.getMessage() == (
        "versioning compaction: 0 checkpoints written, 3 commits collapsed, 1 unreachable "
        f"commits and 0 tree entries deleted, 4 blobs ({result['blob_bytes']} bytes) freed"
    )
    assert line.compaction == result
    assert sample(removed, kind="collapsed_commits") == before["collapsed_commits"] + 3
    assert sample(removed, kind="unreachable_commits") == before["unreachable_commits"] + 1
    assert sample(removed, kind="blobs") == before["blobs"] + 4
    assert sample("oms_versioning_compaction_bytes_freed_total") == freed + result["blob_bytes"]
    assert sample("oms_versioning_compaction_runs_total", result="ok") == runs + 1


def test_the_schedule_is_a_data_migration_stewards_can_tune():
    from django_celery_beat.models import PeriodicTask

    scheduled = PeriodicTask.objects.get(task="versioning.compact")
    assert scheduled.name == "versioning: compact commits and collect garbage"
    assert scheduled.enabled
    assert json.loads(scheduled.kwargs) == {"older_than_days": 30, "grace_minutes": 60}
    cron = scheduled.crontab
    assert (cron.minute, cron.hour, cron.day_of_week, str(cron.timezone)) == ("30", "3", "*", "UTC")
    assert set(json.loads(scheduled.kwargs)) <= set(inspect.signature(tasks.compact.run).parameters)


def test_a_folded_run_keeps_only_real_changes_in_the_kept_commits_delta():
    """A run that changed an entity and changed it back, or added an entity and deleted it,
    leaves nothing of it in the kept child's delta: no empty entry in the entity's history,
    no 'removed' for an entity its new parent never had."""
    from ontology import services as ontology

    from .support import object_type

    main = seed_main(2)
    dev = services.create_branch("dev", "main", None)
    rid = rid_of(dev, "Type0")
    edit(dev, "Type0", description="for a while")
    services.commit_changes(dev, None, "describe")
    edit(dev, "Type0", description="")
    services.commit_changes(dev, None, "undescribe")
    ObjectTypeFactory(branch=dev, api_name="Passing", properties=1)
    passing = rid_of(dev, "Passing")
    mark_changed(dev.pk, passing, "objectType")
    services.commit_changes(dev, None, "add Passing")
    ontology.delete(object_type(dev, "Passing"))
    services.commit_changes(dev, None, "drop Passing")
    edit(dev, "Type1", description="kept")
    head = services.commit_changes(dev, None, "the head")
    services.archive_branch(dev, None)

    assert compaction.run(**NOW).collapsed_commits == 4
    head = Commit.objects.get(id=head.id)
    assert head.parent_id == main.head_id
    assert head.delta == {rid_of(dev, "Type1"): head.delta[rid_of(dev, "Type1")]}
    assert [h["change"] for h in services.entity_history("dev", rid)] == ["added"]
    assert services.entity_history("dev", passing) == []
    assert services.documents_at("dev") == services.documents_at(head.id)

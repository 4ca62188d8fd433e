"""The daily report of deprecations past their deadline: schedule, metric, event, admin."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django_celery_beat.models import PeriodicTask
from prometheus_client import REGISTRY

from events.models import OutboxEvent
from ontology import metrics
from ontology.deprecation import DEPRECATION_OVERDUE
from ontology.models import ObjectType, Property
from ontology.tasks import report_overdue_deprecations
from tests.factories import BranchFactory, ObjectTypeFactory, UserFactory

pytestmark = pytest.mark.django_db

TODAY = timezone.now().date()


def deprecate(row, days_left: int) -> None:
    type(row).objects.filter(pk=row.pk).update(
        status="DEPRECATED",
        deprecation_message=f"{row.api_name} goes",
        deprecation_deadline=TODAY + timedelta(days=days_left),
    )


def gauge() -> dict[str, float]:
    """The overdue gauge as Prometheus scrapes it from the default registry."""
    return {
        s.labels["branch"]: s.value
        for family in REGISTRY.collect()
        if family.name == metrics.OVERDUE
        for s in family.samples
    }


@pytest.fixture
def ontology():
    main = BranchFactory(name="main")
    late = ObjectTypeFactory(branch=main, api_name="Late", properties=2)
    deprecate(late, -10)
    soon = ObjectTypeFactory(branch=main, api_name="Soon", properties=2)
    deprecate(soon, 5)
    deprecate(Property.objects.filter(object_type=soon).order_by("position").last(), -1)
    dev = BranchFactory(name="dev")  # not protected: its deprecations are work in progress
    deprecate(ObjectTypeFactory(branch=dev, api_name="Draft"), -30)
    return main


def test_a_daily_schedule_is_created_by_the_migrations():
    task = PeriodicTask.objects.get(task="ontology.report_overdue_deprecations")
    assert task.enabled and task.crontab is not None
    assert (task.crontab.minute, task.crontab.hour, task.crontab.day_of_week) == ("0", "6", "*")


def test_the_task_reports_overdue_items_of_protected_branches_as_metric_and_event(ontology):
    assert report_overdue_deprecations() == 2
    assert gauge() == {"main": 2.0}  # what /metrics shows, in any process
    event = OutboxEvent.objects.get(type=DEPRECATION_OVERDUE)
    assert event.subject == "branches/main/deprecations"
    items = event.data["items"]
    assert [(i["kind"], i["entityKind"], i["daysOverdue"]) for i in items] == [
        ("object type", "objectType", 10),
        ("property", "property", 1),
    ]
    assert "pk" not in items[0]  # database ids stay out of events
    assert items[0]["entity"] == "Late" and items[0]["message"] == "Late goes"
    assert items[1]["entity"].startswith("Soon.")
    assert event.data["count"] == 2 and not event.data["truncated"]


def test_nothing_overdue_publishes_nothing_and_clears_the_gauge(ontology):
    report_overdue_deprecations()
    ObjectType.objects.filter(api_name="Late").update(status="ACTIVE", deprecation_deadline=None)
    Property.objects.filter(status="DEPRECATED").update(deprecation_deadline=TODAY)
    OutboxEvent.objects.all().delete()
    assert report_overdue_deprecations() == 0
    assert not OutboxEvent.objects.filter(type=DEPRECATION_OVERDUE).exists()
    assert gauge() == {}


def test_the_admin_lists_them(client, ontology):
    client.force_login(UserFactory(username="staff", is_staff=True))
    page = client.get("/admin/ontology/overdue-deprecations/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Late goes" in text and "Soon." in text and "Draft" not in text
    client.logout()
    assert client.get("/admin/ontology/overdue-deprecations/").status_code == 302

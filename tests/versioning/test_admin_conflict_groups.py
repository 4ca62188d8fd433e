"""The proposal page groups a dry run's conflicts by severity, most urgent first — BLOCK,
ERROR, WARN, INFO — with a form to resolve each ERROR (and to override each WARN), none
for BLOCK (fixed on a branch) or INFO (nothing to do); a WARN override is applied by the
merge."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from ontology import services as ontology
from ontology.models import LinkType, Property
from tests.versioning.support import delete_object_type, edit, link, seed_main
from versioning import services
from versioning.models import Branch

from .test_admin_pages import login, staff_steward

pytestmark = pytest.mark.django_db


def seats(branch: Branch) -> Property:
    """Type1's second property (not its primary key)."""
    return Property.objects.filter(branch=branch, object_type__api_name="Type1").order_by(
        "position"
    )[1]


def set_base_type(branch: Branch, base_type: str) -> None:
    prop = seats(branch)
    prop.base_type = base_type
    ontology.save(prop, system=branch.protected)


@pytest.fixture
def proposal():
    """dev against main: Type0's display name differs (ERROR), both gave it the same
    description (INFO), both widened Type1's short property differently (WARN: long), and
    dev links to Type2, which main deleted (BLOCK)."""
    author, reviewer = staff_steward("author"), staff_steward("reviewer")
    main = seed_main(3)
    set_base_type(main, "short")
    services.commit_changes(main, None, "seats are short", system=True)
    other = services.create_branch("other", "main", author)
    dev = services.create_branch("dev", "main", author)

    edit(other, "Type0", display_name="Main name", description="Same words")
    set_base_type(other, "integer")
    delete_object_type(other, "Type2")
    services.commit_changes(other, author, "main's side")
    first = services.open_proposal(other, main, "Other", author)
    services.approve(first, reviewer)
    services.merge_proposal(first, reviewer)

    edit(dev, "Type0", display_name="Dev name", description="Same words")
    set_base_type(dev, "long")
    link(dev, "toType2", "Type0", "Type2")
    services.commit_changes(dev, author, "dev's side")
    return services.open_proposal(dev, services.get_branch("main"), "Dev", author), author


def fix_the_block(open_proposal, author) -> tuple[dict, dict]:
    """Fix the BLOCK on dev (drop the link to Type2); the ERROR and WARN conflicts left."""
    dev = Branch.objects.get(name="dev")
    ontology.delete(LinkType.objects.get(branch=dev, api_name="toType2"))
    services.commit_changes(dev, author, "no link to Type2")
    run = services.dry_run(open_proposal)
    (error,) = [c for c in run["conflicts"] if c["severity"] == "ERROR"]
    (warn,) = [c for c in run["conflicts"] if c["severity"] == "WARN"]
    return error, warn


def test_conflicts_are_grouped_most_urgent_first_with_forms_where_a_choice_applies(
    client, proposal
):
    proposal, author = proposal
    login(client, author)
    response = client.get(reverse("admin:versioning_proposal_change", args=[proposal.pk]))
    assert response.status_code == 200
    groups = response.context["groups"]
    assert [g["severity"] for g in groups] == ["BLOCK", "ERROR", "WARN", "INFO"]
    by_severity = {g["severity"]: g["items"] for g in groups}
    assert [c["kind"] for c in by_severity["BLOCK"]] == ["dangling_reference"]
    assert [c["path"] for c in by_severity["ERROR"]] == [["displayName"]]
    (warn,) = by_severity["WARN"]
    assert warn["path"][-1] == "baseType" and warn["proposed"] == {
        "choice": "value",
        "value": "long",
    }
    assert [c["path"] for c in by_severity["INFO"]] == [["description"]]

    html = response.content.decode()
    order = [m.group(1) for m in re.finditer(r'<section [^>]*id="severity-(\w+)"', html)]
    assert order == ["BLOCK", "ERROR", "WARN", "INFO"]
    sections = {
        severity: html.split(f'id="severity-{severity}"')[1].split("</section>")[0]
        for severity in order
    }
    assert sections["ERROR"].count('class="oms-resolve"') == 1
    assert sections["WARN"].count('class="oms-resolve"') == 1
    assert 'value="Override"' in sections["WARN"]
    assert "oms-resolve" not in sections["BLOCK"] and "Fix this on" in sections["BLOCK"]
    assert "oms-resolve" not in sections["INFO"]


def test_a_warn_override_from_the_page_is_what_the_merge_writes(client, proposal):
    proposal, author = proposal
    error, warn = fix_the_block(proposal, author)
    services.resolve(proposal, error["id"], "theirs", None, author)

    login(client, author)
    resolve = reverse("admin:versioning_proposal_resolve", args=[proposal.pk])
    client.post(resolve, {"conflict": warn["id"], "choice": "ours"})  # keep main's integer
    reviewer = staff_steward("reviewer")
    services.approve(proposal, reviewer)
    services.merge_proposal(proposal, reviewer)
    main = services.get_branch("main")
    assert seats(main).base_type == "integer"
    assert main.head.merge_parent_id == Branch.objects.get(name="dev").head_id

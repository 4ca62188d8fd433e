"""Transitive modes over a sequence of releases, at release and at merge.

main releases 1.0.0 with ``Type0.property1`` a ``long``, 1.0.1 that deprecates it, then
2.0.0 without it (mode NONE then). The property comes back (a revert, same rid)
as an ``integer``: against 2.0.0 a new optional property, against 1.0.1 and 1.0.0 a
narrowing ``long -> integer``. BACKWARD lets it through; BACKWARD_TRANSITIVE and
FULL_TRANSITIVE refuse it, reported once, against the newest release it breaks (1.0.1).
"""

from __future__ import annotations

import pytest

from ontology import services as ontology
from tests.versioning.support import edit, seed_main, steward
from tests.versioning.test_compat_releases import (
    DEADLINE,
    change_prop,
    commit,
    prop,
    prop_names,
    set_mode,
)
from versioning import services
from versioning.compat_modes import CompatibilityError
from versioning.releases import publish_release

pytestmark = pytest.mark.django_db

ACTIVE = {"status": "ACTIVE", "deprecation_message": "", "deprecation_deadline": None}
REFUSED = {("1.0.1", "backward", "type_narrowed")}


@pytest.fixture
def history():
    """main after 1.0.0, 1.0.1 and 2.0.0; the property's name and its removal commit."""
    main = seed_main(3)
    name = prop_names(main)[1]
    change_prop(main, name, base_type="long")
    commit(main)
    assert publish_release(main, None).version == "1.0.0"
    edit(main, "Type1", description="documented")
    change_prop(
        main, name, status="DEPRECATED", deprecation_message="going", deprecation_deadline=DEADLINE
    )
    commit(main)
    assert publish_release(main, None).version == "1.0.1"
    ontology.delete(prop(main, name), system=True)
    removal = commit(main)
    assert publish_release(main, None).version == "2.0.0"
    return main, name, removal


def test_transitive_modes_check_every_earlier_release_at_publish(history):
    main, name, removal = history
    services.revert_commit(main, removal.id, None, system=True)
    main.refresh_from_db()
    change_prop(main, name, base_type="integer", **ACTIVE)
    commit(main)
    for mode in ("BACKWARD_TRANSITIVE", "FULL_TRANSITIVE"):
        set_mode(main, mode)
        with pytest.raises(CompatibilityError) as refused:
            publish_release(main, None)
        found = refused.value.findings
        assert {(f["release"], f["rule"], f["kind"]) for f in found} == REFUSED, mode
        assert found[0]["mode"] == mode and found[0]["entity"] == f"Type0.{name}"
    set_mode(main, "FULL")  # against 2.0.0 only: a new optional property
    assert publish_release(main, None).version == "2.1.0"


def test_transitive_modes_check_every_earlier_release_at_merge(history):
    main, name, removal = history
    author, reviewer = steward("author"), steward("reviewer")
    dev = services.create_branch("dev", "main", author)
    services.revert_commit(dev, removal.id, author)
    dev.refresh_from_db()
    change_prop(dev, name, base_type="integer", **ACTIVE)
    services.commit_changes(dev, author, "back as an integer")
    proposal = services.open_proposal(dev, main, "Bring it back", author)
    services.approve(proposal, reviewer)
    set_mode(main, "BACKWARD_TRANSITIVE")
    report = services.dry_run(proposal)["compatibility"]
    assert report["checkedAgainst"] == ["2.0.0", "1.0.1", "1.0.0"]
    assert {(f["release"], f["rule"], f["kind"]) for f in report["findings"]} == REFUSED
    with pytest.raises(CompatibilityError):
        services.merge_proposal(proposal, reviewer)
    set_mode(main, "BACKWARD")
    report = services.dry_run(proposal)["compatibility"]
    assert (report["checkedAgainst"], report["findings"]) == (["2.0.0"], [])
    services.merge_proposal(proposal, reviewer)

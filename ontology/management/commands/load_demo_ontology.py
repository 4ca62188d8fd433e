"""``manage.py load_demo_ontology``: load the airline demo ontology into ``main``.

The demo is the first bundle, ``ontology/demo_bundle.yaml`` (docs/bundles.md). It is
imported like any bundle (validated with the bundle rules first, written through the
workspace, each entity recorded with its working-change mark and change event) in the mode
that adds only the entities missing from the branch: an entity whose rid is already there
is left as it is, so a second run changes nothing, and a run after a steward deleted part
of the demo puts back only what is missing. The load is committed.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from ontology import bundles
from ontology.bundles_import import import_bundle, parse
from ontology.exceptions import OntologyError
from versioning.exceptions import VersioningError
from versioning.models import MAIN_BRANCH, Branch

DEMO_BUNDLE = Path(__file__).resolve().parents[2] / "demo_bundle.yaml"


def demo_bundle() -> bundles.Parsed:
    """The demo ontology, parsed."""
    return parse(bundles.loads(DEMO_BUNDLE.read_bytes()))


class Command(BaseCommand):
    help = "Load the airline demo ontology into a branch (main by default); idempotent."

    def add_arguments(self, parser):
        parser.add_argument("--branch", default=MAIN_BRANCH, help="Target branch (default main).")

    def handle(self, *args, **options):
        branch = Branch.objects.filter(name=options["branch"]).first()
        if branch is None:
            raise CommandError(f"Branch '{options['branch']}' does not exist; run migrate first.")
        parsed = demo_bundle()
        try:
            result = import_bundle(
                branch,
                parsed,
                message="Load the airline demo ontology",
                commit=True,
                system=True,
                only_missing=True,
            )
        except (OntologyError, VersioningError) as exc:
            raise CommandError(f"Could not load the demo ontology: {exc}") from exc
        if not result.created:
            self.stdout.write(
                f"The airline demo ontology is already loaded on '{branch.name}' "
                f"({len(parsed.documents)} entities); nothing to do."
            )
            return
        kinds = {d["rid"]: d["kind"] for d in parsed.documents}
        counts = Counter(kinds.get(rid, "entity") for rid in result.created)
        shown = ", ".join(f"{counts[k]} {k}" for k in bundles.KINDS if counts[k])
        self.stdout.write(
            self.style.SUCCESS(f"Loaded the airline demo ontology on '{branch.name}': {shown}.")
        )
        if result.commit is not None:
            self.stdout.write(f"Committed as {result.commit[:12]} on '{branch.name}'.")

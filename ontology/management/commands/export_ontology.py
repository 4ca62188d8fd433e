"""``manage.py export_ontology --ref REF [--format json|yaml] [--output FILE]``."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from ontology import bundles
from versioning.exceptions import VersioningError


class Command(BaseCommand):
    help = "Write the bundle of a ref (branch, commit id or release): docs/bundles.md."

    def add_arguments(self, parser):
        parser.add_argument("--ref", required=True, help="Branch, commit id or release.")
        parser.add_argument("--format", choices=bundles.FORMATS, default="json")
        parser.add_argument("--output", help="File to write (default: standard output).")

    def handle(self, *args, **options):
        try:
            bundle = bundles.export(options["ref"])
        except VersioningError as exc:
            raise CommandError(str(exc)) from exc
        text = bundles.dumps(bundle, options["format"])
        if options["output"]:
            with open(options["output"], "w", encoding="utf-8") as out:
                out.write(text)
            counts = ", ".join(f"{n} {k}" for k, n in bundle["manifest"]["counts"].items())
            self.stderr.write(f"Wrote {options['output']}: {counts}.")
        else:
            self.stdout.write(text, ending="")

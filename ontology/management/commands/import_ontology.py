"""``manage.py import_ontology FILE --branch BRANCH [--message M] [--commit]``."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from ontology import bundles
from ontology.bundles_import import import_bundle, parse
from ontology.exceptions import OntologyError
from versioning.exceptions import VersioningError
from versioning.models import Branch


class Command(BaseCommand):
    help = (
        "Make a branch's ontology exactly a bundle's (docs/bundles.md): validated first, "
        "nothing written when anything is wrong; optionally committed."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="Bundle file (JSON or YAML).")
        parser.add_argument("--branch", required=True, help="Branch to import onto.")
        parser.add_argument("--message", default="", help="Commit message (with --commit).")
        parser.add_argument("--commit", action="store_true", help="Commit the import.")
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")

    def handle(self, *args, **options):
        branch = Branch.objects.filter(name=options["branch"]).first()
        if branch is None:
            raise CommandError(f"No branch '{options['branch']}'.")
        message = options["message"] or f"Import {options['file']}"
        bar = tqdm(
            total=4,
            desc="import",
            unit="step",
            file=self.stderr._out,
            disable=options["no_progress"],
        )

        def progress(stage: str, done: int, total: int) -> None:
            bar.set_postfix_str(stage)
            bar.update(done - bar.n)

        try:
            with open(options["file"], "rb") as f:
                data = f.read(bundles.max_bytes() + 1)
            parsed = parse(bundles.loads(data))
            result = import_bundle(
                branch, parsed, message=message, commit=options["commit"], progress=progress
            )
        except bundles.BundleError as exc:
            lines = "\n".join(f"  {e['pointer'] or '/'}: {e['message']}" for e in exc.errors)
            raise CommandError(
                f"The bundle was not imported ({len(exc.errors)} errors):\n{lines}"
            ) from exc
        except (OSError, OntologyError, VersioningError) as exc:
            raise CommandError(str(exc)) from exc
        finally:
            bar.close()
        summary = result.as_dict()
        self.stdout.write(
            f"Imported onto '{branch.name}': {summary['created']} created, "
            f"{summary['updated']} updated, {summary['deleted']} deleted."
        )
        if result.commit:
            self.stdout.write(f"Committed as {result.commit[:12]}.")

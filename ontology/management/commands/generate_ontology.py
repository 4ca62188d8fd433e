"""``manage.py generate_ontology``: a large synthetic ontology, for benchmarks and load tests.

Rows are valid by construction and written with set-based inserts (``bulk_create`` in
batches, one ``UPDATE`` for the keys), not through the per-row services: 2,000 object types
with 20 properties each take seconds. What the services would do per row is done in bulk:

- the rows obey every model rule (PascalCase/camelCase names, a string primary key, a
  string title property, value types of the property's base type, foreign keys of the
  target's primary-key type);
- every created top-level rid is marked in ``versioning.WorkingChange``, so the next commit
  on the branch picks the generated entities up as added.

No per-entity change events are published: a synthetic bulk load is not a change stream
that consumers follow; the commit of the branch announces it like any other commit.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable, Iterator

from django.core.management.base import BaseCommand, CommandError
from django.db import models, transaction
from django.db.models import OuterRef, Subquery
from tqdm import tqdm

from ontology import rules
from ontology.models import LinkType, ObjectType, Property, ValueType
from versioning.changes import mark_changed_many
from versioning.models import MAIN_BRANCH, Branch

BATCH_SIZE = 2000
#: one object type in LINK_EVERY has a 1:N link to the previous one; one in M2M_EVERY an M:N
LINK_EVERY = 10
M2M_EVERY = 50
#: the base types the generated properties cycle through (after the key and the title)
CYCLE = ("string", "integer", "long", "double", "boolean", "date", "timestamp", "decimal")


def value_types(prefix: str) -> list[ValueType]:
    """A few value types the generated properties use: one per constrained base type."""
    return [
        ValueType(
            api_name=f"{prefix}Code",
            display_name=f"{prefix} code",
            description="Generated: an upper-case code of 2 to 12 characters.",
            base_type="string",
            constraints={"regex": {"pattern": "^[A-Z0-9]{2,12}$"}, "length": {"max": 12}},
        ),
        ValueType(
            api_name=f"{prefix}Score",
            display_name=f"{prefix} score",
            description="Generated: a score from 0 to 100.",
            base_type="double",
            constraints={"range": {"min": 0, "max": 100}},
        ),
        ValueType(
            api_name=f"{prefix}Count",
            display_name=f"{prefix} count",
            description="Generated: a non-negative count.",
            base_type="integer",
            constraints={"range": {"min": 0}},
        ),
        ValueType(
            api_name=f"{prefix}Level",
            display_name=f"{prefix} level",
            description="Generated: one of three levels, compared case-insensitively.",
            base_type="string",
            constraints={"enum": {"values": ["LOW", "MEDIUM", "HIGH"], "caseInsensitive": True}},
        ),
    ]


def batched(rows: list, size: int) -> Iterator[list]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


class Command(BaseCommand):
    help = (
        "Generate a large synthetic ontology with set-based inserts: N object types with M "
        "properties each, a few value types and link types."
    )

    def add_arguments(self, parser):
        parser.add_argument("--object-types", type=int, required=True, metavar="N")
        parser.add_argument(
            "--properties",
            type=int,
            required=True,
            metavar="M",
            help="Properties per object type, including the primary key and title (>= 3).",
        )
        parser.add_argument("--branch", default=MAIN_BRANCH)
        parser.add_argument(
            "--prefix",
            default="Gen",
            help="PascalCase prefix of every generated api name (default Gen).",
        )
        parser.add_argument("--batch-size", type=int, default=BATCH_SIZE)

    def handle(self, *args, **options):
        n, m, prefix = options["object_types"], options["properties"], options["prefix"]
        if n < 1 or m < 3:
            raise CommandError("Use --object-types >= 1 and --properties >= 3.")
        problems = rules.check_api_name(f"{prefix}{n}", rules.PASCAL)
        if problems:
            raise CommandError(f"--prefix '{prefix}' cannot start an api name: {problems[0]}")
        branch = Branch.objects.filter(name=options["branch"]).first()
        if branch is None:
            raise CommandError(
                f"Branch '{options['branch']}' does not exist; create it first (see the "
                "branches API or admin)."
            )
        if branch.archived:
            raise CommandError(f"Branch '{branch.name}' is archived and cannot change.")
        started = time.perf_counter()
        self.batch_size = options["batch_size"]
        with transaction.atomic():
            counts = self.generate(branch, n, m, prefix)
        elapsed = time.perf_counter() - started
        shown = ", ".join(f"{count} {name}" for name, count in counts.items())
        self.stdout.write(
            self.style.SUCCESS(f"Generated on '{branch.name}' in {elapsed:.1f} s: {shown}.")
        )

    # --- the plan ----------------------------------------------------------------------

    def refuse_collisions(self, branch: Branch, model: type[models.Model], names: list[str]):
        wanted = {name.lower() for name in names}
        taken = sorted(
            name
            for name in model._default_manager.filter(branch=branch).values_list(
                "api_name", flat=True
            )
            if name.lower() in wanted
        )
        if taken:
            more = f" and {len(taken) - 5} more" if len(taken) > 5 else ""
            raise CommandError(
                f"{len(taken)} {model._meta.verbose_name} api name(s) already exist on "
                f"'{branch.name}': {', '.join(taken[:5])}{more}. Use another --prefix."
            )

    def generate(self, branch: Branch, n: int, m: int, prefix: str) -> dict[str, int]:
        width = len(str(n))
        names = [f"{prefix}{i:0{width}d}" for i in range(1, n + 1)]
        vts = value_types(prefix)
        links = [(i, i - 1, "ONE_TO_MANY") for i in range(1, n) if i % LINK_EVERY == 0]
        links += [(i, i - 2, "MANY_TO_MANY") for i in range(2, n) if i % M2M_EVERY == 1]
        link_names = [
            f"{prefix.lower()}{i}{'Parent' if c != 'MANY_TO_MANY' else 'Peers'}"
            for i, _, c in links
        ]
        self.refuse_collisions(branch, ObjectType, names)
        self.refuse_collisions(branch, ValueType, [v.api_name for v in vts])
        self.refuse_collisions(branch, LinkType, link_names)

        fk_sources = {source for source, _, card in links if card != "MANY_TO_MANY"}
        total = len(vts) + n + n * m + len(links) + 1
        progress = tqdm(total=total, unit="row", desc="generate_ontology", file=self.stderr)
        try:
            for vt in vts:
                vt.branch, vt.rid = branch, uuid.uuid4()
            self.insert(ValueType, vts, progress)
            code, score, count, level = vts

            ots = [
                ObjectType(
                    branch=branch,
                    rid=uuid.uuid4(),
                    api_name=name,
                    display_name=f"{prefix} object {i + 1}",
                    plural_display_name=f"{prefix} objects {i + 1}",
                    description=f"Generated object type {i + 1} of {n}.",
                    icon="box",
                )
                for i, name in enumerate(names)
            ]
            self.insert(ObjectType, ots, progress)

            props: list[Property] = []
            for i, ot in enumerate(ots):
                props.extend(self.properties(ot, m, i in fk_sources, (code, score, count, level)))
            self.insert(Property, props, progress)

            first = Property.objects.filter(object_type=OuterRef("pk"))
            ObjectType.objects.filter(pk__in=[ot.pk for ot in ots]).update(
                primary_key=Subquery(first.filter(position=0).values("pk")[:1]),
                title_property=Subquery(first.filter(position=1).values("pk")[:1]),
            )
            progress.update(1)

            fk_of = {p.object_type_id: p for p in props if p.api_name == "parentKey"}
            link_rows = []
            for (source, target, card), name in zip(links, link_names, strict=True):
                many = card == "MANY_TO_MANY"
                link_rows.append(
                    LinkType(
                        branch=branch,
                        rid=uuid.uuid4(),
                        api_name=name,
                        description=f"Generated {card.lower().replace('_', '-')} link.",
                        cardinality=card,
                        source=ots[source],
                        target=ots[target],
                        source_api_name="peers" if many else "parent",
                        source_display_name="Peers" if many else "Parent",
                        target_api_name="peerOf" if many else "children",
                        target_display_name="Peer of" if many else "Children",
                        foreign_key_property=None if many else fk_of[ots[source].pk],
                    )
                )
            self.insert(LinkType, link_rows, progress)

            mark_changed_many(
                branch.pk,
                ((row.rid, row.kind) for row in (*vts, *ots, *link_rows)),
                batch_size=self.batch_size,
            )
        finally:
            progress.close()
        return {
            "value types": len(vts),
            "object types": len(ots),
            "properties": len(props),
            "link types": len(link_rows),
            "working changes": len(vts) + len(ots) + len(link_rows),
        }

    def properties(
        self, ot: ObjectType, m: int, has_fk: bool, vts: tuple[ValueType, ...]
    ) -> Iterable[Property]:
        """The M properties of one object type: key, title, then a cycle of base types."""
        code, score, count, level = vts

        def make(position: int, api_name: str, base_type: str, **extra) -> Property:
            return Property(
                branch=ot.branch,
                rid=uuid.uuid4(),
                object_type=ot,
                api_name=api_name,
                display_name=api_name,
                description=f"Generated {base_type} property.",
                base_type=base_type,
                position=position,
                **extra,
            )

        yield make(0, "key", "string", required=True, value_type=code)
        yield make(1, "name", "string", required=True)
        start = 2
        if has_fk:
            yield make(2, "parentKey", "string", value_type=code)
            start = 3
        for position in range(start, m):
            base_type = CYCLE[position % len(CYCLE)]
            value_type = {"double": score, "integer": count}.get(base_type)
            if base_type == "string" and position % 3 == 0:
                value_type = level
            yield make(position, f"{base_type}{position:03d}", base_type, value_type=value_type)

    def insert(self, model: type[models.Model], rows: list, progress: tqdm) -> None:
        for batch in batched(rows, self.batch_size):
            model._default_manager.bulk_create(batch)
            progress.update(len(batch))

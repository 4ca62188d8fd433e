"""Merge engine figures: ``merge3`` on a synthetic ontology, small and large.

    .venv/bin/python -m bench.merge_engine [--runs 50] [--json-out bench/results/merge_engine.json]

Builds in memory, in the docs/documents.md shape, an ontology of 200 object types with
4,000 properties and one of 2,000 with 40,000 (plus link, value, struct and shared-property
types and interfaces), changes 200 entities on each side of which 50 on both, and times
``merge3`` with the ontology policy, passing the changed rids as callers with content
hashes do. Prints p50/p95 per size, the large/small ratio, then the same as one JSON line.
Target: p95 <= 50 ms, large/small <= 1.5.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import time
import uuid
from pathlib import Path
from typing import Any

from ontology.merge_policy import OntologyPolicy
from tests.versioning.domain.builders import (
    interface,
    link_type,
    object_type,
    prop,
    shared_property,
    struct_field,
    struct_type,
    value_type,
    with_changes,
    with_prop,
)
from versioning.domain import Severity, merge3

PROPS_PER_TYPE = 20
CHANGED_PER_SIDE = 200
CONFLICTING = 50
Tree = dict[str, Any]


def rid(kind: str, n: int) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_OID, f"{kind}{n}"))


def build(object_types: int) -> tuple[Tree, list[str], list[str]]:
    """The base tree, the object type rids and the value type rids."""
    tree: Tree = {}
    vts = [rid("vt", i) for i in range(object_types // 10)]
    for i, vt in enumerate(vts):
        tree[vt] = value_type(vt, f"Code{i}", "string", {"enum": {"values": ["a", "b", "c"]}})
    for i in range(object_types // 20):
        st = rid("st", i)
        tree[st] = struct_type(
            st, f"Address{i}", {rid(st, j): struct_field(f"line{j}") for j in range(4)}
        )
        sp = rid("sp", i)
        tree[sp] = shared_property(sp, f"createdAt{i}", "timestamp")
        itf = rid("if", i)
        tree[itf] = interface(itf, f"Trackable{i}", properties=(sp,))
    ots = [rid("ot", i) for i in range(object_types)]
    for i, ot in enumerate(ots):
        props = {}
        for j in range(PROPS_PER_TYPE):
            extra = {"valueType": vts[(i + j) % len(vts)]} if j == 3 else {}
            props[rid(ot, j)] = prop(f"field{j}", "short" if j == 2 else "string", j, **extra)
        tree[ot] = object_type(ot, f"Type{i}", props)
    for i in range(object_types):
        lt = rid("lt", i)
        source, target = ots[i], ots[(i * 7 + 1) % object_types]
        tree[lt] = link_type(lt, f"link{i}", source, target, fk=rid(source, 1))
    return tree, ots, vts


def change(doc: dict[str, Any], side: str, n: int) -> dict[str, Any]:
    """One side's edit of an entity, varied by ``n``."""
    if doc["kind"] != "objectType":
        return with_changes(doc, description=f"{side} {n}")
    props = list(doc["properties"])
    match n % 4:
        case 0:
            return with_changes(doc, description=f"{side} {n}")
        case 1:
            return with_prop(doc, rid(doc["rid"] + side, n), **prop(f"{side}Extra{n}"))
        case 2:
            return with_prop(doc, props[5], apiName=f"{side}Renamed{n}")
        case _:
            return with_prop(doc, props[2], baseType="integer")


def conflicting(doc: dict[str, Any], side: str, n: int) -> dict[str, Any]:
    """Both sides' edits of the same entity: ERROR, WARN or INFO depending on ``n``."""
    if doc["kind"] == "valueType":  # enum union (WARN)
        return with_changes(doc, constraints={"enum": {"values": ["a", "b", "c", side]}})
    props = list(doc["properties"])
    match n % 3:
        case 0:  # two display names (ERROR)
            return with_changes(doc, displayName=f"{side} {n}")
        case 1:  # short -> integer vs short -> long (WARN)
            return with_prop(doc, props[2], baseType="integer" if side == "ours" else "long")
        case _:  # the same description (INFO) plus a field each side (clean)
            return with_prop(
                with_changes(doc, description="same"),
                props[6 if side == "ours" else 7],
                description=side,
            )


def scenario(object_types: int, structural: bool) -> tuple[Tree, Tree, Tree, set[str]]:
    """The same change on either size: 200 entities per side, 50 of them on both.

    ``structural``: of theirs' own changes, five rename their object type and two delete
    one that link types point at, so the policy scans the tree for names and referrers.
    """
    base, ots, vts = build(object_types)
    links = [r for r, d in base.items() if d["kind"] == "linkType"]
    deleted = links[-5:]  # theirs deletes five link types: nothing points at a link type
    mixed = [r for pair in zip(ots, links[:-5], strict=False) for r in pair]
    wanted = 2 * CHANGED_PER_SIDE - CONFLICTING
    pool = mixed[:: max(1, len(mixed) // wanted)][:wanted]
    both = [r for r in pool if base[r]["kind"] == "objectType"][: CONFLICTING - 10] + vts[:10]
    rest = [r for r in pool if r not in set(both)]
    ours_only = rest[: CHANGED_PER_SIDE - CONFLICTING]
    theirs_only = rest[CHANGED_PER_SIDE - CONFLICTING :][: CHANGED_PER_SIDE - CONFLICTING - 5]
    ours, theirs = dict(base), dict(base)
    for n, r in enumerate(both):
        ours[r] = conflicting(base[r], "ours", n)
        theirs[r] = conflicting(base[r], "theirs", n)
    for n, r in enumerate(ours_only):
        ours[r] = change(base[r], "ours", n)
    for n, r in enumerate(theirs_only):
        theirs[r] = change(base[r], "theirs", n)
    for r in deleted:
        del theirs[r]
    if structural:
        for n, r in enumerate(theirs_only[:5]):
            theirs[r] = with_changes(base[r], apiName=f"Renamed{n}")
        for r in theirs_only[5:7]:
            del theirs[r]
    changed = set(both) | set(ours_only) | set(theirs_only) | set(deleted)
    return base, ours, theirs, changed


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 3)


def measure(runs: int, structural: bool) -> dict[str, Any]:
    """Both sizes, their runs interleaved so that load on the machine hits both alike."""
    sizes = {"small": 200, "large": 2000}
    cases = {name: scenario(n, structural) for name, n in sizes.items()}
    gc.collect()
    gc.freeze()  # the bench's own 40,000 property dicts are not the merge's cost
    policy = OntologyPolicy()
    wall: dict[str, list[float]] = {name: [] for name in sizes}
    cpu: dict[str, list[float]] = {name: [] for name in sizes}
    results = {}
    for _ in range(runs):
        for name, (base, ours, theirs, changed) in cases.items():
            start, start_cpu = time.perf_counter(), time.process_time()
            results[name] = merge3(base, ours, theirs, policy, changed=changed)
            cpu[name].append((time.process_time() - start_cpu) * 1000)
            wall[name].append((time.perf_counter() - start) * 1000)
    gc.unfreeze()
    report: dict[str, Any] = {}
    for name, n in sizes.items():
        base, _, _, changed = cases[name]
        result = results[name]
        report[name] = {
            "objectTypes": n,
            "properties": sum(
                len(d["properties"]) for d in base.values() if d["kind"] == "objectType"
            ),
            "documents": len(base),
            "changedRids": len(changed),
            "conflicts": {s.value: len(result.by_severity(s)) for s in Severity},
            "treeChanges": len(result.tree_changes),
            "runs": runs,
            "p50Ms": round(statistics.median(wall[name]), 3),
            "p95Ms": percentile(wall[name], 0.95),
            "cpuP50Ms": round(statistics.median(cpu[name]), 3),
            "cpuP95Ms": percentile(cpu[name], 0.95),
        }
    small, large = report["small"], report["large"]
    report["ratioP50"] = round(large["p50Ms"] / small["p50Ms"], 2)
    report["ratioP95"] = round(large["p95Ms"] / small["p95Ms"], 2)
    report["cpuRatioP50"] = round(large["cpuP50Ms"] / small["cpuP50Ms"], 2)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--json-out", type=Path)
    args = parser.parse_args()
    report: dict[str, Any] = {"bench": "merge_engine", "targetP95Ms": 50, "targetRatio": 1.5}
    for name, structural in (("edits", False), ("structural", True)):
        report[name] = part = measure(args.runs, structural)
        print(f"{name}:")
        for size in ("small", "large"):
            r = part[size]
            print(
                f"  {size:5}: {r['objectTypes']} object types, {r['properties']} properties, "
                f"{r['documents']} documents; {r['changedRids']} changed rids; "
                f"conflicts {r['conflicts']}; merge3 p50 {r['p50Ms']:.2f} ms, "
                f"p95 {r['p95Ms']:.2f} ms (cpu p50 {r['cpuP50Ms']:.2f} ms) over {r['runs']} runs"
            )
        print(
            f"  large/small: p50 x{part['ratioP50']}, p95 x{part['ratioP95']}, "
            f"cpu p50 x{part['cpuRatioP50']}"
        )
    print(json.dumps(report))
    if args.json_out:
        args.json_out.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()

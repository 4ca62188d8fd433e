"""What the merge engine asks of a domain policy, and the values they exchange."""

from __future__ import annotations

from collections.abc import Mapping, Set
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal, Protocol


class _Missing:
    """A key that is absent (deleted or never there), as opposed to a ``null`` value."""

    _instance: _Missing | None = None

    def __new__(cls) -> _Missing:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Any = _Missing()

Path = tuple[str, ...]


class Severity(StrEnum):
    INFO = "INFO"
    WARN = "WARN"
    ERROR = "ERROR"
    BLOCK = "BLOCK"


@dataclass(frozen=True)
class Resolution:
    """How a conflict is settled: take ours, take theirs, or an edited ``value``.

    ``value`` may be :data:`MISSING` to delete the key (strategies use this for an
    unbounded constraint).
    """

    choice: Literal["ours", "theirs", "value"]
    value: Any = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"choice": self.choice}
        if self.choice == "value":
            out["value"] = None if self.value is MISSING else self.value
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Resolution:
        return cls(data["choice"], data.get("value"))


@dataclass(frozen=True)
class Problem:
    """A rule the merged tree breaks; the engine reports it as a BLOCK conflict."""

    rid: str
    path: Path
    kind: Literal["dangling_reference", "rule_violation"]
    message: str


class Policy(Protocol):
    """Domain rules the engine consults; ``ontology.merge_policy`` implements it."""

    def resolve(
        self, entity_kind: str, path: Path, base: Any, ours: Any, theirs: Any
    ) -> Resolution | None:
        """A strategy's automatic resolution (reported as WARN), or ``None``.

        Called wherever both sides changed a value differently, before the engine
        recurses into dicts; any of the three may be :data:`MISSING`.
        """

    def validate_tree(self, tree: Any, changed: Set[str]) -> list[Problem]:
        """Problems of the merged tree (a :class:`~versioning.domain.merge.MergedView`).

        ``changed`` holds the rids whose merged document differs from ours' (the target's,
        which was valid): the check should cost in proportion to them and to what
        references them, not to the whole tree. A rid either side changed but the merge
        leaves as ours has it is not in ``changed``: it lands nothing new.
        """

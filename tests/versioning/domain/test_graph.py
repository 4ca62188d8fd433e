import pytest

from versioning.domain import CommitNode, is_ancestor, merge_base, merge_bases


class Dag:
    """Commits built from ``{id: parents}`` in topological order; counts reads."""

    def __init__(self, edges: dict[str, tuple[str, ...]]) -> None:
        self.commits: dict[str, CommitNode] = {}
        for cid, parents in edges.items():
            gen = 1 + max((self.commits[p].generation for p in parents), default=0)
            self.commits[cid] = CommitNode(cid, parents, gen)
        self.reads: set[str] = set()

    def __call__(self, cid: str) -> CommitNode:
        self.reads.add(cid)
        return self.commits[cid]


def linear(n: int, prefix: str = "c", start: str | None = None) -> dict[str, tuple[str, ...]]:
    edges = {}
    prev = start
    for i in range(n):
        cid = f"{prefix}{i}"
        edges[cid] = (prev,) if prev else ()
        prev = cid
    return edges


def test_fork():
    dag = Dag({"a": (), "b": ("a",), "x": ("b",), "y": ("b",), "y2": ("y",)})
    assert merge_base("x", "y2", dag) == "b"
    assert merge_base("y2", "x", dag) == "b"


def test_same_commit_and_ancestor():
    dag = Dag({"a": (), "b": ("a",), "c": ("b",)})
    assert merge_base("c", "c", dag) == "c"
    assert merge_base("a", "c", dag) == "a"
    assert merge_base("c", "a", dag) == "a"


def test_after_a_merge_the_base_is_the_merged_tip():
    # main: a - b - m ; feature: a - f1 - f2, merged into main at m, then f3 on feature
    dag = Dag({"a": (), "b": ("a",), "f1": ("a",), "f2": ("f1",), "m": ("b", "f2"), "f3": ("f2",)})
    assert merge_base("m", "f3", dag) == "f2"


def test_criss_cross_has_two_bases():
    #   a - b - x1 - x2      x1 = merge(b, c), y1 = merge(c, b)
    #    \    X
    #     c - y1 - y2
    dag = Dag(
        {"a": (), "b": ("a",), "c": ("a",), "x1": ("b", "c"), "y1": ("c", "b"), "x2": ("x1",)}
        | {"y2": ("y1",)}
    )
    assert sorted(merge_bases("x2", "y2", dag)) == ["b", "c"]
    assert merge_base("x2", "y2", dag) in {"b", "c"}
    assert merge_base("x2", "y2", dag) == merge_base("y2", "x2", dag)


def test_unrelated_histories():
    dag = Dag({"a": (), "b": ("a",), "z": (), "z2": ("z",)})
    assert merge_base("b", "z2", dag) is None


def test_walk_stops_at_the_base():
    edges = linear(5000)
    edges |= linear(3, "x", start="c4999") | linear(3, "y", start="c4999")
    dag = Dag(edges)
    assert merge_base("x2", "y2", dag) == "c4999"
    assert len(dag.reads) < 20


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [("a", "m", True), ("f1", "m", True), ("m", "f1", False), ("b", "f1", False), ("b", "b", True)],
)
def test_is_ancestor(a, b, expected):
    dag = Dag({"a": (), "b": ("a",), "f1": ("a",), "m": ("b", "f1")})
    assert is_ancestor(a, b, dag) is expected


def test_is_ancestor_skips_older_history():
    edges = linear(5000)
    edges |= linear(3, "x", start="c4999")
    dag = Dag(edges)
    assert not is_ancestor("x0", "c4999", dag)
    assert is_ancestor("c4998", "x2", dag)
    assert len(dag.reads) < 20

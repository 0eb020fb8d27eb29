"""`npm_guard._record` behaves as `dataclasses` does, for every option npm-guard uses."""

from __future__ import annotations

import pytest

from npm_guard._record import FrozenInstanceError, dataclass, field, replace


@dataclass(frozen=True)
class Point:
    x: int
    y: int = 0
    tags: tuple[str, ...] = ()
    note: str = field(default="", compare=False)


@dataclass
class Box:
    items: list[int] = field(default_factory=list)


def test_init_defaults_and_factories() -> None:
    assert Point(1) == Point(x=1, y=0)
    assert Point(1).tags == ()
    assert Box().items == [] and Box().items is not Box().items
    with pytest.raises(TypeError):
        Point()  # type: ignore[call-arg]


def test_frozen_records_refuse_assignment_and_hash_their_fields() -> None:
    point = Point(1, 2, (), "a")
    with pytest.raises(FrozenInstanceError):
        point.x = 3  # type: ignore[misc]
    assert hash(Point(1, 2, (), "a")) == hash(Point(1, 2, (), "b"))
    with pytest.raises(TypeError):
        hash(Box())


def test_a_field_left_out_of_comparison() -> None:
    assert Point(1, 2, (), "one note") == Point(1, 2, (), "another")
    assert Point(1, 2, (), "a") != Point(1, 3, (), "a")
    assert {Point(1, note="a")} == {Point(1, note="b")}


def test_replace_keeps_the_other_fields() -> None:
    changed = replace(Point(1, 2, ("t",), "n"), y=5)
    assert (changed.x, changed.y, changed.tags, changed.note) == (1, 5, ("t",), "n")
    with pytest.raises(TypeError):
        replace(Point(1), z=1)


@pytest.mark.parametrize("phase", ["field by field", "compiled"])
def test_init_is_the_same_before_and_after_it_is_compiled(phase: str) -> None:
    @dataclass(frozen=True)
    class Item:
        name: str
        size: int = 1
        parts: list[str] = field(default_factory=list)

    if phase == "compiled":
        for _ in range(40):
            Item("warm-up")
        assert "_init_fields" not in Item.__init__.__code__.co_names
    made = [Item("a"), Item("b", 2), Item(name="c", parts=["p"]), Item("d", size=4)]
    assert [(i.name, i.size, i.parts) for i in made] == [
        ("a", 1, []),
        ("b", 2, []),
        ("c", 1, ["p"]),
        ("d", 4, []),
    ]
    assert made[0].parts is not made[1].parts
    for bad_call in (
        lambda: Item(),  # type: ignore[call-arg]
        lambda: Item("a", 1, [], "extra"),  # type: ignore[call-arg]
        lambda: Item("a", name="b"),  # type: ignore[misc]
        lambda: Item("a", colour="red"),  # type: ignore[call-arg]
    ):
        with pytest.raises(TypeError):
            bad_call()


def test_repr_names_the_fields() -> None:
    assert repr(Point(1, 2, (), "n")) == "Point(x=1, y=2, tags=(), note='n')"


@pytest.mark.parametrize("frozen", [False, True])
def test_a_compiled_init_assigns_as_the_class_allows(frozen: bool) -> None:
    # A plain class gets `self.x = x` (fast); a frozen one must still refuse assignment
    # after its __init__ is compiled.
    @dataclass(frozen=frozen)
    class Node:
        line: int
        children: list[int] = field(default_factory=list)

    made = [Node(n) for n in range(40)]
    assert "_init_fields" not in Node.__init__.__code__.co_names
    assert [node.line for node in made] == list(range(40))
    assert made[-1].children == [] and made[-1].children is not made[-2].children
    if frozen:
        with pytest.raises(FrozenInstanceError):
            made[-1].line = 0  # type: ignore[misc]
    else:
        made[-1].line = 0
        assert made[-1].line == 0

"""The records of boards, each declared once: its fields (a TypedDict), how it
sits in its Redis hash, and how a row read back becomes JSON.

Lua scripts take the hash's field names from here (in their one JSON argument),
selectors and services shape rows with it, and docs/openapi.yaml lists the same
fields (tests/boards/test_records.py checks it).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NotRequired, TypedDict


class Post(TypedDict):
    """A post as the API and the live feed give it."""

    id: str
    topic: NotRequired[str]  # a post has a topic or a room, never both
    room: NotRequired[str]
    author: str
    blob: str
    created_at: int  # Unix seconds
    expires_at: int
    comment_count: int  # counted from the post's comment zset, not stored
    cursor: str  # the post's unique, time-ordered score, as digits


class Comment(TypedDict):
    """A comment as the API and the live feed give it."""

    id: str
    post: str
    author: str
    blob: str
    created_at: int
    expires_at: int
    cursor: str


# Ids, slugs, room ids, names, base64 blobs and digits: JSON writes them as they are.
_PLAIN = re.compile(rb"[A-Za-z0-9+/=._:-]*")


def text(value: bytes | str | int | None) -> str:
    """A value read from Redis as a string ("" when absent)."""
    if value is None:
        return ""
    return value.decode() if isinstance(value, bytes) else str(value)


@dataclass(frozen=True)
class Record:
    """How one record maps between its TypedDict (JSON) and its Redis hash.

    A row is what a read returns: the values of ``stored`` (hash fields, in
    order), then those of ``counted`` (JSON fields computed by the read).
    """

    shape: type
    stored: tuple[str, ...]
    counted: tuple[str, ...] = ()
    renamed: Mapping[str, str] = field(default_factory=dict)  # hash field -> JSON field
    one_of: tuple[str, ...] = ()  # JSON fields of which a record has exactly one
    integers: frozenset[str] = frozenset()  # JSON fields that are numbers
    _template: bytes = field(init=False, repr=False)
    _plan: tuple[tuple[str, int], ...] = field(init=False, repr=False)
    _one_of_at: tuple[int, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        read = [self.renamed.get(name, name) for name in (*self.stored, *self.counted)]
        if sorted(read) != sorted(self.fields):
            raise ValueError(f"{self.shape.__name__}: a read must give every field")
        index = {name: i for i, name in enumerate(read)}
        parts, plan = [], []
        for name in self.fields:
            if name in self.one_of:
                if name == self.one_of[0]:
                    parts.append(b'"%s": "%s"')
                    plan.append(("one_of", -1))
            elif name in self.integers:
                parts.append(b'"' + name.encode() + b'": %d')
                plan.append(("int", index[name]))
            else:
                parts.append(b'"' + name.encode() + b'": "%s"')
                plan.append(("text", index[name]))
        object.__setattr__(self, "_template", b"{" + b", ".join(parts) + b"}")
        object.__setattr__(self, "_plan", tuple(plan))
        object.__setattr__(self, "_one_of_at", tuple(index[name] for name in self.one_of))

    @property
    def fields(self) -> tuple[str, ...]:
        """The JSON fields, in the order the API writes them."""
        return tuple(self.shape.__annotations__)

    def to_hash(self, values: Mapping[str, Any]) -> list[str]:
        """The hash's field/value pairs (HSET's arguments) for the stored fields
        given, in declared order; an empty ``one_of`` field is left out."""
        pairs: list[str] = []
        for name in self.stored:
            value = values.get(self.renamed.get(name, name))
            if value is None or value == "" and self.renamed.get(name, name) in self.one_of:
                continue
            pairs += [name, str(value)]
        return pairs

    def from_hash(self, values: Mapping[str | bytes, Any]) -> dict[str, Any]:
        """The JSON record from hash fields (as HGETALL gives them, or by JSON name)
        and counted values."""
        found = {}
        for name, value in values.items():
            name = name.decode() if isinstance(name, bytes) else name
            found[self.renamed.get(name, name)] = value
        record: dict[str, Any] = {}
        for name in self.fields:
            value = found.get(name)
            if name in self.one_of:
                if text(value):
                    record[name] = text(value)
            elif name in self.integers:
                record[name] = int(value)  # type: ignore[arg-type]
            else:
                record[name] = text(value)
        return record

    def from_row(self, row: Sequence[Any]) -> dict[str, Any]:
        """The JSON record from a row (see the class docstring)."""
        return self.from_hash(dict(zip((*self.stored, *self.counted), row, strict=True)))

    def row_json(self, row: Sequence[Any]) -> bytes | None:
        """The record as ``json.dumps`` writes it, straight from a row of bytes and
        numbers, or None when a value would need escaping (then use json.dumps)."""
        values: list[Any] = []
        for kind, at in self._plan:
            if kind == "one_of":
                for name, i in zip(self.one_of, self._one_of_at, strict=True):
                    if row[i]:
                        values += [name.encode(), row[i]]
                        break
                else:
                    return None
            elif kind == "int":
                values.append(int(row[at]))
            else:
                values.append(row[at])
        if not _PLAIN.fullmatch(b"".join(v for v in values if isinstance(v, bytes))):
            return None
        return self._template % tuple(values)


POST = Record(
    shape=Post,
    stored=("id", "topic", "room", "author", "blob", "created_at", "expires_at", "score"),
    counted=("comment_count",),
    renamed={"score": "cursor"},
    one_of=("topic", "room"),
    integers=frozenset({"created_at", "expires_at", "comment_count"}),
)

COMMENT = Record(
    shape=Comment,
    stored=("id", "post", "author", "blob", "created_at", "expires_at", "score"),
    renamed={"score": "cursor"},
    integers=frozenset({"created_at", "expires_at"}),
)

HIDDEN = "hidden"  # a hash field moderation sets on a hidden post or comment

"""The records of boards, each declared once: its fields (a TypedDict), how it
sits in its Redis hash, and how a row read back becomes JSON.

Lua scripts take the hash's field names from here (in their one JSON argument),
selectors and services shape rows with it, and docs/openapi.yaml lists the same
fields (tests/boards/test_records.py checks it).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any, Generic, NotRequired, TypedDict, TypeVar, cast


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


# A record's TypedDict (Post, Comment).
R = TypeVar("R", bound=Mapping[str, object])


@dataclass(frozen=True)
class Record(Generic[R]):
    """How one record maps between its TypedDict (JSON) and its Redis hash.

    A row is what a read returns: the values of ``stored`` (hash fields, in
    order), then those of ``counted`` (JSON fields computed by the read).
    """

    shape: type[R]
    stored: tuple[str, ...]
    counted: tuple[str, ...] = ()
    renamed: Mapping[str, str] = field(default_factory=dict)  # hash field -> JSON field
    one_of: tuple[str, ...] = ()  # JSON fields of which a record has exactly one
    integers: frozenset[str] = frozenset()  # JSON fields that are numbers
    _template: bytes = field(init=False, repr=False)
    _values: Callable[[Sequence[Any]], tuple[Any, ...]] = field(init=False, repr=False)
    _ints: tuple[int, ...] = field(init=False, repr=False)  # positions in _values(row)
    _texts: Callable[[Sequence[Any]], tuple[Any, ...]] = field(init=False, repr=False)
    _one_of_at: tuple[tuple[bytes, int], ...] = field(init=False, repr=False)
    _one_of_slot: int = field(init=False, repr=False)

    def __post_init__(self) -> None:
        read = [self.renamed.get(name, name) for name in (*self.stored, *self.counted)]
        if sorted(read) != sorted(self.fields):
            raise ValueError(f"{self.shape.__name__}: a read must give every field")
        index = {name: i for i, name in enumerate(read)}
        # The JSON bytes of a row, precompiled: one template, fixed row positions.
        parts: list[bytes] = []
        values: list[int] = []  # row positions, in template order
        ints: list[int] = []  # positions in values
        slot = 0
        for name in self.fields:
            if name in self.one_of:
                if name == self.one_of[0]:
                    parts.append(b'"%s": "%s"')
                    slot = len(values)
                continue
            if name in self.integers:
                parts.append(b'"' + name.encode() + b'": %d')
                ints.append(len(values))
            else:
                parts.append(b'"' + name.encode() + b'": "%s"')
            values.append(index[name])
        texts = [index[n] for n in self.fields if n not in self.integers]
        setattr_ = object.__setattr__
        setattr_(self, "_template", b"{" + b", ".join(parts) + b"}")
        setattr_(self, "_values", _getter(values))
        setattr_(self, "_ints", tuple(ints))
        setattr_(self, "_texts", _getter(texts))
        setattr_(self, "_one_of_at", tuple((n.encode(), index[n]) for n in self.one_of))
        setattr_(self, "_one_of_slot", slot)

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

    def from_hash(self, values: Mapping[str, Any] | Mapping[bytes, Any]) -> R:
        """The JSON record from hash fields (as HGETALL gives them, or by JSON name)
        and counted values."""
        found: dict[str, Any] = {}
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
                record[name] = int(found[name])  # always given: rows and writes carry them
            else:
                record[name] = text(value)
        # Every field of shape, each of its type (__post_init__ checked the names).
        return cast(R, record)

    def from_row(self, row: Sequence[Any]) -> R:
        """The JSON record from a row (see the class docstring)."""
        return self.from_hash(dict(zip((*self.stored, *self.counted), row, strict=True)))

    def row_json(self, row: Sequence[Any]) -> bytes | None:
        """The record as ``json.dumps`` writes it, straight from a row of bytes and
        numbers, or None when a value would need escaping (then use json.dumps)."""
        if not _PLAIN.fullmatch(b"".join(self._texts(row))):
            return None
        values = list(self._values(row))
        for at in self._ints:
            values[at] = int(values[at])
        if self._one_of_at:
            for name, at in self._one_of_at:
                if row[at]:
                    values[self._one_of_slot : self._one_of_slot] = (name, row[at])
                    break
            else:
                return None
        return self._template % tuple(values)


def _getter(indexes: list[int]) -> Callable[[Sequence[Any]], tuple[Any, ...]]:
    """A function taking these positions of a row, always as a tuple."""
    if len(indexes) == 1:
        (only,) = indexes
        return lambda row: (row[only],)
    return itemgetter(*indexes)


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

"""The safe filter form for end-user input: ``{field: value | [values] | {"gte": a, "lte": b}}``.

Every clause becomes exactly one ``term`` / ``terms`` / ``range`` clause and all
clauses are ANDed, so a user-supplied filter can only narrow a search: it can
never add a ``should`` / ``match_all`` that widens it (e.g. across tenants).
Raw query DSL stays available behind an explicit ``raw_filter=`` in stores that
have one, for application code, never for end-user input.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .errors import ConfigError

RANGE_OPERATORS = ("gt", "gte", "lt", "lte")
MAX_TERMS = 1024
Scalar = str | int | float | bool


def _scalar(field: str, value: Any) -> Scalar:
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"filter {field!r}: {value!r} is not a finite number")
    if not isinstance(value, (str, int, float, bool)):
        raise ConfigError(
            f"filter {field!r}: {value!r} of type {type(value).__name__} is not a filter value; use a string, "
            "number or bool, a list of them, or a range such as {'gte': 1, 'lt': 5}. Raw query DSL goes "
            "through raw_filter= (never for end-user input)"
        )
    return value


@dataclass(frozen=True)
class Clause:
    field: str
    kind: str  # "term" | "terms" | "range"
    value: Any


def _clause(field: Any, value: Any) -> Clause:
    if not isinstance(field, str) or not field.strip() or field.startswith("_"):
        raise ConfigError(f"filter field {field!r}: use a non-empty document field name (not a _meta field)")
    if isinstance(value, Mapping):
        bad = sorted(set(map(str, value)) - set(RANGE_OPERATORS))
        if bad or not value:
            raise ConfigError(
                f"filter {field!r}: {dict(value)!r} is not a range; use keys from {RANGE_OPERATORS}. "
                "Raw query DSL goes through raw_filter= (never for end-user input)"
            )
        return Clause(field, "range", {op: _scalar(field, v) for op, v in value.items()})
    if isinstance(value, (list, tuple, set, frozenset)):
        values = [_scalar(field, v) for v in value]
        if not values or len(values) > MAX_TERMS:
            raise ConfigError(f"filter {field!r}: give 1 to {MAX_TERMS} values, got {len(values)}")
        return Clause(field, "terms", values)
    return Clause(field, "term", _scalar(field, value))


class Filter:
    """A validated, AND-only filter built from ``{field: value | [values] | {range}}``."""

    def __init__(self, spec: Mapping[str, Any] | Filter) -> None:
        if isinstance(spec, Filter):
            self.clauses: tuple[Clause, ...] = spec.clauses
            return
        if not isinstance(spec, Mapping):
            raise ConfigError(
                f"filter must be a mapping {{field: value}}, got {type(spec).__name__}; raw query DSL goes "
                "through raw_filter="
            )
        self.clauses = tuple(_clause(field, value) for field, value in spec.items())

    def __repr__(self) -> str:
        return f"Filter({ {c.field: c.value for c in self.clauses}!r})"

    def to_dsl(self, field_name: Callable[[str], str] = str) -> list[dict[str, Any]]:
        """Elasticsearch ``term`` / ``terms`` / ``range`` clauses; ``field_name`` maps a field to
        the one to query (e.g. a text field's ``.keyword`` sub-field)."""
        return [{c.kind: {field_name(c.field): c.value}} for c in self.clauses]

    def matches(self, source: Mapping[str, Any]) -> bool:
        """Whether a stored document's fields satisfy every clause (the in-memory store's filter)."""
        return all(_matches(clause, source.get(clause.field)) for clause in self.clauses)


def _matches(clause: Clause, stored: Any) -> bool:
    values = stored if isinstance(stored, (list, tuple)) else [stored]
    return any(_match_one(clause, v) for v in values if v is not None)


def _match_one(clause: Clause, value: Any) -> bool:
    if clause.kind == "term":
        return bool(value == clause.value)
    if clause.kind == "terms":
        return value in clause.value
    try:
        return all(_compare(op, value, bound) for op, bound in clause.value.items())
    except TypeError:  # e.g. a string against a numeric range: no match, as in Elasticsearch
        return False


def _compare(op: str, value: Any, bound: Any) -> bool:
    if op == "gt":
        return bool(value > bound)
    if op == "gte":
        return bool(value >= bound)
    if op == "lt":
        return bool(value < bound)
    return bool(value <= bound)


def as_filter(spec: Mapping[str, Any] | Filter | None) -> Filter | None:
    return None if spec is None else Filter(spec)

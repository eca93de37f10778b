"""The safe filter form: AND-only term / terms / range clauses, refused with the field and the fix otherwise,
and the same answer in memory (matches) as in Elasticsearch (to_dsl)."""

from __future__ import annotations

import math

import pytest

from sbert_plugins import ConfigError, Filter


def test_each_value_kind_becomes_one_clause():
    f = Filter({"tenant": "acme", "lang": ["en", "de"], "year": {"gte": 2020, "lt": 2024}})
    assert f.to_dsl() == [
        {"term": {"tenant": "acme"}},
        {"terms": {"lang": ["en", "de"]}},
        {"range": {"year": {"gte": 2020, "lt": 2024}}},
    ]
    assert f.to_dsl(lambda name: f"{name}.keyword")[0] == {"term": {"tenant.keyword": "acme"}}
    assert Filter(f).clauses == f.clauses  # a Filter is accepted where a spec is


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ({"tenant": "acme", "lang": "en", "year": 2021}, True),
        ({"tenant": "acme", "lang": ["fr", "de"], "year": 2020}, True),  # any value of a list field
        ({"tenant": "other", "lang": "en", "year": 2021}, False),
        ({"tenant": "acme", "lang": "en", "year": 2024}, False),  # lt is strict
        ({"tenant": "acme", "lang": "en", "year": "2021"}, False),  # a string against a numeric range
        ({"tenant": "acme", "lang": "en"}, False),  # a missing field never matches
    ],
)
def test_matches_is_an_and_of_the_clauses(source, expected):
    f = Filter({"tenant": "acme", "lang": ["en", "de"], "year": {"gte": 2020, "lt": 2024}})
    assert f.matches(source) is expected


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"_id": "x"}, "not a _meta field"),
        ({"": "x"}, "non-empty document field name"),
        ({"year": {"bool": {"should": []}}}, "is not a range; use keys from"),
        ({"year": {}}, "is not a range"),
        ({"tenant": {"match_all": {}}}, "raw_filter="),
        ({"tenant": []}, "give 1 to 1024 values, got 0"),
        ({"tenant": list(range(1025))}, "got 1025"),
        ({"year": math.nan}, "not a finite number"),
        ({"tenant": None}, "NoneType is not a filter value"),
        ({"tenant": [{"nested": 1}]}, "dict is not a filter value"),
    ],
)
def test_anything_that_could_widen_a_search_is_refused(spec, message):
    with pytest.raises(ConfigError, match=message):
        Filter(spec)


def test_a_non_mapping_is_refused_naming_raw_filter():
    with pytest.raises(ConfigError, match=r"filter must be a mapping .*raw_filter="):
        Filter([{"term": {"tenant": "acme"}}])  # type: ignore[arg-type]

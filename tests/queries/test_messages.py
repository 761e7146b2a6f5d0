"""Message templates: what they print for each kind of value, and the exact error for each mistake."""

from __future__ import annotations

import datetime as dt

import neo4j.time
import pytest

from queries.messages import MessageTemplate, MessageValueError, TemplateError, join_names

OVERDUE = MessageTemplate.parse(
    {
        "never": "{model} has never been reviewed",
        "overdue": "{model} was last reviewed on {last_reviewed}, more than {days} days before {as_of}",
    }
)


def test_a_single_template_is_filled_with_its_fields() -> None:
    template = MessageTemplate.parse("Nobody may approve changes to {model}")
    assert (template.variants, template.fields()) == (None, {"model"})
    assert template.render({"model": "Fraud score"}) == "Nobody may approve changes to Fraud score"


def test_a_variant_picks_its_template_and_extra_values_are_ignored() -> None:
    values = {"model": "Fraud score", "last_reviewed": None, "days": 365, "as_of": None}
    assert OVERDUE.render(values, "never") == "Fraud score has never been reviewed"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (365, "365"),
        (0.5, "0.5"),
        (True, "true"),
        (dt.date(2025, 11, 21), "2025-11-21"),
        (neo4j.time.Date(2025, 11, 21), "2025-11-21"),
        ("2025-11-21", "2025-11-21"),
    ],
)
def test_numbers_booleans_and_dates_print_as_cypher_to_string_does(value: object, text: str) -> None:
    assert MessageTemplate.parse("{value}").render({"value": value}) == text


def test_a_list_is_joined_with_a_comma_or_the_separator_after_the_colon() -> None:
    template = MessageTemplate.parse("{owners} / {parts:; } / {empty}")
    assert template.render({"owners": ["A", "B"], "parts": ["C", "D"], "empty": []}) == "A, B / C; D / "


def test_a_map_prints_with_the_template_its_variant_names() -> None:
    template = MessageTemplate.parse(
        {"finding": "{model} is approved by {conflicts:; }", "person": "{person} (as {developer} and {approver})"}
    )
    conflicts = ["Data Science Lead", {"variant": "person", "person": "Ana", "developer": "Dev", "approver": "MRO"}]
    assert (
        template.render({"model": "Score", "conflicts": conflicts}, "finding")
        == "Score is approved by Data Science Lead; Ana (as Dev and MRO)"
    )


@pytest.mark.parametrize("hostile", ["{model}", "{0}", "{}", "{{model}}", "{model!r}", "{model.__class__}", "}{", "%s"])
def test_values_are_substituted_never_read_as_templates(hostile: str) -> None:
    template = MessageTemplate.parse({"finding": "{name} owns {items}", "item": "item {name}"})
    values = {"name": hostile, "items": [{"variant": "item", "name": hostile}, hostile]}
    assert template.render(values, "finding") == f"{hostile} owns item {hostile}, {hostile}"


def test_doubled_braces_are_literal_braces() -> None:
    assert MessageTemplate.parse("{{x}} is {x}").render({"x": "1"}) == "{x} is 1"


@pytest.mark.parametrize(
    ("values", "variant", "problem"),
    [
        ({}, "never", "no column model"),
        ({"model": None}, "never", "column model must not be null"),
        ({"model": "M"}, None, "a variant is needed: one of never, overdue"),
        ({"model": "M"}, "later", "unknown variant 'later'; expected one of never, overdue"),
        ({"model": "M", "last_reviewed": {"x": 1}, "days": 1, "as_of": 1}, "overdue", None),
    ],
)
def test_values_that_do_not_fill_the_template_are_an_error(
    values: dict[str, object], variant: str | None, problem: str | None
) -> None:
    problem = problem or "column last_reviewed is a map without a variant"
    with pytest.raises(MessageValueError) as caught:
        OVERDUE.render(values, variant)
    assert str(caught.value) == problem


def test_a_map_missing_a_key_of_its_template_names_both() -> None:
    template = MessageTemplate.parse({"finding": "{rights}", "owner": "owner of {name}"})
    with pytest.raises(MessageValueError) as caught:
        template.render({"rights": [{"variant": "owner"}]}, "finding")
    assert str(caught.value) == "no key name in a map of variant 'owner' in item of column rights"


@pytest.mark.parametrize(
    ("template", "value", "variant", "problem"),
    [
        ("{model:; }", "M", None, "column model has a separator but is not a list"),
        ("{model}", b"M", None, "column model has a value of type bytes, which a message cannot print"),
        ("{model}", "M", "x", "variant 'x' given for a message with a single template"),
    ],
)
def test_a_value_the_template_cannot_print_is_an_error(
    template: str, value: object, variant: str | None, problem: str
) -> None:
    with pytest.raises(MessageValueError) as caught:
        MessageTemplate.parse(template).render({"model": value}, variant)
    assert str(caught.value) == problem


@pytest.mark.parametrize(
    ("message", "problem", "variant"),
    [
        ("{0}", "placeholder {0} must be a field name (letters, digits and '_')", None),
        ("{}", "placeholder {} must be a field name (letters, digits and '_')", None),
        ("{m.name}", "placeholder {m.name} must be a field name (letters, digits and '_')", None),
        ("{m[0]}", "placeholder {m[0]} must be a field name (letters, digits and '_')", None),
        ("{m!r}", "placeholder {m!r}: conversions are not supported", None),
        ("{m:{sep}}", "placeholder {m:{sep}}: a separator cannot contain braces", None),
        ("{subjects}", "placeholder {subjects} uses a reserved column name", None),
        ("{m", "expected '}' before end of string (write {{ and }} for literal braces)", None),
        ("m}", "Single '}' encountered in format string (write {{ and }} for literal braces)", None),
        ("  ", "a template must be non-empty text", None),
        ({}, "must name at least one variant", None),
        ({"Upper": "x"}, "a variant name must be lowercase letters, digits and '-'", "Upper"),
        ({"ok": "x", "bad": "{0}"}, "placeholder {0} must be a field name (letters, digits and '_')", "bad"),
    ],
)
def test_a_template_that_cannot_be_parsed_is_an_error(
    message: str | dict[str, str], problem: str, variant: str | None
) -> None:
    with pytest.raises(TemplateError) as caught:
        MessageTemplate.parse(message)
    assert (str(caught.value), caught.value.variant) == (problem, variant)


def test_join_names_reads_as_a_sentence() -> None:
    assert [join_names(n) for n in (["A"], ["A", "B"], ["A", "B", "C"])] == ["A", "A and B", "A, B and C"]

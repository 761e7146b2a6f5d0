"""The strict loader of check files: what it accepts, and the exact error for each mistake."""

from __future__ import annotations

from pathlib import Path

import pytest

from queries.catalog import (
    BUILTIN_CHECK_DIR,
    POSTPROCESS_MESSAGES,
    CatalogError,
    Postprocess,
    UnknownCheckError,
    cypher_parameters,
    load_catalog,
    load_check_file,
)
from queries.messages import MessageTemplate

SPEC_CATALOG = {
    "model-without-owner": "high",
    "model-without-change-approver": "high",
    "no-shutdown-authority": "high",
    "self-approved-model": "high",
    "vacant-decision-role": "high",
    "broken-escalation-chain": "high",
    "missing-risk-tier": "high",
    "prohibited-model-active": "critical",
    "high-risk-without-human-oversight": "critical",
    "overdue-model-review": "medium",
    "unmonitored-production-model": "high",
    "control-without-operator": "medium",
    "experiment-in-production": "high",
    "workflow-without-owner": "medium",
    "orphan-data-domain": "high",
    "contested-data-ownership": "medium",
    "blocked-data-dependency": "high",
    "data-ownership-deadlock": "critical",
    "vendor-without-owner": "medium",
    "expired-vendor-contract": "high",
    "vendor-concentration": "medium",
    "use-case-without-kpi": "medium",
    "use-case-without-sponsor": "medium",
    "model-without-business-case": "medium",
    "kpi-without-owner": "low",
    # catalog 1.1 additions
    "policy-missing-right": "high",
    "policy-missing-control": "high",
    "policy-weak-oversight": "high",
    "policy-review-overdue": "medium",
    "policy-missing-evidence": "high",
    "delegated-self-approval": "high",
    "single-point-of-shutdown": "medium",
    "late-incident-report": "critical",
    "incident-without-owner": "medium",
    "system-without-owner": "medium",
    "initiative-without-accountable": "medium",
    "overdue-initiative": "high",
    "tom-without-owner": "high",
    "tom-review-overdue": "medium",
    # event-log conformance (events.md)
    "unapproved-deployment": "high",
    "unapproved-change": "high",
    "unauthorized-approval": "high",
    "unauthorized-shutdown": "high",
    "self-approval-in-practice": "high",
    "slow-approval": "medium",
    "activity-on-unregistered-entity": "high",
    "unknown-actor": "medium",
}

# Line numbers in the expected messages refer to this text.
VALID_CHECK = """\
id: long-model-names
revision: 1
title: Model with a long name
severity: medium
rationale: Long names are hard to read in reports.
remediation: Shorten the name.
parameters:
  max_length: 30
cypher: |
  MATCH (m:Model {scenario: $scenario})
  WHERE size(m.name) > $max_length
  RETURN [m.id] AS subjects, null AS accountable, m.name + ' has a long name' AS message
"""


def _write(directory: Path, name: str, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(text)
    return path


def _problems(path: Path) -> list[str]:
    with pytest.raises(CatalogError) as caught:
        load_check_file(path)
    return caught.value.problems


def test_event_checks_are_marked_and_get_the_window_parameters(tmp_path: Path) -> None:
    events = {c.id for c in load_catalog().checks if c.spec.events}
    assert events == set(list(SPEC_CATALOG)[-8:])
    text = VALID_CHECK.replace("severity: medium", "severity: medium\nevents: true").replace(
        "WHERE size(m.name) > $max_length", "WHERE size(m.name) > $max_length AND $from_day < $until_day"
    )
    assert load_check_file(_write(tmp_path, "long-model-names.yaml", text)).spec.events is True
    plain = VALID_CHECK.replace("WHERE size(m.name) > $max_length", "WHERE size(m.name) > $max_length AND $from_day")
    assert _problems(_write(tmp_path / "plain", "long-model-names.yaml", plain)) == [
        f"{tmp_path / 'plain' / 'long-model-names.yaml'}:9: cypher: uses $from_day, which is not declared in parameters"
    ]


def test_builtin_catalog_has_the_spec_ids_and_default_severities() -> None:
    catalog = load_catalog()
    assert {c.id: c.spec.severity for c in catalog.checks} == SPEC_CATALOG


def test_builtin_cycle_checks_are_post_processed() -> None:
    catalog = load_catalog()
    assert {c.id: c.spec.postprocess for c in catalog.checks if c.spec.postprocess} == {
        "broken-escalation-chain": Postprocess.ESCALATION_CHAINS,
        "data-ownership-deadlock": Postprocess.WAITS_ON_CYCLES,
    }


def test_valid_check_file_loads_with_its_parameters(tmp_path: Path) -> None:
    check = load_check_file(_write(tmp_path, "long-model-names.yaml", VALID_CHECK))
    assert (check.id, check.spec.revision, check.spec.parameters, check.spec.postprocess) == (
        "long-model-names",
        1,
        {"max_length": 30},
        None,
    )


def test_unknown_field_is_an_error(tmp_path: Path) -> None:
    path = _write(tmp_path, "long-model-names.yaml", VALID_CHECK + "owner: r-ops\n")
    assert _problems(path) == [f"{path}:13: owner: unknown field"]


def test_missing_field_is_an_error(tmp_path: Path) -> None:
    path = _write(tmp_path, "long-model-names.yaml", VALID_CHECK.replace("remediation: Shorten the name.\n", ""))
    assert _problems(path) == [f"{path}:1: remediation: required field missing"]


def test_unknown_severity_is_an_error(tmp_path: Path) -> None:
    path = _write(tmp_path, "long-model-names.yaml", VALID_CHECK.replace("severity: medium", "severity: urgent"))
    assert _problems(path) == [f"{path}:4: severity: input should be 'critical', 'high', 'medium' or 'low'"]


def test_revision_must_be_an_integer(tmp_path: Path) -> None:
    path = _write(tmp_path, "long-model-names.yaml", VALID_CHECK.replace("revision: 1", "revision: '2'"))
    assert _problems(path) == [f"{path}:2: revision: input should be a valid integer"]


def test_unknown_postprocess_is_an_error(tmp_path: Path) -> None:
    path = _write(tmp_path, "long-model-names.yaml", VALID_CHECK + "postprocess: magic\n")
    assert _problems(path) == [f"{path}:13: postprocess: input should be 'waits-on-cycles' or 'escalation-chains'"]


def test_parameter_default_must_be_a_scalar(tmp_path: Path) -> None:
    path = _write(tmp_path, "long-model-names.yaml", VALID_CHECK.replace("max_length: 30", "max_length: [30]"))
    assert _problems(path) == [f"{path}:8: parameters.max_length: must be a string, number or boolean"]


def test_declared_parameter_the_cypher_does_not_use_is_an_error(tmp_path: Path) -> None:
    text = VALID_CHECK.replace("  max_length: 30\n", "  max_length: 30\n  min_length: 3\n")
    path = _write(tmp_path, "long-model-names.yaml", text)
    assert _problems(path) == [f"{path}:9: parameters.min_length: declared but the cypher does not use $min_length"]


def test_undeclared_parameter_in_the_cypher_is_an_error(tmp_path: Path) -> None:
    path = _write(tmp_path, "long-model-names.yaml", VALID_CHECK.replace("parameters:\n  max_length: 30\n", ""))
    assert _problems(path) == [f"{path}:7: cypher: uses $max_length, which is not declared in parameters"]


def test_cypher_that_ignores_the_scenario_is_an_error(tmp_path: Path) -> None:
    path = _write(tmp_path, "long-model-names.yaml", VALID_CHECK.replace("{scenario: $scenario}", ""))
    assert _problems(path) == [f"{path}:9: cypher: must use $scenario (a check reads one scenario)"]


def test_declaring_an_always_passed_parameter_is_an_error(tmp_path: Path) -> None:
    text = VALID_CHECK.replace("  max_length: 30\n", "  max_length: 30\n  scenario: target\n")
    path = _write(tmp_path, "long-model-names.yaml", text)
    assert _problems(path) == [
        f"{path}:9: parameters.scenario: reserved name ($scenario and $as_of are always passed)",
    ]


def test_id_must_match_the_file_name(tmp_path: Path) -> None:
    path = _write(tmp_path, "long-names.yaml", VALID_CHECK)
    assert _problems(path) == [f"{path}:1: id: 'long-model-names' must match the file name 'long-names.yaml'"]


def test_invalid_yaml_is_an_error(tmp_path: Path) -> None:
    path = _write(tmp_path, "long-model-names.yaml", VALID_CHECK.replace("title: Model", "title: [Model"))
    assert _problems(path) == [f"{path}:4: invalid YAML: did not find expected ',' or ']'"]  # libyaml's words


def test_a_key_written_twice_is_an_error(tmp_path: Path) -> None:
    path = _write(tmp_path, "long-model-names.yaml", VALID_CHECK + "title: Again\n")
    assert _problems(path) == [f"{path}:13: title: duplicate key"]


def test_a_check_file_must_be_a_mapping(tmp_path: Path) -> None:
    path = _write(tmp_path, "long-model-names.yaml", "- id: long-model-names\n")
    assert _problems(path) == [f"{path}:1: a check file must be a mapping of fields"]


def test_custom_directory_adds_its_checks_after_the_builtin_ones(tmp_path: Path) -> None:
    path = _write(tmp_path / "custom", "long-model-names.yaml", VALID_CHECK)
    catalog = load_catalog([tmp_path / "custom"])
    assert (catalog.ids()[-1], catalog.get("long-model-names").source, len(catalog.checks)) == (
        "long-model-names",
        path,
        len(SPEC_CATALOG) + 1,
    )


def test_fixture_files_next_to_a_custom_check_are_not_checks(tmp_path: Path) -> None:
    _write(tmp_path, "long-model-names.yaml", VALID_CHECK)
    _write(tmp_path, "long-model-names.positive.yaml", "models:\n  - {id: m-1, name: M, stage: idea}\n")
    _write(tmp_path, "long-model-names.negative.yaml", "models: []\n")
    _write(tmp_path, "long-model-names.expected.yaml", "- [m-1]\n")
    assert load_catalog([tmp_path]).ids()[len(SPEC_CATALOG) :] == ["long-model-names"]


def test_duplicate_id_across_directories_is_an_error(tmp_path: Path) -> None:
    builtin = BUILTIN_CHECK_DIR / "kpi-without-owner.yaml"
    path = _write(tmp_path, "kpi-without-owner.yaml", builtin.read_text())
    with pytest.raises(CatalogError) as caught:
        load_catalog([tmp_path])
    assert caught.value.problems == [
        f"{path}:1: id: duplicate check id 'kpi-without-owner' (also defined in {builtin})"
    ]


def test_missing_check_directory_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(CatalogError) as caught:
        load_catalog([tmp_path / "nowhere"])
    assert caught.value.problems == [f"{tmp_path / 'nowhere'}: check directory does not exist"]


def test_every_problem_in_every_file_is_reported(tmp_path: Path) -> None:
    first = _write(tmp_path, "a-check.yaml", VALID_CHECK.replace("long-model-names", "a-check") + "x: 1\n")
    second = _write(tmp_path, "b-check.yaml", VALID_CHECK.replace("long-model-names", "b-check") + "y: 2\n")
    with pytest.raises(CatalogError) as caught:
        load_catalog([tmp_path])
    assert caught.value.problems == [f"{first}:13: x: unknown field", f"{second}:13: y: unknown field"]


def test_select_keeps_catalog_order() -> None:
    selected = load_catalog().select(["vendor-without-owner", "kpi-without-owner"])
    assert [c.id for c in selected] == ["kpi-without-owner", "vendor-without-owner"]


def test_select_refuses_unknown_ids() -> None:
    with pytest.raises(UnknownCheckError) as caught:
        load_catalog().select(["kpi-without-owner", "no-such-check", "other"])
    assert str(caught.value) == "unknown check ids: no-such-check, other"


def test_parameters_in_strings_comments_and_quoted_names_do_not_count() -> None:
    cypher = """
    MATCH (m:Model {scenario: $scenario}) // not $in_comment
    /* nor $in_block
       comment */
    WHERE m.name <> 'costs $5' AND m.note <> "$in_double" AND m.`$quoted_name` = $`odd name`
    RETURN $as_of
    """
    assert cypher_parameters(cypher) == {"scenario", "odd name", "as_of"}


TEMPLATE_CHECK = (
    VALID_CHECK.replace("m.name + ' has a long name' AS message", "m.name AS model")
    + 'message: "{model} has a long name"\n'
)


def test_every_builtin_check_writes_its_text_from_a_template() -> None:
    """So that `tomgraph synth` can fill the same template for what it planted."""
    catalog = load_catalog()
    assert [c.id for c in catalog.checks if c.message is None] == []
    assert {c.id: c.message for c in catalog.checks if c.spec.postprocess} == {
        c.id: MessageTemplate.parse(POSTPROCESS_MESSAGES[p])
        for c in catalog.checks
        if (p := c.spec.postprocess) is not None
    }


def test_a_message_template_loads_with_its_fields(tmp_path: Path) -> None:
    check = load_check_file(_write(tmp_path, "long-model-names.yaml", TEMPLATE_CHECK))
    assert check.message is not None
    assert (check.spec.message, check.message.variants, check.message.fields()) == (
        "{model} has a long name",
        None,
        {"model"},
    )


def test_a_check_without_message_writes_its_text_in_the_cypher(tmp_path: Path) -> None:
    assert load_check_file(_write(tmp_path, "long-model-names.yaml", VALID_CHECK)).message is None


@pytest.mark.parametrize(
    ("message", "problem"),
    [
        ("message: 5\n", "13: message: must be a template, or a mapping from variant names to templates"),
        ("message: ''\n", "13: message: must be a template, or a mapping from variant names to templates"),
        ("message: {}\n", "13: message: must be a template, or a mapping from variant names to templates"),
        ("message: '{0} is long'\n", "13: message: placeholder {0} must be a field name (letters, digits and '_')"),
        ("message: '{model'\n", "13: message: expected '}' before end of string (write {{ and }} for literal braces)"),
        (
            "message:\n  short: '{model}'\n  long: '{model!r} is long'\n",
            "15: message.long: placeholder {model!r}: conversions are not supported",
        ),
        (
            "message:\n  Long: '{model}'\n",
            "14: message.Long: a variant name must be lowercase letters, digits and '-'",
        ),
    ],
)
def test_a_bad_message_template_is_an_error_at_its_line(tmp_path: Path, message: str, problem: str) -> None:
    path = _write(tmp_path, "long-model-names.yaml", VALID_CHECK + message)
    assert _problems(path) == [f"{path}:{problem}"]


@pytest.mark.parametrize(
    ("postprocess", "message", "problem"),
    [
        ("waits-on-cycles", "message: '{title}: {members}!'\n", None),
        (
            "escalation-chains",
            "message:\n  loops: '{role} loops at {at}'\n  dead-end: '{role} ends'\n  stops: '{role} stops at {at}'\n",
            None,
        ),
        (
            "waits-on-cycles",
            "message: '{title}: {roles}'\n",
            "message: postprocess waits-on-cycles fills in only members, title, not roles",
        ),
        (
            "escalation-chains",
            "message: '{role}'\n",
            "message: postprocess escalation-chains needs the variants loops, dead-end, stops",
        ),
        (
            "waits-on-cycles",
            "message:\n  group: '{members}'\n",
            "message: postprocess waits-on-cycles needs a single template",
        ),
    ],
)
def test_a_post_processed_check_message_must_fit_its_post_processor(
    tmp_path: Path, postprocess: str, message: str, problem: str | None
) -> None:
    path = _write(tmp_path, "long-model-names.yaml", VALID_CHECK + f"postprocess: {postprocess}\n" + message)
    if problem is None:
        assert load_check_file(path).message == MessageTemplate.parse(load_check_file(path).spec.message or "")
    else:
        assert _problems(path) == [f"{path}:14: {problem}"]

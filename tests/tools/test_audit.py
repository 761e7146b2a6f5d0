"""`make lint`'s dependency audit (tools/audit.py): what a pip-audit report means for the build."""

from __future__ import annotations

from typing import Any

import pytest

from tools.audit import judge

CLEAN = {"name": "fastapi", "version": "0.165.0", "vulns": []}
VULNERABLE = {
    "name": "requests",
    "version": "2.19.0",
    "vulns": [{"id": "PYSEC-2018-28", "fix_versions": ["2.20.0"], "aliases": ["CVE-2018-18074"], "description": ""}],
}


def _skipped(name: str) -> dict[str, Any]:
    return {"name": name, "skip_reason": f"Dependency not found on PyPI and could not be audited: {name} (1.0)"}


def test_a_clean_report_passes_and_counts_what_it_audited() -> None:
    verdict = judge({"dependencies": [CLEAN, {**CLEAN, "name": "neo4j"}]}, required=True)
    assert verdict.ok
    assert verdict.lines == ["2 locked dependencies audited: no known vulnerabilities"]


@pytest.mark.parametrize("required", [True, False])
def test_a_known_vulnerability_fails_naming_package_advisory_and_fix(required: bool) -> None:
    verdict = judge({"dependencies": [CLEAN, VULNERABLE]}, required=required)
    assert not verdict.ok
    assert verdict.lines == [
        "1 locked dependencies have known vulnerabilities:",
        "  requests 2.19.0: PYSEC-2018-28 (CVE-2018-18074); fixed in 2.20.0",
    ]


def test_a_partial_audit_fails_even_when_not_required() -> None:
    verdict = judge({"dependencies": [CLEAN, _skipped("private-pkg")]}, required=False)
    assert not verdict.ok
    assert verdict.lines[0] == "1 of 2 locked dependencies could not be audited:"


def test_an_unreachable_service_is_said_and_fails_only_when_required() -> None:
    report = {"dependencies": [_skipped("aiohttp"), _skipped("fastapi")]}
    relaxed = judge(report, required=False)
    strict = judge(report, required=True)
    assert (relaxed.ok, strict.ok) == (True, False)
    assert relaxed.lines[0].startswith("NOT AUDITED: the vulnerability service could not be reached")
    assert relaxed.lines[-1] == "  going on without the audit; set TOMGRAPH_AUDIT_REQUIRED=1 to make this a failure"
    assert len(strict.lines) == 2


def test_no_report_after_a_network_error_counts_as_unreachable() -> None:
    error = "requests.exceptions.ConnectionError: Max retries exceeded with url: /v1/querybatch"
    assert judge(None, required=False, error=error).ok
    assert not judge(None, required=True, error=error).ok


def test_no_report_after_any_other_error_fails() -> None:
    verdict = judge(None, required=False, error="ValueError: requirement 'x' is not pinned")
    assert not verdict.ok
    assert verdict.lines == ["pip-audit failed: ValueError: requirement 'x' is not pinned"]

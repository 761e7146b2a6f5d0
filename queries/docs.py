"""docs/checks.md, the check catalog, generated from the built-in check files (`make docs`)."""

from __future__ import annotations

from queries.catalog import Catalog, Check, load_catalog


def _message(check: Check) -> list[str]:
    message = check.spec.message
    if message is None:
        return []
    if isinstance(message, str):
        return ["", f"Message: `{message}`"]
    lines = ["", "Messages:", ""]
    lines += [f"- `{variant}`: `{template}`" for variant, template in message.items()]
    return lines


def render_checks(catalog: Catalog | None = None) -> str:
    """The catalog of built-in gap checks: a summary table, then each check's rationale,
    remediation, parameters and message, in catalog (file name) order."""
    catalog = catalog or load_catalog()
    checks = list(catalog.checks)
    lines = [
        "# Gap checks",
        "",
        "Generated from the check files in `queries/checks/` by `make docs`; do not edit by hand (a test "
        "fails when this file is stale).",
        "",
        "A gap check finds one kind of conflict or hole in the operating model of one scenario, as of "
        "one date (`tomgraph check --scenario S --as-of DATE`). Each finding names its *subjects* (the "
        "entities that make it up, primary first), the role expected to act (`accountable`, or none), "
        "a message and a remediation; some findings also carry `details` (such as `missing`, the "
        "rights, controls or evidence a policy requires and the model lacks). A finding is identified "
        "by its check and its set of subjects, which is what waivers and week-to-week comparison use. "
        "How to write your own checks: [queries/README.md](../queries/README.md). The fields the "
        "checks read: [the bundle format](bundle-format.md).",
        "",
        "Terms: an *active* model or workflow is in `pilot` or `production`; a *live* use case is "
        "`approved`, `delivering` or `live`; a *vacant* role is one nobody holds. A delegation or a "
        "piece of evidence is *in force* on the as-of date between its dates. A person *effectively "
        "holds* a decision right on a model when they hold a role that has it, or when a delegation of "
        "it in force names them or a role they hold (a delegation passes on only what its `from` role "
        "holds, and is not passed on again). A *policy* applies to the active models of its risk tier.",
        "",
        "| id | severity | finds |",
        "| --- | --- | --- |",
    ]
    for check in checks:
        lines.append(f"| [`{check.id}`](#{check.id}) | {check.spec.severity} | {check.spec.title} |")
    lines.append("")
    for check in checks:
        spec = check.spec
        lines += [
            f"## {check.id}",
            "",
            f"**{spec.title}.** Severity {spec.severity} (revision {spec.revision}).",
            "",
            spec.rationale,
            "",
            f"Remediation: {spec.remediation}",
        ]
        if spec.parameters:
            params = ", ".join(f"`{name}` = `{value}`" for name, value in spec.parameters.items())
            lines += ["", f"Parameters (defaults): {params}."]
        lines += _message(check)
        lines.append("")
    return "\n".join(lines)

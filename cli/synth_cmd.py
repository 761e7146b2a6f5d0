"""`tomgraph synth`: write a synthetic enterprise bundle and the findings its planted gaps produce."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from loaders import synth


class Size(StrEnum):
    small = "small"
    medium = "medium"
    large = "large"


def synth_command(
    size: Annotated[
        Size,
        typer.Option(
            "--size",
            case_sensitive=False,
            help="small ≈ 1k entities; medium ≈ 20k entities, 100k relationships; "
            "large ≈ 200k entities, 1M relationships.",
        ),
    ],
    out: Annotated[Path, typer.Option("--out", help="Directory to write bundle.json and expected.json into.")],
    seed: Annotated[int, typer.Option("--seed", help="Random seed; the same seed gives the same bytes.")] = 0,
) -> None:
    """Write a synthetic enterprise bundle with planted gaps (help text: HELP)."""
    try:
        bundle, expected = synth.generate(size.value, seed)
        synth.write_generated(bundle, expected, out)
    except (OSError, ValueError, RuntimeError) as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(1) from None
    entities, relationships = synth.count(bundle)
    as_of = expected["as_of"]
    typer.echo(
        f"Wrote {out / 'bundle.json'} ({entities} entities, {relationships} relationships) and "
        f"{out / 'expected.json'} ({len(expected['findings'])} findings as of {as_of}: what "
        f"`tomgraph check --as-of {as_of}` finds once it is loaded; on another day the date-based checks "
        "find more or fewer)"
    )


HELP = (
    "Write a synthetic enterprise bundle with planted gaps.\n\n"
    "Writes DIR/bundle.json (the single-file JSON bundle) and DIR/expected.json: exactly what "
    "`tomgraph check --format json --as-of AS_OF` prints for it (every finding with check, severity, subjects, "
    "accountable, message, remediation and the details some checks add, in the same order), with a known "
    "number for every check in the catalog; AS_OF is stored in expected.json."
)


def register(app: typer.Typer) -> None:
    """Add `synth` to the root `tomgraph` app."""
    app.command("synth", help=HELP)(synth_command)

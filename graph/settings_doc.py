"""docs/settings.md, generated from `graph/settings.py` (`make settings-doc`), so that no page
can give a default the code does not have (a test fails when the file is stale)."""

from __future__ import annotations

import sys

from pydantic_core import PydanticUndefined

from graph.settings import Settings, env_name


def default_text(name: str) -> str:
    """A field's default as a user writes it in the environment."""
    field = Settings.model_fields[name]
    if name == "data_dir":
        return "the user data directory (`~/.local/share/tomgraph` on Linux)"
    if field.default_factory is not None:
        value = field.default_factory()  # type: ignore[call-arg]
    elif field.default is PydanticUndefined:
        return "required"
    else:
        value = field.default
    if value is None or value == []:
        return "not set"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def render_settings() -> str:
    """The settings table: variable, default, meaning."""
    lines = [
        "# Settings",
        "",
        "Generated from `graph/settings.py` by `make settings-doc`; do not edit by hand (a test fails",
        "when this page is stale). Every setting comes from the environment; a value that does not fit",
        "stops every command with one line `error: VARIABLE: what is wrong` and exit status 2.",
        "",
        "| variable | default | meaning |",
        "| --- | --- | --- |",
    ]
    for name, field in Settings.model_fields.items():
        variable = env_name(name, field.validation_alias)
        meaning = " ".join((field.description or "").split()).replace("|", "\\|")
        lines.append(f"| `{variable}` | {default_text(name)} | {meaning} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render_settings())

"""`tomgraph keys create | list | revoke`: the REST API's keys. Only hashes are stored; a new
key is printed once, on stdout, and never again."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Protocol

import typer
from rich.table import Table

from api.auth import KeyFileError, LastKey, Role, create_key, keys_file, read_keys, revoke_key
from cli.console import console
from graph.settings import Settings


class HasSettings(Protocol):
    settings: Settings


def register(app: typer.Typer, get_context: Callable[[], HasSettings]) -> None:
    """Add the `keys` command group to the `tomgraph` app."""
    keys_app = typer.Typer(help="Manage the REST API's keys (stored as hashes only).", no_args_is_help=True)
    app.add_typer(keys_app, name="keys")
    out = console()
    err = console(stderr=True)

    def _fail(message: str) -> typer.Exit:
        err.print(f"error: {message}", highlight=False)
        return typer.Exit(1)

    @keys_app.command("create")
    def create(
        role: Annotated[
            Role, typer.Option(help="reader: every GET and queries; editor: also loads and waivers; admin: also keys.")
        ],
        name: Annotated[str, typer.Option(help="What the key is for, shown by `keys list`.")] = "",
    ) -> None:
        """Create a key and print it once; only its hash is kept."""
        path = keys_file(get_context().settings)
        try:
            stored, plain = create_key(path, role, name)
        except (KeyFileError, OSError) as e:
            raise _fail(str(e)) from e
        err.print(f"created key {stored.id} ({stored.role.value}) in {path}; it is shown only now:", highlight=False)
        typer.echo(plain)

    @keys_app.command("list")
    def list_keys() -> None:
        """List the keys: id, name, role, created (never the keys themselves)."""
        path = keys_file(get_context().settings)
        try:
            keys = read_keys(path)
        except KeyFileError as e:
            raise _fail(str(e)) from e
        if not keys:
            if path.exists():
                message = f"no API keys in {path}: every key was revoked, so the API refuses every request"
            else:
                message = f"no API keys file at {path}: `tomgraph serve` runs open, on loopback only"
            err.print(message, highlight=False)
            return
        table = Table("id", "name", "role", "created")
        for k in keys:
            table.add_row(k.id, k.name, k.role.value, k.created)
        out.print(table)

    @keys_app.command("revoke")
    def revoke(
        key_id: Annotated[str, typer.Argument(help="The key id shown by `keys list`.")],
        force: Annotated[
            bool, typer.Option("--force", help="Revoke even the last key (the API then refuses every request).")
        ] = False,
    ) -> None:
        """Revoke a key; a running API refuses it from its next request.

        The last key is revoked only with --force, and even then the API does not run open
        again: with a keys file and no key in it, every request is refused (401).
        """
        path = keys_file(get_context().settings)
        try:
            removed = revoke_key(path, key_id, force=force)
        except (KeyFileError, LastKey, OSError) as e:
            raise _fail(str(e)) from e
        if not removed:
            raise _fail(f"no key {key_id} in {path}")
        left = len(read_keys(path))
        note = "" if left else "; no key is left, so the API refuses every request until one is created"
        err.print(f"revoked key {key_id}{note}", highlight=False)

"""Errors shared by the CLI and the API, each mapped to one exit status or HTTP status."""

from __future__ import annotations


class NotFound(LookupError):
    """A scenario, entity, report or other named thing does not exist (HTTP 404, exit 1)."""

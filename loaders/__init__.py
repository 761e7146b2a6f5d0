"""Loaders: read a bundle in any form, validate it against the ontology, and load it."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from graph.db import Database
from graph.history import HistoryPolicy
from graph.settings import Settings
from graph.sync import LoadConflict, ProgressFn, SyncResult, digest_of, sync_scenario
from loaders.problems import BundleError, Problem
from loaders.sources import Limits, read_path
from loaders.validate import Bundle, Entity, validate

__all__ = [
    "Bundle",
    "BundleError",
    "Entity",
    "Limits",
    "LoadConflict",
    "Problem",
    "SyncResult",
    "limits_from",
    "load_bundle",
    "read_bundle",
]


def limits_from(settings: Settings) -> Limits:
    return Limits(
        max_file_bytes=settings.max_file_bytes,
        max_entities=settings.max_entities,
        max_yaml_nodes=settings.max_yaml_nodes,
        load_tx_max_rows=settings.load_tx_max_rows,
    )


def read_bundle(path: Path | str, limits: Limits | None = None) -> Bundle:
    """Read and validate the bundle at `path`; raises BundleError listing every problem."""
    return validate(read_path(Path(path), limits or Limits()), limits or Limits())


def load_bundle(
    db: Database,
    path: Path | str,
    scenario: str = "current",
    *,
    limits: Limits | None = None,
    progress: ProgressFn | None = None,
    effective: date | None = None,
    history: HistoryPolicy | None = None,
) -> SyncResult:
    """Validate the bundle, then make `scenario` equal to it, all or nothing, as a new version in
    force from `effective` (default today), earlier versions kept per `history` (graph/sync.py)."""
    limits = limits or Limits()
    bundle = read_bundle(path, limits)
    entities = bundle.entities
    return sync_scenario(
        db,
        scenario,
        entities,
        bundle_digest=digest_of(entities),
        progress=progress,
        tx_max_rows=limits.load_tx_max_rows,
        effective=effective,
        history=history,
    )

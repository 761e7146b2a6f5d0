"""Scenarios: list them, and load a bundle into one."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from api import graph_reads
from api.db import ensure_up, ready_for_writes
from api.deps import Day, DbDep, EditorKey, ReaderKey, ScenarioName, SettingsDep, SyncDbDep
from api.guard import body_limit
from api.models import ChangeCounts, HistoryAnswer, LoadAnswer, ScenarioList, VersionInfo
from api.problems import AUTH_RESPONSES, READ_RESPONSES, ApiProblem, ProblemItem, invalid, problem_response
from api.uploads import XLSX_TYPE, form_of, read_body, short_reason, write_upload
from graph.history import policy_from, versions
from graph.sync import digest_of, sync_scenario
from loaders import Bundle, BundleError, Limits, limits_from, read_bundle

log = logging.getLogger("tomgraph.api")

router = APIRouter(tags=["scenarios"])

_BUNDLE_BODY = {
    "requestBody": {
        "required": True,
        "description": "The bundle: one YAML or JSON file, an .xlsx workbook, or a zip of a bundle directory.",
        "content": {
            "application/yaml": {"schema": {"type": "object", "description": "A mapping of bundle sections."}},
            "application/json": {"schema": {"type": "object", "description": "A mapping of bundle sections."}},
            XLSX_TYPE: {"schema": {"type": "string", "format": "binary"}},
            "application/zip": {"schema": {"type": "string", "format": "binary"}},
        },
    }
}


@router.get("/scenarios", responses=AUTH_RESPONSES)
async def list_scenarios(db: DbDep, _: ReaderKey) -> ScenarioList:
    """Every loaded scenario with its entity and relationship counts and when it was last loaded."""
    return ScenarioList(scenarios=await graph_reads.list_scenarios(db))


@router.get("/scenarios/{s}/history", responses=READ_RESPONSES)
async def get_history(s: ScenarioName, db: DbDep, sync_db: SyncDbDep, _: ReaderKey) -> HistoryAnswer:
    """The scenario's versions, oldest load first (rest.md, "Added in v1.1"): number, the day it
    came into force, when it was loaded, its size, what it changed, and how it is stored."""
    await ensure_up(db)
    found = await run_in_threadpool(versions, sync_db, s)
    return HistoryAnswer(scenario=s, versions=[VersionInfo(**v.as_dict()) for v in found])


@router.put(
    "/scenarios/{s}/bundle",
    openapi_extra=_BUNDLE_BODY,
    responses={
        **READ_RESPONSES,
        409: problem_response("Another load removed the staged copy of this one (nothing changed: run it again)"),
        413: problem_response("The upload, or what a zip expands to, is larger than the limit"),
        422: problem_response("The bundle is invalid; `errors` lists every problem with its place and field"),
    },
)
@body_limit("max_file_bytes")
async def load_scenario_bundle(
    s: ScenarioName,
    request: Request,
    db: DbDep,
    sync_db: SyncDbDep,
    settings: SettingsDep,
    _: EditorKey,
    effective: Annotated[
        Day | None, Query(description="The day this version comes into force, YYYY-MM-DD (default today).")
    ] = None,
) -> LoadAnswer:
    """Make scenario `s` equal to the uploaded bundle, all or nothing.

    The body is a YAML, JSON or `.xlsx` bundle, or a zip of a bundle directory (checked for
    path traversal, links and decompression bombs before anything is extracted). The same
    loader as `tomgraph load` validates it and reports every problem at once (422); a valid
    bundle is written in one transaction, or for a very large change staged in batches and
    switched in one transaction (409 if another load committed meanwhile), so on any failure the
    scenario is unchanged.
    """
    body = await read_body(request, settings.max_file_bytes)
    if not body.strip():
        raise invalid("body", "bundle", "the upload is empty")
    form = form_of(request.headers.get("content-type", ""), body)
    await ready_for_writes(request.app.state, db, sync_db)
    limits = limits_from(settings)
    with tempfile.TemporaryDirectory(prefix="tomgraph-upload-") as workdir:
        path = await run_in_threadpool(write_upload, body, form, Path(workdir), settings.max_file_bytes)
        del body
        bundle = await run_in_threadpool(_read_upload, path, limits)
    # As loaders.load_bundle, after the reading that is guarded above.
    result = await run_in_threadpool(
        sync_scenario,
        sync_db,
        s,
        bundle.entities,
        bundle_digest=digest_of(bundle.entities),
        tx_max_rows=limits.load_tx_max_rows,
        effective=effective,
        history=policy_from(settings),
    )
    entities = {k: ChangeCounts(**vars(v)) for k, v in sorted(result.entities.items()) if v.total}
    relationships = {k: ChangeCounts(**vars(v)) for k, v in sorted(result.relationships.items()) if v.total}
    return LoadAnswer(
        scenario=s,
        entity_count=result.entity_count,
        relationship_count=result.relationship_count,
        seconds=round(result.seconds, 3),
        created=sum(c.created for c in entities.values()),
        updated=sum(c.updated for c in entities.values()),
        removed=sum(c.removed for c in entities.values()),
        entities=entities,
        relationships=relationships,
    )


def _read_upload(path: Path, limits: Limits) -> Bundle:
    """`read_bundle(path)`, with any failure other than an invalid bundle (a damaged workbook
    that the spreadsheet reader trips over, say) turned into one 422 and one log line: reading
    an upload touches no database, so whatever fails there is the upload's fault."""
    try:
        return read_bundle(path, limits)
    except BundleError:
        raise
    except Exception as e:
        reason = f"{type(e).__name__}: {short_reason(e)}"
        log.warning("bundle upload %s could not be read: %s", path.name, reason)
        raise ApiProblem(
            422,
            "Invalid bundle",
            f"{path.name}: file: the upload cannot be read ({reason})",
            slug="invalid-bundle",
            errors=[ProblemItem(place=path.name, field="file", message=f"the upload cannot be read ({reason})")],
        ) from None

"""An event's digest (what makes a load idempotent) is the same whichever way its text is written:
the direct writing of an event without properties equals ``json.dumps``'s, character for character,
so logs loaded by earlier versions keep their digests."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime

import pytest

from events.records import RawRecord, canonical_json, validate_record

TEXTS = [
    "plain",
    'quo"te and back\\slash',
    "tab\tnew\nline\rcarriage",
    "\x01\x1f control",
    "ünïcödé — “curly” ✓",
    "emoji 🙂 and CJK 漢字",
    "/slash/ & <angle> 'single'",
]


def _json_dumps_digest_text(props: dict[str, object], time_text: str) -> str:
    canonical = {k: v for k, v in props.items() if k not in ("time", "day")}
    canonical["time"] = time_text
    canonical["properties"] = {}
    return json.dumps(canonical, sort_keys=True, ensure_ascii=False)


@pytest.mark.parametrize("text", TEXTS)
def test_the_direct_writing_equals_json_dumps(text: str) -> None:
    time_ = datetime.fromisoformat("2026-03-02T09:15:00.250000+05:45")
    for actor, request, to_stage in ((text, None, None), (None, text, text), (text, text, None)):
        props = {
            "id": "ev-1",
            "time": time_,
            "day": time_.date(),
            "activity": "change_approved",
            "object": f"m-{text}",
            "actor": actor,
            "request": request,
            "to_stage": to_stage,
        }
        assert canonical_json(props, time_.isoformat(), {}) == _json_dumps_digest_text(props, time_.isoformat())


def test_a_loaded_event_keeps_the_digest_json_dumps_gives() -> None:
    fields = {
        "id": "ev-7",
        "time": "2026-03-02T09:15:00+01:00",
        "activity": "change_approved",
        "object": "m-fraud",
        "actor": "Dana “DK” Król",
        "request": "ev-6",
    }
    row, problems = validate_record(RawRecord("log.csv:row 2", fields))
    assert problems == []
    assert row is not None
    fields_stored = {k: v for k, v in row.props.items() if k != "digest"}
    expected = hashlib.sha256(_json_dumps_digest_text(fields_stored, "2026-03-02T09:15:00+01:00").encode()).hexdigest()
    assert row.digest == expected[:32]

"""Writing one event log in each of its five forms, for tests."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

FIELDS = ("id", "time", "activity", "object", "actor", "request", "to_stage")


def write_csv(events: list[dict[str, Any]], path: Path) -> Path:
    keys = sorted({k for e in events for k in e.get("properties", {})})
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow([*FIELDS, *(f"properties.{k}" for k in keys)])
        for e in events:
            props = e.get("properties", {})
            writer.writerow([e.get(k, "") or "" for k in FIELDS] + [props.get(k, "") for k in keys])
    return path


def write_json(events: list[dict[str, Any]], path: Path) -> Path:
    path.write_text(json.dumps(events, indent=1), encoding="utf-8")
    return path


def write_jsonl(events: list[dict[str, Any]], path: Path) -> Path:
    path.write_text("".join(json.dumps(e) + "\n" for e in events), encoding="utf-8")
    return path


def _xes_attribute(key: str, value: Any) -> str:
    tag = (
        "boolean"
        if isinstance(value, bool)
        else "int"
        if isinstance(value, int)
        else "float"
        if isinstance(value, float)
        else "string"
    )
    text = str(value).lower() if isinstance(value, bool) else str(value)
    return f"<{tag} key={quoteattr(key)} value={quoteattr(text)}/>"


def write_xes(events: list[dict[str, Any]], path: Path) -> Path:
    """One trace per object (its concept:name the object, so no tom:object is needed)."""
    keys = {"activity": "concept:name", "actor": "org:resource", "id": "tom:id", "request": "tom:request"}
    by_object: dict[str, list[dict[str, Any]]] = {}
    for e in events:
        by_object.setdefault(e["object"], []).append(e)
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<log xes.version="1849-2016">']
    for obj, items in by_object.items():
        lines.append(f'  <trace><string key="concept:name" value={quoteattr(obj)}/>')
        for e in items:
            attrs = [f'<date key="time:timestamp" value={quoteattr(e["time"])}/>']
            attrs += [f"<string key={quoteattr(x)} value={quoteattr(e[k])}/>" for k, x in keys.items() if e.get(k)]
            if e.get("to_stage"):
                attrs.append(f'<string key="tom:to_stage" value={quoteattr(e["to_stage"])}/>')
            attrs += [_xes_attribute(k, v) for k, v in e.get("properties", {}).items()]
            lines.append("    <event>" + "".join(attrs) + "</event>")
        lines.append("  </trace>")
    lines.append("</log>")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_ocel(events: list[dict[str, Any]], path: Path) -> Path:
    objects = sorted({e["object"] for e in events})
    document = {
        "objectTypes": [{"name": "entity", "attributes": []}],
        "eventTypes": [{"name": a, "attributes": []} for a in sorted({e["activity"] for e in events})],
        "objects": [{"id": o, "type": "entity"} for o in objects],
        "events": [
            {
                "id": e["id"],
                "type": e["activity"],
                "time": e["time"],
                "attributes": [
                    *([{"name": "org:resource", "value": e["actor"]}] if e.get("actor") else []),
                    *([{"name": "request", "value": e["request"]}] if e.get("request") else []),
                    *([{"name": "to_stage", "value": e["to_stage"]}] if e.get("to_stage") else []),
                    *({"name": k, "value": v} for k, v in e.get("properties", {}).items()),
                ],
                "relationships": [{"objectId": e["object"], "qualifier": "acts on"}],
            }
            for e in events
        ],
    }
    path.write_text(json.dumps(document, indent=1), encoding="utf-8")
    return path


WRITERS = {"csv": write_csv, "json": write_json, "jsonl": write_jsonl, "xes": write_xes, "ocel": write_ocel}
SUFFIXES = {"csv": ".csv", "json": ".json", "jsonl": ".jsonl", "xes": ".xes", "ocel": ".jsonocel"}


def write_form(form: str, events: list[dict[str, Any]], directory: Path) -> Path:
    """`events` (dicts of events.md's fields) written as one log in `form`."""
    return WRITERS[form](events, directory / f"log{SUFFIXES[form]}")

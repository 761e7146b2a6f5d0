"""Synthetic event logs with planted violations, and the findings they must produce.

`generate_log(bundle, start, weeks, seed)` writes a governance quarter for an operating model
(a bundle as sections of plain dicts: the single-file form `tomgraph synth` writes, or a bundle
directory read by `sections_of`): for every active model, change and deployment cycles (a
request by a developer, an approval by a person who holds the right through a role, then the
deployment), reviews, shutdown-free operation; use cases moving through their stages; access
requests granted by their approver; incidents opened and escalated. Actors are written by id or
by one of their aliases. Then it plants a few events of each conformance check's kind, each in a
way that trips that check only, and lists the findings they must produce: the generator's
cross-check of the checks, independent of their Cypher.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from queries.catalog import SEVERITY_RANK, load_catalog

FIELDS = ("id", "time", "activity", "object", "actor", "request", "to_stage")
ACTIVE = frozenset({"pilot", "production"})
RIGHTS = {"change": "change_approvers", "deployment": "deployment_approvers", "shutdown": "shutdown_authority"}


def _list(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, (list, tuple)) else [str(value)]


def sections_of(entities: Iterable[Any]) -> dict[str, list[dict[str, Any]]]:
    """Validated entities (``loaders.read_bundle(path).entities``) as sections of plain dicts."""
    out: dict[str, list[dict[str, Any]]] = {}
    for e in entities:
        item = {"id": e.id, **e.props, **{k: list(v) for k, v in e.refs.items()}}
        out.setdefault(e.section, []).append(item)
    return out


def neo4j_time(moment: datetime) -> str:
    """A UTC time as Neo4j's toString prints it (and as the log writes it)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class _Org:
    names: dict[str, str]
    aliases: dict[str, list[str]]
    holders: dict[str, list[str]]
    models: list[dict[str, Any]]
    max_days: dict[str, int]
    delegated: dict[tuple[str, str], list[tuple[str, str | None, str | None]]]

    def people_with(self, model: dict[str, Any], right: str) -> list[str]:
        """Who holds `right` on `model` through a role (sorted)."""
        return sorted({p for role in _list(model.get(RIGHTS[right])) for p in self.holders.get(role, [])})

    def may(self, person: str, model: dict[str, Any], right: str, day: date) -> bool:
        """Whether `person` effectively holds `right` on `model` on `day` (roles and delegations in force)."""
        if person in self.people_with(model, right):
            return True
        for to, start, end in self.delegated.get((model["id"], right), []):
            in_force = (start is None or start <= day.isoformat()) and (end is None or day.isoformat() <= end)
            if in_force and (to == person or person in self.holders.get(to, [])):
                return True
        return False


def _org(bundle: dict[str, Any]) -> _Org:
    holders: dict[str, list[str]] = {}
    aliases: dict[str, list[str]] = {}
    for p in bundle.get("people", []):
        aliases[p["id"]] = _list(p.get("aliases"))
        for role in _list(p.get("holds")):
            holders.setdefault(role, []).append(p["id"])
    models = [m for m in bundle.get("models", []) if m.get("stage") in ACTIVE]
    right_of = {"change_approval": "change", "deployment_approval": "deployment", "shutdown": "shutdown"}
    # The models each role holds each right on (in model order): a delegation covers those of
    # its giver's, all or the ones it names.
    held: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for m in models:
        for kind, field_name in RIGHTS.items():
            for role in dict.fromkeys(_list(m.get(field_name))):
                held.setdefault((kind, role), []).append(m)
    delegated: dict[tuple[str, str], list[tuple[str, str | None, str | None]]] = {}
    for d in bundle.get("delegations", []):
        right = right_of.get(d.get("right", ""))
        if right is None:
            continue
        giver = _list(d.get("from"))[0]
        named = set(_list(d.get("models")))
        for m in held.get((right, giver), []):
            if not named or m["id"] in named:
                start = str(d["valid_from"]) if d.get("valid_from") else None
                end = str(d["valid_to"]) if d.get("valid_to") else None
                delegated.setdefault((m["id"], right), []).append((_list(d.get("to"))[0], start, end))
    return _Org(
        names={p["id"]: p.get("name", p["id"]) for p in bundle.get("people", [])},
        aliases=aliases,
        holders=holders,
        models=models,
        max_days={
            str(p["risk_tier"]): int(p["approval_max_days"])
            for p in bundle.get("policies", [])
            if p.get("approval_max_days") is not None
        },
        delegated=delegated,
    )


@dataclass
class SynthLog:
    """The events (field dicts, time order) and the findings they must produce."""

    events: list[dict[str, Any]] = field(default_factory=list)
    findings: list[dict[str, Any]] = field(default_factory=list)


class _Writer:
    def __init__(self, bundle: dict[str, Any], start: date, weeks: int, seed: int, clean_models: int | None) -> None:
        self.clean_models = clean_models
        self.bundle = bundle
        self.org = _org(bundle)
        self.rng = random.Random(seed)
        self.start = datetime(start.year, start.month, start.day, tzinfo=UTC)
        self.days = weeks * 7
        self.log = SynthLog()
        self.counter = 0
        self.catalog = load_catalog()

    def actor(self, person: str) -> str:
        """A person's id, or one of their aliases now and then (as exported by other systems)."""
        names = self.org.aliases.get(person, [])
        return self.rng.choice(names) if names and self.rng.random() < 0.5 else person

    def emit(self, moment: datetime, activity: str, obj: str, actor: str | None, **extra: str) -> str:
        self.counter += 1
        event_id = f"EV-{self.counter:07d}"
        self.log.events.append(
            {"id": event_id, "time": neo4j_time(moment), "activity": activity, "object": obj, "actor": actor, **extra}
        )
        return event_id

    def at(self, day: int, hour: int) -> datetime:
        return self.start + timedelta(days=day, hours=hour, minutes=self.rng.randrange(0, 60))

    def requesters(self, model: dict[str, Any]) -> list[str]:
        roles = _list(model.get("developers")) or _list(model.get("owner"))
        return sorted({p for r in roles for p in self.org.holders.get(r, [])})

    # ---- clean activity ----------------------------------------------------------------------

    def cycle(self, model: dict[str, Any], kind: str, day: int) -> int:
        """request, approval by a holder other than the requester (within the policy), deployment;
        the day of the deployment (`day` when there is nobody to run the cycle)."""
        approvers = self.org.people_with(model, kind)
        requesters = [p for p in self.requesters(model) if p not in approvers] or [
            p for p in self.requesters(model) if len(approvers) > 1
        ]
        if not approvers or not requesters:
            return day
        requester = self.rng.choice(requesters)
        approver = self.rng.choice([a for a in approvers if a != requester])
        limit = self.org.max_days.get(str(model.get("risk_tier")), 30)
        wait = self.rng.randint(0, max(0, min(limit - 1, 4)))
        request = self.emit(self.at(day, 9), f"{kind}_requested", model["id"], self.actor(requester))
        if kind == "change" and self.rng.random() < 0.15:
            self.emit(self.at(day + wait, 14), "change_rejected", model["id"], self.actor(approver), request=request)
            return day + wait
        self.emit(self.at(day + wait, 14), f"{kind}_approved", model["id"], self.actor(approver), request=request)
        deployer = self.rng.choice(self.requesters(model))
        self.emit(
            self.at(day + wait + 1, 10),
            "change_deployed" if kind == "change" else "deployed",
            model["id"],
            self.actor(deployer),
        )
        return day + wait + 1

    def slow_plants(self, per_check: int) -> list[tuple[dict[str, Any], str, str, int]]:
        """The planted slow approvals: (model, approver, requester, day of the request)."""
        base = self.days - 20
        with_approvers = [m for m in self.org.models if self.org.people_with(m, "change")]
        slow = [m for m in with_approvers if str(m.get("risk_tier")) in self.org.max_days and self.requesters(m)]
        plants = []
        for i in range(min(per_check, len(slow))):
            m = slow[i % len(slow)]
            approver = self.org.people_with(m, "change")[0]
            requester = next((p for p in self.requesters(m) if p != approver), None)
            if requester is not None:
                plants.append((m, approver, requester, base - self.org.max_days[str(m["risk_tier"])] - 2 + i))
        return plants

    def clean(self, quiet_from: dict[str, int] | None = None) -> None:
        """Background activity that breaks no rule. A model in `quiet_from` starts no change or
        deployment cycle that could still run on that day (a cycle takes at most 5 days), so a
        planted sequence on it is not interleaved with background approvals and deployments."""
        last = max(0, self.days - 21)  # the last three weeks are for the planted events
        quiet_from = quiet_from or {}
        for model in self.org.models[: self.clean_models]:
            day = self.rng.randint(0, 6)
            stop = min(last, quiet_from.get(model["id"], last) - 6)
            while day < stop:
                kind = "deployment" if self.rng.random() < 0.3 else "change"
                day = self.cycle(model, kind, day) + self.rng.randint(1, 6)
            owners = [p for r in _list(model.get("owner")) for p in self.org.holders.get(r, [])]
            if owners:
                self.emit(
                    self.at(self.rng.randint(0, last), 11), "review_completed", model["id"], self.actor(owners[0])
                )
        for use_case in self.bundle.get("use_cases", []):
            sponsors = [p for r in _list(use_case.get("sponsor")) for p in self.org.holders.get(r, [])]
            path = {
                "approved": ["approved"],
                "delivering": ["approved", "delivering"],
                "live": ["approved", "delivering", "live"],
            }
            stages = path.get(use_case.get("stage", ""), [])
            if not sponsors or not stages:
                continue
            day = self.rng.randint(0, 10)
            for stage in stages:
                self.emit(self.at(day, 15), "stage_changed", use_case["id"], self.actor(sponsors[0]), to_stage=stage)
                day += self.rng.randint(5, 20)
        owners_of = {d["id"]: _list(d.get("owners")) for d in self.bundle.get("data_domains", [])}
        people = sorted(self.org.names)
        for row in self.bundle.get("access", [])[: None if self.clean_models is None else self.clean_models]:
            if row.get("status") != "granted":
                continue
            roles = _list(row.get("approver")) or owners_of.get(_list(row.get("data_domain"))[0], [])
            deciders = sorted({p for r in roles for p in self.org.holders.get(r, [])})
            asker = next((p for p in (self.rng.choice(people) for _ in range(20)) if p not in deciders), None)
            if not deciders or asker is None:
                continue
            day = self.rng.randint(0, self.days - 28)
            request = self.emit(self.at(day, 9), "access_requested", row["id"], self.actor(asker))
            self.emit(self.at(day + 1, 9), "access_granted", row["id"], self.actor(deciders[0]), request=request)
        for incident in self.bundle.get("incidents", []):
            day = self.rng.randint(0, self.days - 28)
            self.emit(self.at(day, 8), "incident_opened", incident["id"], None)
            owner = [p for r in _list(incident.get("owner")) for p in self.org.holders.get(r, [])]
            if owner:
                self.emit(self.at(day, 12), "escalated", incident["id"], self.actor(owner[0]))

    # ---- planted violations --------------------------------------------------------------------

    def expect(self, check: str, subjects: list[str], model: dict[str, Any] | None, fields: dict[str, Any]) -> None:
        spec = self.catalog.get(check)
        severity = spec.spec.severity
        if model is not None and spec.spec.escalation and model.get("risk_tier") == "high":
            severity = "critical"
        assert spec.message is not None
        self.log.findings.append(
            {
                "check": check,
                "severity": severity,
                "subjects": subjects,
                "accountable": next(iter(_list(model.get("owner"))), None) if model else None,
                "message": spec.message.render(fields),
                "remediation": spec.spec.remediation,
            }
        )

    def plant(self, per_check: int) -> None:
        base = self.days - 20
        models = self.org.models
        outsiders = sorted(self.org.names)
        for i in range(per_check):
            day = base + i * 2
            # unapproved-deployment: deployed with no approval since the previous deployment
            m = models[i % len(models)]
            person = (self.requesters(m) or outsiders)[0]
            moment = self.at(day, 16)
            ev = self.emit(moment, "deployed", m["id"], self.actor(person))
            self.expect(
                "unapproved-deployment",
                [ev, m["id"], person],
                m,
                {"model": m["name"], "event": ev, "time": neo4j_time(moment)},
            )
            # unapproved-change: requested, then deployed without approval
            m = models[(i + 1) % len(models)]
            person = (self.requesters(m) or outsiders)[0]
            self.emit(self.at(day, 9), "change_requested", m["id"], self.actor(person))
            moment = self.at(day + 1, 16)
            ev = self.emit(moment, "change_deployed", m["id"], self.actor(person))
            self.expect(
                "unapproved-change",
                [ev, m["id"], person],
                m,
                {"model": m["name"], "event": ev, "time": neo4j_time(moment)},
            )
            # unauthorized-approval: approved by someone without the right, never deployed
            m = models[(i + 2) % len(models)]
            requester = (self.requesters(m) or outsiders)[0]
            moment = self.at(day + 1, 11)
            intruder = next(p for p in outsiders if p != requester and not self.org.may(p, m, "change", moment.date()))
            request = self.emit(self.at(day, 9), "change_requested", m["id"], self.actor(requester))
            ev = self.emit(moment, "change_approved", m["id"], self.actor(intruder), request=request)
            self.expect(
                "unauthorized-approval",
                [ev, m["id"], intruder],
                m,
                {
                    "event": ev,
                    "actor": intruder,
                    "activity": "change approved",
                    "object": m["name"],
                    "time": neo4j_time(moment),
                    "right": "change approval",
                },
            )
            # unauthorized-shutdown
            m = models[(i + 3) % len(models)]
            moment = self.at(day + 1, 18)
            intruder = next(p for p in reversed(outsiders) if not self.org.may(p, m, "shutdown", moment.date()))
            ev = self.emit(moment, "shutdown", m["id"], self.actor(intruder))
            self.expect(
                "unauthorized-shutdown",
                [ev, m["id"], intruder],
                m,
                {"event": ev, "actor": intruder, "model": m["name"], "time": neo4j_time(moment)},
            )
            # activity-on-unregistered-entity: shadow AI deployed by a known person
            shadow = f"shadow-ai-{i + 1}"
            person = outsiders[i % len(outsiders)]
            moment = self.at(day, 13)
            ev = self.emit(moment, "deployed", shadow, self.actor(person))
            self.expect(
                "activity-on-unregistered-entity",
                [ev, shadow, person],
                None,
                {"activity": "deployed", "object": shadow, "event": ev, "time": neo4j_time(moment)},
            )
            # unknown-actor: a review by an account nobody is known as
            m = models[(i + 4) % len(models)]
            moment = self.at(day, 17)
            account = f"svc-bot-{i + 1}"
            ev = self.emit(moment, "review_completed", m["id"], account)
            self.expect(
                "unknown-actor",
                [ev, m["id"]],
                None,
                {
                    "actor": account,
                    "activity": "review completed",
                    "object": m["id"],
                    "event": ev,
                    "time": neo4j_time(moment),
                },
            )
        self.plant_self_and_slow(per_check, base)

    def plant_self_and_slow(self, per_check: int, base: int) -> None:
        with_approvers = [m for m in self.org.models if self.org.people_with(m, "change")]
        for i in range(min(per_check, len(with_approvers))):
            # self-approval-in-practice: a holder of change approval approves their own request
            m = with_approvers[i % len(with_approvers)]
            holder = self.org.people_with(m, "change")[0]
            day = base + 8 + i
            request = self.emit(self.at(day, 9), "change_requested", m["id"], self.actor(holder))
            moment = self.at(day, 15)
            ev = self.emit(moment, "change_approved", m["id"], self.actor(holder), request=request)
            self.emit(self.at(day + 1, 10), "change_deployed", m["id"], self.actor(holder))
            self.expect(
                "self-approval-in-practice",
                [ev, m["id"], holder],
                m,
                {"actor": holder, "request": request, "object": m["name"], "event": ev, "time": neo4j_time(moment)},
            )
        for m, approver, requester, day in self.slow_plants(per_check):
            limit = self.org.max_days[str(m["risk_tier"])]
            asked = self.at(day, 9)
            request = self.emit(asked, "change_requested", m["id"], self.actor(requester))
            given = asked + timedelta(days=limit, hours=36)
            ev = self.emit(given, "change_approved", m["id"], self.actor(approver), request=request)
            self.emit(given + timedelta(hours=2), "change_deployed", m["id"], self.actor(requester))
            self.expect(
                "slow-approval",
                [ev, m["id"], approver],
                m,
                {
                    "object": m["name"],
                    "activity": "change approval",
                    "request": request,
                    "days": round((given - asked).total_seconds() / 86400, 1),
                    "event": ev,
                    "max_days": limit,
                },
            )


def generate_log(
    bundle: dict[str, Any],
    start: date,
    weeks: int = 13,
    seed: int = 0,
    per_check: int = 3,
    clean_models: int | None = None,
) -> SynthLog:
    """A quarter (`weeks` from `start`) of clean events for `bundle` plus `per_check` planted
    violations of each conformance check (fewer where the bundle has no model to plant them on),
    in time order, with the findings they must produce (most severe first, as a run sorts them).
    `clean_models`: clean activity for the first so many active models only (None: all)."""
    writer = _Writer(bundle, start, weeks, seed, clean_models)
    quiet_from: dict[str, int] = {}
    for m, _approver, _requester, day in writer.slow_plants(per_check):
        quiet_from[m["id"]] = min(day, quiet_from.get(m["id"], day))
    writer.clean(quiet_from)
    writer.plant(per_check)
    writer.log.events.sort(key=lambda e: (e["time"], e["id"]))
    writer.log.findings.sort(key=lambda f: (SEVERITY_RANK[f["severity"]], f["check"], f["subjects"]))
    return writer.log


def write_csv(events: Iterable[dict[str, Any]], path: Path) -> int:
    """Write events as a CSV log (events.md's columns); how many were written."""
    n = 0
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(FIELDS)
        for e in events:
            writer.writerow([e.get(k) or "" for k in FIELDS])
            n += 1
    return n


def bulk_events(bundle: dict[str, Any], count: int, start: date, seed: int = 0) -> Iterator[dict[str, Any]]:
    """`count` clean change cycles (request, approval naming its request, deployment) over
    `bundle`'s active models, for benchmarks: streamed, never held in memory; ids ``B-<n>``."""
    org = _org(bundle)
    rng = random.Random(seed)
    models = [m for m in org.models if org.people_with(m, "change")]
    base = datetime(start.year, start.month, start.day, tzinfo=UTC)
    people = sorted(org.names)
    n = 0
    cycle = 0
    while n < count:
        m = models[cycle % len(models)]
        approvers = org.people_with(m, "change")
        minute = cycle // len(models)
        t = base + timedelta(minutes=minute * 7)
        requester = rng.choice(people)
        approver = approvers[cycle % len(approvers)]
        request = f"B-{n + 1}"
        for activity, actor, offset in (
            ("change_requested", requester, 0),
            ("change_approved", approver, 1),
            ("change_deployed", requester, 2),
        ):
            if n >= count:
                return
            n += 1
            yield {
                "id": f"B-{n}",
                "time": neo4j_time(t + timedelta(minutes=offset)),
                "activity": activity,
                "object": m["id"],
                "actor": actor,
                "request": request if activity == "change_approved" else None,
            }
        cycle += 1


def write_for_synth(bundle: dict[str, Any], expected: dict[str, Any], out_dir: Path, as_of: date) -> None:
    """`tomgraph synth`'s events: ``events.csv`` (a quarter ending three weeks before `as_of`) and
    its planted findings added to `expected` (re-sorted as a run sorts them)."""
    log = generate_log(bundle, as_of - timedelta(weeks=13), weeks=13, seed=0, per_check=3, clean_models=500)
    write_csv(log.events, out_dir / "events.csv")
    findings = expected["findings"] + log.findings
    findings.sort(key=lambda f: (SEVERITY_RANK[f["severity"]], f["check"], f["subjects"]))
    expected["findings"] = findings

"""Cypher shared by the conformance checks and the event metrics (events.md)."""

from __future__ import annotations

REQUEST_ANSWERED = """CASE WHEN e.request IS NOT NULL
  THEN head(COLLECT {
    MATCH (r:Event {scenario: $events_scenario, id: e.request}) USING INDEX SEEK r:Event(scenario, id)
    RETURN r
  })
  ELSE head(COLLECT {
    MATCH (r:Event {scenario: $events_scenario, object: e.object,
                    activity: CASE e.activity WHEN 'change_approved' THEN 'change_requested'
                                              ELSE 'deployment_requested' END})
    USING INDEX SEEK r:Event(scenario, object, activity, time)
    WHERE r.time < e.time
    RETURN r ORDER BY r.scenario DESC, r.object DESC, r.activity DESC, r.time DESC LIMIT 1
  }) END"""
"""The request event an approval ``e`` (a ``change_approved`` or ``deployment_approved`` bound
before it) answers, or null: the event its ``request`` names, or else the latest request of the
same kind on its object before it (events.md, ``self-approval-in-practice``). An expression, for
``WITH ..., {{request_answered}} AS r`` in a check file. Ordering by every property of the
(scenario, object, activity, time) index lets Neo4j read it backwards and stop at the first
entry instead of sorting every earlier request of the object. The index hints keep both look-ups
index seeks when Neo4j plans the query on statistics from before a large load (it would scan
the scenario's events once per approval)."""

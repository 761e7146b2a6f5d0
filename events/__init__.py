"""Event logs and their conformance to the decision rights (events.md).

One room for what people *did*, next to what the operating model says they *may* do:

- ``events.records``: the fields of an event, the activities, and the validation of one record;
- ``events.forms``: reading each form (CSV, JSON, JSON Lines, XES, OCEL 2.0 JSON) as a stream of
  records with their places;
- ``events.store``: loading a log into Neo4j, all validated before anything is written,
  idempotent by event id;
- ``events.windows``: which version of a scenario was in force when (the one place that asks);
- ``events.conformance``: running the conformance checks (check files in ``queries/checks`` with
  ``events: true``) once per version window;
- ``events.stats``: approval lead times, authorized share, cycle times, per-approver counts;
- ``events.synth``: synthetic logs with planted violations.
"""

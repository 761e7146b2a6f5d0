"""Maturity: the stages of an AI operating model, their criteria as data files, and the scorecard
(maturity.md). Criteria live in ``queries/maturity/criteria`` (and in the directories of the
``maturity_dirs`` setting), one YAML file each, with fixtures beside them, like the gap checks."""

"""Importers: turn another tool's data into a bundle (import.md), and export a scenario back.

Every importer reads its source through a hardened parser (`importers.safe`), builds the
sections with a `BundleBuilder`, and ends with `BundleBuilder.finish()`, which leaves out every
reference that resolves to nothing and every value the ontology refuses, and lists them in the
`ImportSummary`, so an imported bundle always loads and no loss is silent.
"""

"""The `tomgraph` command line (cli.md)."""

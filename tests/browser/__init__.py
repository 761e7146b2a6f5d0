"""Shared headless-Chromium helpers for tests of tomgraph's HTML pages (views, reports)."""

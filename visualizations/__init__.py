"""Interactive graph views (view.py) and reports."""

"""tomgraph's REST API (FastAPI): `create_app(settings)` builds it; nothing connects at import."""

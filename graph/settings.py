"""tomgraph's settings: one object, read from the environment, created by each entry point."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from platformdirs import user_data_path
from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

NEO4J_SCHEMES = ("bolt", "bolt+s", "bolt+ssc", "neo4j", "neo4j+s", "neo4j+ssc")
"""The URI schemes of the Neo4j driver that speak Bolt."""


class SettingsError(Exception):
    """Settings that cannot be used: one line per bad setting, `NAME: MESSAGE`, NAME being the
    environment variable (`TOMGRAPH_QUERY_TIMEOUT_S`, `NEO4J_URI`)."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def _default_data_dir() -> Path:
    return user_data_path("tomgraph", appauthor=False)


class Settings(BaseSettings):
    """Everything configurable. `NEO4J_*` keep Neo4j's usual names; the rest are `TOMGRAPH_*`."""

    model_config = SettingsConfigDict(env_prefix="TOMGRAPH_", extra="ignore", populate_by_name=True)

    neo4j_uri: str | None = Field(
        default=None,
        validation_alias=AliasChoices("NEO4J_URI", "neo4j_uri"),
        description="Any Neo4j 5 (bolt:// or neo4j://). Unset: tomgraph's own local Neo4j.",
    )
    neo4j_user: str = Field(
        default="neo4j", validation_alias=AliasChoices("NEO4J_USER", "neo4j_user"), description="With NEO4J_URI."
    )
    neo4j_password: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("NEO4J_PASSWORD", "neo4j_password"),
        description="With NEO4J_URI. The local Neo4j generates its own and keeps it in the data directory.",
    )
    neo4j_database: str = Field(
        default="neo4j",
        validation_alias=AliasChoices("NEO4J_DATABASE", "neo4j_database"),
        description="With NEO4J_URI.",
    )

    data_dir: Path = Field(default_factory=_default_data_dir, description="Local state: Neo4j, keys, runtime.")
    local_neo4j_port: int = Field(
        default=7688, ge=1, le=65535, description="Bolt port of the local Neo4j (127.0.0.1 only)."
    )
    local_neo4j_heap: str = Field(
        default="6g",
        pattern=r"^\d+[mg]$",
        description="A large bundle loads in one transaction; 6g fits ~1M relationships.",
    )
    local_neo4j_pagecache: str = Field(default="1g", pattern=r"^\d+[mg]$", description="Page cache of the local Neo4j.")
    local_neo4j_start_timeout_s: float = Field(
        default=180.0, description="Seconds to wait for the local Neo4j to answer."
    )
    local_neo4j_tx_memory: str | None = Field(
        default=None,
        pattern=r"^\d+[kmg]$",
        description="Most memory one transaction may use in the local Neo4j (default: 3/4 of the heap); "
        "Neo4j stops a query over it.",
    )
    local_neo4j_restarts: int = Field(
        default=5,
        ge=0,
        description="Restarts of a crashed local Neo4j within 10 minutes before its supervisor gives up.",
    )

    api_host: str = "127.0.0.1"
    api_keys_file: Path | None = Field(
        default=None, description="JSON file of API key hashes (default: DATA_DIR/api-keys.json)."
    )
    api_port: int = Field(default=8000, ge=1, le=65535)
    api_telemetry: bool = Field(
        default=False,
        description="FastAPI's native OpenTelemetry (traces, metrics, logs to the configured providers).",
    )
    api_cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Browser origins allowed to call the API across origins (comma-separated); none by default.",
    )
    api_max_json_bytes: int = Field(
        default=1024 * 1024,
        gt=0,
        description="Largest body of a JSON route (query, waivers); uploads use max_file_bytes.",
    )
    api_body_timeout_s: float = Field(
        default=60.0, gt=0, description="A request body must arrive whole within this time of its headers (else 408)."
    )
    api_header_timeout_s: float = Field(
        default=10.0,
        gt=0,
        description="A request's headers must arrive whole within this time (else the connection closes).",
    )

    check_dirs: Annotated[list[Path], NoDecode] = Field(
        default_factory=list, description="Extra directories of custom gap checks (os.pathsep-separated)."
    )

    maturity_dirs: Annotated[list[Path], NoDecode] = Field(
        default_factory=list, description="Extra directories of custom maturity criteria (os.pathsep-separated)."
    )
    framework_dirs: Annotated[list[Path], NoDecode] = Field(
        default_factory=list, description="Extra directories of custom frameworks (os.pathsep-separated)."
    )

    view_node_cap: int = Field(default=1000, gt=0, description="Above this many nodes a view groups by kind.")

    query_timeout_s: float = Field(
        default=10.0, gt=0, description="Deadline of one ad-hoc query, planning and run together (seconds)."
    )
    query_row_cap: int = Field(default=10_000, gt=0, description="Most rows an ad-hoc query returns (`truncated`).")
    query_max_bytes: int = Field(
        default=10 * 1024 * 1024, gt=0, description="Largest ad-hoc query answer (JSON bytes of the rows); 422 above."
    )
    query_max_length: int = Field(default=20_000, gt=0, description="Longest ad-hoc query text (UTF-8 bytes).")
    query_max_nesting: int = Field(default=40, gt=0, description="Deepest nesting of (), [] and {} in a query.")
    query_max_unions: int = Field(default=25, ge=0, description="Most UNIONs in one ad-hoc query.")
    query_max_operators: int = Field(
        default=500, gt=0, description="Most operators (+, =, AND, IN, ...) in one ad-hoc query."
    )
    query_pool_size: int = Field(
        default=4, gt=0, description="Neo4j connections of the query route's own pool (never shared with others)."
    )
    query_concurrency: int = Field(default=4, gt=0, description="Ad-hoc queries running at once; more get 429 at once.")

    max_file_bytes: int = Field(default=100 * 1024 * 1024, gt=0, description="Largest bundle file read.")
    max_entities: int = Field(default=500_000, gt=0, description="Most entities in one bundle.")
    max_yaml_nodes: int = Field(
        default=5_000_000, gt=0, description="Most YAML nodes after alias expansion (no billion laughs)."
    )
    load_tx_max_rows: int = Field(
        default=2_000_000,
        gt=0,
        description="Kept for compatibility: every load is now written in batches and switched in (graph/sync.py).",
    )

    events_load_wait_s: float = Field(
        default=600.0,
        gt=0,
        description="Seconds a load of events waits for another load into the same scenario to end, "
        "then fails having stored nothing.",
    )

    events_load_workers: int = Field(
        default=0,
        ge=0,
        le=32,
        description="Worker processes that check a large CSV or JSON Lines event log (16 MiB and up, "
        "about 160,000 events); 0: one per core this process may use, at most 4, and none on one core.",
    )

    history_keep_days: int | None = Field(
        default=None,
        ge=0,
        description="Versions not in force on any of the last N days are removed after a load (default: keep all).",
    )
    history_grace_s: float = Field(
        default=300.0,
        ge=0,
        description="A superseded copy of a version is deleted this long after it stopped being resolved.",
    )
    history_cache_size: int = Field(default=2, ge=0, description="Rebuilt past versions kept as copies.")

    @field_validator("check_dirs", "maturity_dirs", "framework_dirs", mode="before")
    @classmethod
    def _split_paths(cls, value: object) -> object:
        if isinstance(value, str):
            return [Path(p) for p in value.split(os.pathsep) if p.strip()]
        return value

    @field_validator("api_cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [o.strip() for o in value.split(",") if o.strip()]
        return value

    @field_validator("neo4j_uri")
    @classmethod
    def _neo4j_uri(cls, value: str | None) -> str | None:
        """A URI the Neo4j driver accepts, checked here so that a bad one is a clear error naming
        NEO4J_URI rather than the driver's exception when the first command connects."""
        if not value:
            return value
        try:
            parts = urlsplit(value)
            parts.port  # noqa: B018 (raises ValueError for a port out of range or not a number)
        except ValueError as e:
            raise ValueError(f"not a URI ({e})") from None
        if parts.scheme not in NEO4J_SCHEMES:
            schemes = ", ".join(f"{s}://" for s in NEO4J_SCHEMES)
            raise ValueError(f"the scheme '{parts.scheme}' is not one of {schemes}")
        if not parts.hostname:
            raise ValueError("names no host")
        return value

    @classmethod
    def from_env(cls) -> Settings:
        """The settings from the environment; a SettingsError naming every bad variable otherwise."""
        try:
            return cls()
        except ValidationError as e:
            problems = []
            for error in e.errors():
                name = _variable(str(error["loc"][0])) if error["loc"] else "settings"
                message = str(error["msg"]).removeprefix("Value error, ")
                problems.append(f"{name}: {message}")
            raise SettingsError(problems) from None

    @property
    def uses_local_neo4j(self) -> bool:
        return not self.neo4j_uri

    @property
    def local_neo4j_dir(self) -> Path:
        return self.data_dir / "neo4j"


def env_name(name: str, alias: object) -> str:
    """The environment variable the settings field `name` (with validation alias `alias`) is read from."""
    if isinstance(alias, AliasChoices):
        first = alias.choices[0]
        if isinstance(first, str):
            return first
    return f"TOMGRAPH_{name.upper()}"


def _variable(field: str) -> str:
    """The environment variable of the field a ValidationError names (by its alias, `NEO4J_URI`,
    or by its name)."""
    if field.isupper():
        return field
    info = Settings.model_fields.get(field)
    return env_name(field, info.validation_alias if info else None)

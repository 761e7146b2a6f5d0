"""API keys: stored only as SHA-256 hashes, looked up by key id, compared in constant time.

A key reads `tg_<key id>_<secret>`; the key id is public (it names the key in `tomgraph keys
list`), the 256-bit secret is shown once, when the key is created. Keys are high-entropy random
strings, so a plain SHA-256 is enough (no password stretching needed).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import os
import re
import secrets
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

from graph.settings import Settings

KEYS_FILE_ENV = "TOMGRAPH_API_KEYS_FILE"
KEY_PATTERN = re.compile(r"^tg_(?P<id>[0-9a-f]{12})_(?P<secret>[A-Za-z0-9_\-]{43})$")


class Role(StrEnum):
    reader = "reader"
    editor = "editor"
    admin = "admin"

    @property
    def rank(self) -> int:
        return list(Role).index(self)

    def allows(self, required: Role) -> bool:
        return self.rank >= required.rank


@dataclass(frozen=True)
class StoredKey:
    id: str
    name: str
    role: Role
    sha256: str
    created: str


class KeyFileError(RuntimeError):
    """The keys file cannot be read; the server must not guess (it would run open)."""


def keys_file(settings: Settings) -> Path:
    """Where the key hashes live: the `api_keys_file` setting or TOMGRAPH_API_KEYS_FILE, else the data dir."""
    # The environment is read again here (not only when Settings was built) so that a running
    # process and its tests can point at another keys file.
    configured = settings.api_keys_file or os.environ.get(KEYS_FILE_ENV)
    return Path(configured) if configured else settings.data_dir / "api-keys.json"


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class KeyStore:
    """The keys file, re-read when it changes so that `tomgraph keys` takes effect at once.

    The store runs *open* (every caller is admin) only while no keys file has ever been seen:
    from the moment the file exists, keys are enforced for the life of the process, and an
    empty key set (every key revoked) or a deleted file refuses every caller. Revoking the last
    key therefore closes the API; it never reopens it (issue 13).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp: tuple[int, int] | None = None
        self._keys: dict[str, StoredKey] = {}
        self._file_seen = path.exists()

    @property
    def open_mode(self) -> bool:
        """True while no keys file has been seen by this process: every caller is admin."""
        if not self._file_seen and self.path.exists():
            self._file_seen = True
        return not self._file_seen

    def keys(self) -> dict[str, StoredKey]:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            self._stamp, self._keys = None, {}
            return self._keys
        self._file_seen = True
        stamp = (stat.st_mtime_ns, stat.st_size)
        if stamp != self._stamp:
            self._keys = {k.id: k for k in read_keys(self.path)}
            self._stamp = stamp
        return self._keys

    def authenticate(self, presented: str) -> StoredKey | None:
        """The stored key matching `presented`, or None; constant-time in the secret."""
        match = KEY_PATTERN.match(presented)
        if match is None:
            return None
        stored = self.keys().get(match["id"])
        if stored is None:
            return None
        return stored if hmac.compare_digest(stored.sha256, _hash(presented)) else None


class Unauthorized(Exception):
    """No usable key in the request; `detail` says what to send."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class Forbidden(Exception):
    """A valid key whose role is below the route's."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


OPEN_KEY_ID = "open"


def authenticate_header(store: KeyStore, authorization: str | None) -> tuple[str, Role]:
    """(key id, role) of the caller presenting `authorization` (the raw `Authorization` header).

    Open mode (no keys file was ever seen) gives (`open`, admin). Otherwise the header must be
    `Bearer <key>` naming a stored key, else `Unauthorized` (401). Used by the route dependency
    and, before any body is read, by `api.guard.RequestGuard`.
    """
    if store.open_mode:
        return OPEN_KEY_ID, Role.admin
    scheme, _, presented = (authorization or "").strip().partition(" ")
    if scheme.lower() != "bearer" or not presented.strip():
        raise Unauthorized("send `Authorization: Bearer <api key>`")
    stored = store.authenticate(presented.strip())
    if stored is None:
        if not store.keys():
            raise Unauthorized(
                "the API has no valid key (every key was revoked); an operator creates one with "
                "`tomgraph keys create --role ...`"
            )
        raise Unauthorized("unknown or revoked API key")
    return stored.id, stored.role


SESSION_METHODS = frozenset({"GET", "HEAD"})
"""The explorer's session cookie authorises reads only; anything that changes state needs the
key itself in `Authorization`, so a forged cross-site request can change nothing."""


def authenticate_request(
    store: KeyStore,
    sessions: SessionStore | None,
    method: str,
    authorization: str | None,
    session_token: str | None,
) -> tuple[str, Role]:
    """(key id, role) of a request: open mode; else, for a read (GET, HEAD) with no
    `Authorization` header, the explorer's session cookie when it names a live session; else the
    bearer key (`authenticate_header`, which raises `Unauthorized`). The one rule for the request
    guard (before the body), the routes' dependency and the explorer's pages.
    """
    if store.open_mode:
        return OPEN_KEY_ID, Role.admin
    if not (authorization or "").strip() and method in SESSION_METHODS and sessions is not None:
        key = sessions.key_for(session_token, store)
        if key is not None:
            return key.id, key.role
    return authenticate_header(store, authorization)


def check_role(key_id: str, role: Role, required: Role) -> None:
    """Raise `Forbidden` (403) unless `role` allows `required`."""
    if not role.allows(required):
        raise Forbidden(f"this needs the {required.value} role; key {key_id} is {role.value}")


def read_keys(path: Path) -> list[StoredKey]:
    try:
        data = json.loads(path.read_text())
        return [
            StoredKey(id=k["id"], name=k["name"], role=Role(k["role"]), sha256=k["sha256"], created=k["created"])
            for k in data["keys"]
        ]
    except FileNotFoundError:
        return []
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise KeyFileError(f"cannot read the API keys file {path}: {e}") from e


def _write_keys(path: Path, keys: list[StoredKey]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    body = json.dumps({"keys": [asdict(k) for k in keys]}, indent=2) + "\n"
    # Written to a private temporary file, then renamed: readers never see half a file.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".api-keys-")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(body)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def create_key(path: Path, role: Role, name: str = "") -> tuple[StoredKey, str]:
    """Add a key; return what is stored and the plain key (shown once, never stored)."""
    key_id = secrets.token_hex(6)
    plain = f"tg_{key_id}_{secrets.token_urlsafe(32)}"
    stored = StoredKey(
        id=key_id,
        name=name or f"{role.value}-{key_id}",
        role=role,
        sha256=_hash(plain),
        created=datetime.now(UTC).replace(microsecond=0).isoformat(),
    )
    _write_keys(path, [*read_keys(path), stored])
    return stored, plain


class LastKey(RuntimeError):
    """Revoking this key would leave no key: the API would refuse every caller."""


def revoke_key(path: Path, key_id: str, *, force: bool = False) -> bool:
    """Remove key `key_id`; False if there is none. Revoking the last key raises `LastKey`
    unless `force`: the file then stays, empty, and the API refuses every caller (it never
    falls back to running open)."""
    keys = read_keys(path)
    kept = [k for k in keys if k.id != key_id]
    if len(kept) == len(keys):
        return False
    if not kept and not force:
        raise LastKey(
            f"{key_id} is the last API key: without it the API refuses every request "
            "(it does not reopen); pass --force to revoke it anyway"
        )
    _write_keys(path, kept)
    return True


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class RefuseToServe(RuntimeError):
    """The API must not start as configured; the message says why and what to do."""


def check_can_serve(settings: Settings, host: str) -> None:
    """Refuse to serve a non-loopback address without API keys (or with an unreadable keys file).

    On loopback with no keys file the API runs open (rest.md, Authentication); with a keys file
    that holds no key (all revoked) it serves, refusing every caller with 401.
    """
    path = keys_file(settings)
    try:
        has_keys = bool(read_keys(path))
    except KeyFileError as e:
        raise RefuseToServe(str(e)) from e
    if not has_keys and not is_loopback(host):
        raise RefuseToServe(
            f"refusing to listen on {host} without API keys: create one with "
            f"`tomgraph keys create --role admin` (keys file: {path}), or listen on 127.0.0.1"
        )


SESSION_COOKIE = "tomgraph_session"
SESSION_IDLE_S = 8 * 3600


@dataclass
class Session:
    key_id: str
    last_seen: float


class SessionStore:
    """Browser sessions of the explorer (rest.md, "Added in v1.1"): a person pastes a key once and
    gets a random session token in a cookie; the key itself is never stored in the browser, a URL
    or a log. Sessions live in this process's memory (a restart signs everyone out), end after
    `SESSION_IDLE_S` without use, and die with their key: every use looks the key up again.
    """

    def __init__(self, idle_s: float = SESSION_IDLE_S) -> None:
        self.idle_s = idle_s
        self._sessions: dict[str, Session] = {}

    def create(self, key: StoredKey) -> str:
        self._expire(time.monotonic())
        token = secrets.token_urlsafe(32)
        self._sessions[_hash(token)] = Session(key.id, time.monotonic())
        return token

    def key_for(self, token: str | None, store: KeyStore) -> StoredKey | None:
        """The key a session token stands for, if the session is live and its key not revoked."""
        if not token:
            return None
        session = self._sessions.get(_hash(token))
        now = time.monotonic()
        if session is None or now - session.last_seen > self.idle_s:
            return None
        key = store.keys().get(session.key_id)
        if key is None:
            self._sessions.pop(_hash(token), None)
            return None
        session.last_seen = now
        return key

    def drop(self, token: str | None) -> None:
        if token:
            self._sessions.pop(_hash(token), None)

    def _expire(self, now: float) -> None:
        for digest in [d for d, s in self._sessions.items() if now - s.last_seen > self.idle_s]:
            del self._sessions[digest]

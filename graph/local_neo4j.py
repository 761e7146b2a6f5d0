"""tomgraph's own local Neo4j: Neo4j 5.26 LTS community, embedded in a small Java launcher.

Used whenever NEO4J_URI is not set. The jars come from Maven Central (the launcher's pom.xml pins
the version); the system Java 17 runs it with a bounded heap and page cache; Bolt listens on
127.0.0.1 only; authentication is on, with a password generated on first start and kept in the
data directory, readable only by the user.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from graph.settings import Settings

LAUNCHER_DIR = Path(__file__).parent / "neo4j_launcher"
MAIN_CLASS = "org.tomgraph.LocalNeo4j"
READY_LINE = "TOMGRAPH-NEO4J-READY"
SUPERVISOR_MODULE = "graph.neo4j_supervisor"
NEO4J_VERSION = "5.26.30"  # must match neo4j.version in neo4j_launcher/pom.xml (a test checks)


class LocalNeo4jError(RuntimeError):
    """A problem starting or stopping the local Neo4j, worded for the user."""


@dataclass(frozen=True)
class Paths:
    root: Path
    home: Path
    conf: Path
    password: Path
    pid: Path
    log: Path
    supervisor_pid: Path
    stop_request: Path
    crashes: Path

    @classmethod
    def of(cls, settings: Settings) -> Paths:
        root = settings.local_neo4j_dir
        return cls(
            root=root,
            home=root / "home",
            conf=root / "neo4j.conf",
            password=root / "password",
            pid=root / "neo4j.pid",
            log=root / "launcher.log",
            supervisor_pid=root / "supervisor.pid",
            stop_request=root / "stop",
            crashes=root / "crashes.log",
        )


@dataclass(frozen=True)
class Status:
    running: bool
    pid: int | None
    uri: str
    data_dir: Path


def uri(settings: Settings) -> str:
    return f"bolt://127.0.0.1:{settings.local_neo4j_port}"


def password(settings: Settings) -> str:
    """The local Neo4j's password, created (0600, in a 0700 directory) on first use."""
    paths = Paths.of(settings)
    _private_dir(paths.root)
    if not paths.password.exists():
        fd = os.open(paths.password, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(32))
    return paths.password.read_text().strip()


def _private_dir(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.chmod(0o700)


def _launcher_fingerprint() -> str:
    digest = hashlib.sha256()
    for source in sorted(LAUNCHER_DIR.rglob("*")):
        if source.is_file() and "target" not in source.parts:
            digest.update(source.relative_to(LAUNCHER_DIR).as_posix().encode())
            digest.update(source.read_bytes())
    return digest.hexdigest()[:16]


def runtime_dir(settings: Settings) -> Path:
    return settings.data_dir / "runtime" / _launcher_fingerprint()


def install(settings: Settings, *, quiet: bool = False) -> Path:
    """Fetch the Neo4j jars and build the launcher once; later calls return at once."""
    runtime = runtime_dir(settings)
    stamp = runtime / "installed"
    if stamp.exists():
        return runtime
    mvn = shutil.which("mvn")
    if mvn is None:
        raise LocalNeo4jError(
            "Maven (mvn) is needed to fetch Neo4j for the local database; install it or set NEO4J_URI"
        )
    _java()  # fail early, with a clear message, when Java is missing or too old
    runtime.mkdir(parents=True, exist_ok=True)
    cmd = [mvn, "-B", "-f", str(LAUNCHER_DIR / "pom.xml"), f"-Dtomgraph.build={runtime}", "package"]
    if quiet:
        cmd.insert(2, "-q")
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
        raise LocalNeo4jError(f"building the local Neo4j launcher with Maven failed:\n{tail}")
    stamp.write_text(_launcher_fingerprint())
    return runtime


def _java() -> str:
    java_home = os.environ.get("JAVA_HOME")
    java = str(Path(java_home) / "bin" / "java") if java_home else shutil.which("java")
    if not java or not Path(java).exists():
        raise LocalNeo4jError("Java 17 or 21 is needed for the local Neo4j; install it or set NEO4J_URI")
    out = subprocess.run([java, "-version"], capture_output=True, text=True).stderr
    major = _java_major(out)
    if major not in (17, 21):
        raise LocalNeo4jError(f"Neo4j 5.26 runs on Java 17 or 21, but {java} is Java {major}")
    return java


def _java_major(version_output: str) -> int | None:
    for token in version_output.replace('"', " ").split():
        head = token.split(".")[0]
        if head.isdigit() and token[0].isdigit():
            return int(head) if head != "1" else int(token.split(".")[1])
    return None


def _read_pid(paths: Paths, file: Path | None = None) -> int | None:
    try:
        return int((file or paths.pid).read_text().strip())
    except (FileNotFoundError, ValueError):
        return None


def _supervisor(paths: Paths) -> int | None:
    """The PID of the running supervisor (graph/neo4j_supervisor.py), if there is one."""
    pid = _read_pid(paths, paths.supervisor_pid)
    if pid is None or not _alive(pid):
        return None
    try:
        text = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return pid
    return pid if SUPERVISOR_MODULE.encode() in text else None


def _alive(pid: int) -> bool:
    """True while the process exists and is not a zombie (its sockets may still be open)."""
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    stat_file = Path(f"/proc/{pid}/stat")
    try:
        state = stat_file.read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state not in ("Z", "X")


def _is_our_process(pid: int) -> bool:
    if not _alive(pid):
        return False
    cmdline = Path(f"/proc/{pid}/cmdline")
    try:
        text = cmdline.read_bytes()
    except OSError:
        return not cmdline.parent.exists()  # no /proc (not Linux): trust the PID file
    # An exiting process shows an empty command line while it still holds its port.
    return MAIN_CLASS.encode() in text or text == b""


def _port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def status(settings: Settings) -> Status:
    paths = Paths.of(settings)
    pid = _read_pid(paths)
    running = pid is not None and _is_our_process(pid)
    return Status(running=running, pid=pid if running else None, uri=uri(settings), data_dir=paths.root)


def _write_conf(settings: Settings, paths: Paths) -> None:
    port = settings.local_neo4j_port
    paths.conf.write_text(
        "\n".join(
            [
                "server.bolt.enabled=true",
                f"server.bolt.listen_address=127.0.0.1:{port}",
                f"server.bolt.advertised_address=127.0.0.1:{port}",
                "dbms.security.auth_enabled=true",
                f"server.memory.pagecache.size={settings.local_neo4j_pagecache}",
                "db.tx_log.rotation.retention_policy=256M size",
                # A query must never take Neo4j down: Neo4j stops a transaction over these limits
                # (the query gets an error, the database stays up).
                f"db.memory.transaction.max={transaction_memory(settings)}",
                f"dbms.memory.transaction.total.max={_scaled(settings.local_neo4j_heap, 3, 4)}",
                # Bolt listens on 127.0.0.1 only and the password is 256 random bits, so locking the
                # user after failed attempts protects nothing: it only let any local process lock
                # tomgraph's own connections out for 5 s with three wrong passwords (issue 13).
                "dbms.security.auth_max_failed_attempts=0",
                "",
            ]
        )
    )


def _scaled(size: str, numerator: int, denominator: int) -> str:
    """`size` (e.g. `6g`, `512m`) times numerator/denominator, in whole megabytes."""
    unit = {"k": 1 / 1024, "m": 1, "g": 1024}[size[-1].lower()]
    return f"{max(int(int(size[:-1]) * unit * numerator / denominator), 1)}m"


def transaction_memory(settings: Settings) -> str:
    """Most memory one transaction may use: TOMGRAPH_LOCAL_NEO4J_TX_MEMORY, else 3/4 of the heap
    (a large load runs in one transaction and needs most of it)."""
    return settings.local_neo4j_tx_memory or _scaled(settings.local_neo4j_heap, 3, 4)


def start(settings: Settings, *, quiet: bool = False) -> Status:
    """Start the local Neo4j unless it runs already; return once Bolt answers."""
    paths = Paths.of(settings)
    current = status(settings)
    if current.running:
        return current
    supervisor = _supervisor(paths)
    if supervisor is not None:
        # Its Neo4j died and is being restarted: wait for that rather than start a second one.
        _wait_restarted(settings, paths, supervisor)
        return status(settings)
    if paths.pid.exists():
        # A PID file whose process is gone (crash, reboot): not ours to trust, remove it.
        paths.pid.unlink()
    port = settings.local_neo4j_port
    if _port_in_use(port):
        raise LocalNeo4jError(
            f"port {port} on 127.0.0.1 is already in use by another program; "
            "stop it or choose another port with TOMGRAPH_LOCAL_NEO4J_PORT"
        )
    runtime = install(settings, quiet=quiet)
    java = _java()
    _private_dir(paths.root)
    paths.home.mkdir(exist_ok=True, mode=0o700)
    password(settings)
    _write_conf(settings, paths)
    classpath = os.pathsep.join([str(runtime / "tomgraph-local-neo4j-1.jar"), str(runtime / "lib" / "*")])
    cmd = [
        java,
        "-Xms256m",
        f"-Xmx{settings.local_neo4j_heap}",
        "-XX:+UseG1GC",
        "-cp",
        classpath,
        MAIN_CLASS,
        str(paths.home),
        str(paths.conf),
        str(paths.password),
    ]
    paths.stop_request.unlink(missing_ok=True)
    paths.log.write_bytes(b"")
    # The supervisor runs the JVM and restarts it after a crash (graph/neo4j_supervisor.py).
    supervised = [
        sys.executable,
        "-m",
        SUPERVISOR_MODULE,
        str(paths.root),
        str(settings.local_neo4j_restarts),
        "--",
        *cmd,
    ]
    with open(paths.log, "ab") as log:
        process = subprocess.Popen(
            supervised,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    _wait_ready(settings, paths, process)
    return status(settings)


def _wait_restarted(settings: Settings, paths: Paths, supervisor: int) -> None:
    deadline = time.monotonic() + settings.local_neo4j_start_timeout_s
    while time.monotonic() < deadline:
        if status(settings).running and _port_in_use(settings.local_neo4j_port):
            return
        if not _alive(supervisor):
            raise LocalNeo4jError(f"the local Neo4j's supervisor gave up; see {paths.crashes} and {paths.log}")
        time.sleep(0.2)
    raise LocalNeo4jError(f"the local Neo4j did not come back within {settings.local_neo4j_start_timeout_s:.0f} s")


def _wait_ready(settings: Settings, paths: Paths, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + settings.local_neo4j_start_timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            paths.pid.unlink(missing_ok=True)
            raise LocalNeo4jError(
                f"the local Neo4j exited while starting; its log ({paths.log}) ends:\n{_tail(paths.log)}"
            )
        if (
            READY_LINE in paths.log.read_text(errors="replace")
            and _port_in_use(settings.local_neo4j_port)
            and status(settings).running
        ):
            return
        time.sleep(0.2)
    process.terminate()  # the supervisor stops its JVM on SIGTERM
    raise LocalNeo4jError(
        f"the local Neo4j did not answer within {settings.local_neo4j_start_timeout_s:.0f} s; see {paths.log}"
    )


def _tail(log: Path, lines: int = 12) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no log)"


def stop(settings: Settings, *, timeout_s: float = 60.0) -> bool:
    """Stop the local Neo4j cleanly (SIGTERM runs Neo4j's shutdown). Returns False if it was not running."""
    paths = Paths.of(settings)
    supervisor = _supervisor(paths)
    if supervisor is not None:
        # For good: the stop file and SIGTERM both tell the supervisor not to restart; it stops
        # its JVM cleanly and exits.
        paths.stop_request.touch()
        pid = _read_pid(paths)
        os.kill(supervisor, signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and _alive(supervisor):
            _reap(supervisor)
            time.sleep(0.2)
        if _alive(supervisor):
            os.kill(supervisor, signal.SIGKILL)
        _wait_gone(supervisor)
        _reap(supervisor)
        if pid is not None and _is_our_process(pid):
            os.kill(pid, signal.SIGKILL)
        if pid is not None:
            _finish(pid, paths, settings)
        paths.supervisor_pid.unlink(missing_ok=True)
        paths.stop_request.unlink(missing_ok=True)
        return True
    pid = _read_pid(paths)
    if pid is None or not _is_our_process(pid):
        paths.pid.unlink(missing_ok=True)
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and _alive(pid):
        _reap(pid)
        time.sleep(0.2)
    if _alive(pid):
        os.kill(pid, signal.SIGKILL)
    _finish(pid, paths, settings)
    return True


def _finish(pid: int, paths: Paths, settings: Settings) -> None:
    """After a stop or a kill: the process reaped, its PID file gone, its port free again."""
    _wait_gone(pid)
    _reap(pid)
    paths.pid.unlink(missing_ok=True)
    _wait_port_free(settings.local_neo4j_port)


def _wait_gone(pid: int) -> None:
    while _alive(pid):
        _reap(pid)
        time.sleep(0.05)


def _wait_port_free(port: int, timeout_s: float = 10.0) -> None:
    """The kernel may hold the listening socket a moment after the process is gone."""
    deadline = time.monotonic() + timeout_s
    while _port_in_use(port) and time.monotonic() < deadline:
        time.sleep(0.1)


def kill(settings: Settings) -> bool:
    """SIGKILL the local Neo4j and its supervisor (as a power cut would): no clean shutdown, no
    restart. Used by fault-injection tests."""
    paths = Paths.of(settings)
    supervisor = _supervisor(paths)
    if supervisor is not None:
        os.kill(supervisor, signal.SIGKILL)
        _wait_gone(supervisor)
        _reap(supervisor)
        paths.supervisor_pid.unlink(missing_ok=True)
    pid = _read_pid(paths)
    if pid is None or not _is_our_process(pid):
        return False
    os.kill(pid, signal.SIGKILL)
    _finish(pid, paths, settings)
    return True


def _reap(pid: int) -> None:
    """Collect the exit status when this process started Neo4j itself, so no zombie lingers."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)

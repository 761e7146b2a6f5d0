"""The HTTP layer against a real `tomgraph serve` (uvicorn in a child process) and the tests'
Neo4j (issue 13): authentication before any body, body size and time limits, slow and silent
clients, security headers, damaged and amplifying uploads, and a log without tracebacks."""

from __future__ import annotations

import base64
import hashlib
import io
import os
import re
import socket
import subprocess
import sys
import time
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import httpx
import psutil
import pytest
import yaml
from playwright.sync_api import Route

from api.auth import KEYS_FILE_ENV
from api.uploads import XLSX_TYPE
from graph.db import Database
from graph.sync import delete_scenario
from queries.catalog import load_catalog
from tests.api.conftest import INSURER, REPO
from tests.browser import chromium
from tests.browser.chromium import BrowserPage
from tests.bundles import write_xlsx
from visualizations.report import build_report

EXAMPLES = REPO / "examples"
HEADER_TIMEOUT_S = 2
BODY_TIMEOUT_S = 3
MAX_FILE_BYTES = 8 * 1024 * 1024
MiB = 1024 * 1024


@dataclass
class Served:
    url: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path
    keys: dict[str, str]

    def rss(self) -> int:
        return int(psutil.Process(self.process.pid).memory_info().rss)

    def headers(self, role: str | None = "editor", **extra: str) -> dict[str, str]:
        headers = dict(extra)
        if role:
            headers["Authorization"] = f"Bearer {self.keys[role]}"
        return headers

    def connect(self) -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        return sock

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def served(
    cli_env: dict[str, str], api_keys: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    """`tomgraph serve` as users run it, with short limits so that the tests stay short."""
    port = _free_port()
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    env = {
        **cli_env,
        KEYS_FILE_ENV: os.environ[KEYS_FILE_ENV],
        "TOMGRAPH_API_HEADER_TIMEOUT_S": str(HEADER_TIMEOUT_S),
        "TOMGRAPH_API_BODY_TIMEOUT_S": str(BODY_TIMEOUT_S),
        "TOMGRAPH_MAX_FILE_BYTES": str(MAX_FILE_BYTES),
    }
    with open(log, "wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "cli.main", "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=REPO,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        assert process.poll() is None, log.read_text()
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, "the API did not become ready"
        time.sleep(0.2)
    yield Served(url, port, process, log, api_keys)
    process.terminate()
    process.wait(timeout=20)


def _read_answer(sock: socket.socket, timeout: float = 10) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body of one HTTP answer read from a raw socket."""
    sock.settimeout(timeout)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"the server closed the connection without an answer: {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return status, headers, body


def _closed_within(sock: socket.socket, seconds: float) -> tuple[bool, bytes]:
    """(closed by the server within `seconds`, what it sent before closing)."""
    sock.settimeout(0.2)
    received = b""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            continue
        except ConnectionResetError:
            return True, received
        if not chunk:
            return True, received
        received += chunk
    return False, received


def _request_head(method: str, path: str, headers: dict[str, str]) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


# --- authentication before the body -------------------------------------------------------------


def test_a_200_mb_body_without_a_key_gets_its_401_before_the_body_is_read(served: Served) -> None:
    before = served.rss()
    with served.connect() as sock:
        sock.sendall(
            _request_head(
                "PUT",
                "/scenarios/current/bundle",
                {"Content-Type": "application/zip", "Content-Length": str(200 * MiB)},
            )
        )
        sock.sendall(b"\0" * 65536)  # a first slice of the body; the other 199.9 MB are never needed
        status, headers, body = _read_answer(sock)
        assert status == 401
        assert headers["content-type"] == "application/problem+json"
        assert headers["connection"] == "close"
        assert b"send `Authorization: Bearer <api key>`" in body
        # The server stops reading: pushing the rest fails long before 200 MB are through.
        sent = 65536
        with pytest.raises(OSError):
            sock.settimeout(10)
            while sent < 200 * MiB:
                sock.sendall(b"\0" * MiB)
                sent += MiB
        assert sent < 50 * MiB, sent
    assert served.rss() - before < 20 * MiB


def test_a_reader_key_is_refused_on_an_upload_before_its_body_is_read(served: Served) -> None:
    with served.connect() as sock:
        head = {"Content-Type": "application/yaml", "Content-Length": str(5 * MiB), **served.headers("reader")}
        sock.sendall(_request_head("PUT", "/scenarios/current/bundle", head))
        status, headers, body = _read_answer(sock)
    assert status == 403 and headers["connection"] == "close"
    assert b"this needs the editor role" in body


# --- body size ------------------------------------------------------------------------------------


def test_a_json_route_refuses_a_declared_body_over_1_mib_at_once(served: Served) -> None:
    with served.connect() as sock:
        head = {"Content-Type": "application/json", "Content-Length": str(2 * MiB), **served.headers("reader")}
        sock.sendall(_request_head("POST", "/scenarios/current/query", head))
        status, headers, body = _read_answer(sock)
    assert status == 413 and headers["connection"] == "close"
    assert b"the body is 2097152 bytes; the limit here is 1048576" in body


def test_a_chunked_body_is_cut_off_as_soon_as_it_passes_the_limit(served: Served) -> None:
    before = served.rss()
    with served.connect() as sock:
        head = {"Content-Type": "application/json", "Transfer-Encoding": "chunked", **served.headers("editor")}
        sock.sendall(_request_head("PUT", "/scenarios/current/waivers", head))
        chunk = b"[" + b" " * (256 * 1024 - 1)
        sent = 0
        sock.settimeout(10)
        try:
            while sent < 50 * MiB:
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                sent += len(chunk)
        except OSError:
            pass
        status, _, body = _read_answer(sock)
    assert status == 413
    assert b"the body passed the limit of 1048576 bytes here" in body
    assert sent < 20 * MiB
    assert served.rss() - before < 20 * MiB


def test_an_upload_may_be_larger_than_a_json_body_but_not_than_max_file_bytes(served: Served, scenario: str) -> None:
    padding = b"#" + b" " * (2 * MiB) + b"\n"
    body = (EXAMPLES / "insurer.yaml").read_bytes() + padding
    ok = httpx.put(
        f"{served.url}/scenarios/{scenario}/bundle",
        content=body,
        headers=served.headers(**{"Content-Type": "application/yaml"}),
        timeout=60,
    )
    assert ok.status_code == 200, ok.text
    too_big = httpx.put(
        f"{served.url}/scenarios/{scenario}/bundle",
        content=b"x" * (MAX_FILE_BYTES + 1),
        headers=served.headers(**{"Content-Type": "application/yaml"}),
        timeout=60,
    )
    assert too_big.status_code == 413
    assert too_big.json()["detail"] == f"the body is {MAX_FILE_BYTES + 1} bytes; the limit here is {MAX_FILE_BYTES}"


# --- slow and silent clients ----------------------------------------------------------------


def test_a_body_that_stops_coming_is_answered_408_within_the_body_timeout(served: Served) -> None:
    with served.connect() as sock:
        head = {"Content-Type": "application/yaml", "Content-Length": "100000", **served.headers()}
        sock.sendall(_request_head("PUT", "/scenarios/current/bundle", head) + b"format: 1\n")
        started = time.monotonic()
        status, headers, body = _read_answer(sock, timeout=BODY_TIMEOUT_S + 5)
        waited = time.monotonic() - started
        closed, _ = _closed_within(sock, 2)
    assert status == 408 and headers["connection"] == "close" and closed
    assert f"the body did not arrive within {BODY_TIMEOUT_S} s".encode() in body
    assert BODY_TIMEOUT_S - 0.5 < waited < BODY_TIMEOUT_S + 3


def test_a_trickled_body_is_cut_off_at_the_body_timeout(served: Served) -> None:
    with served.connect() as sock:
        head = {"Content-Type": "application/yaml", "Content-Length": "100000", **served.headers()}
        sock.sendall(_request_head("PUT", "/scenarios/current/bundle", head))
        started = time.monotonic()
        sock.settimeout(0.3)
        answer = b""
        while time.monotonic() - started < BODY_TIMEOUT_S + 5 and b"\r\n\r\n" not in answer:
            try:
                sock.sendall(b"#")  # one byte every 0.3 s: never idle, never done
                answer += sock.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                break
        waited = time.monotonic() - started
    assert answer.startswith(b"HTTP/1.1 408 "), answer[:200]
    assert waited < BODY_TIMEOUT_S + 3


def test_a_client_that_hangs_up_mid_upload_is_no_server_error(served: Served) -> None:
    log_before = served.log_text()
    with served.connect() as sock:
        head = {"Content-Type": "application/yaml", "Content-Length": "100000", **served.headers()}
        sock.sendall(_request_head("PUT", "/scenarios/current/bundle", head) + b"format: 1\n" * 100)
        time.sleep(0.5)
    time.sleep(1)
    assert served.log_text()[len(log_before) :] == ""
    assert httpx.get(f"{served.url}/healthz", timeout=5).status_code == 200


def test_a_connection_that_sends_nothing_is_closed_within_the_header_timeout(served: Served) -> None:
    with served.connect() as sock:
        closed, received = _closed_within(sock, HEADER_TIMEOUT_S + 3)
    assert closed
    assert received.startswith(b"HTTP/1.1 408 Request Timeout")


def test_trickled_headers_are_cut_off_within_the_header_timeout(served: Served) -> None:
    with served.connect() as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        started = time.monotonic()
        closed = False
        received = b""
        sock.settimeout(0.3)
        while time.monotonic() - started < HEADER_TIMEOUT_S + 3:
            try:
                sock.sendall(b"X-Slow: y\r\n")
                chunk = sock.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                closed = True
                break
            if not chunk:
                closed = True
                break
            received += chunk
    assert closed and received.startswith(b"HTTP/1.1 408 Request Timeout")


def test_an_idle_keep_alive_connection_is_closed(served: Served) -> None:
    with served.connect() as sock:
        sock.sendall(_request_head("GET", "/healthz", {}))
        status, _, _ = _read_answer(sock)
        assert status == 200
        closed, received = _closed_within(sock, 5 + 3)  # uvicorn's keep-alive timeout is 5 s
    assert closed and received == b""


def test_headers_over_64_kib_are_refused_with_431(served: Served) -> None:
    with served.connect() as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"X-Big: " + b"a" * (70 * 1024) + b"\r\n\r\n")
        closed, received = _closed_within(sock, 5)
    assert closed and received.startswith(b"HTTP/1.1 431 ")


def test_the_server_still_answers_after_all_of_it(served: Served) -> None:
    assert httpx.get(f"{served.url}/readyz", timeout=5).status_code == 200


# --- security headers ------------------------------------------------------------------------


def test_every_answer_carries_the_security_headers(served: Served, insurer_served: str) -> None:
    answers = [
        httpx.get(f"{served.url}/healthz"),
        httpx.get(f"{served.url}/scenarios"),  # 401
        httpx.get(f"{served.url}/scenarios", headers=served.headers("reader")),
        httpx.get(f"{served.url}/nowhere"),  # 404
        httpx.get(f"{served.url}/scenarios/{insurer_served}/view", headers=served.headers("reader"), timeout=60),
        httpx.get(f"{served.url}/docs"),
    ]
    assert [a.status_code for a in answers] == [200, 401, 200, 404, 200, 200]
    for answer in answers:
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["cache-control"] == "no-store"
        assert answer.headers["referrer-policy"] == "same-origin"
        assert answer.headers["x-frame-options"] == "DENY"
    json_answers = [a for a in answers if "json" in a.headers["content-type"]]
    assert len(json_answers) == 4 and all("content-security-policy" not in a.headers for a in json_answers)


def test_an_html_page_gets_a_csp_allowing_exactly_its_own_scripts(served: Served, insurer_served: str) -> None:
    page = httpx.get(f"{served.url}/scenarios/{insurer_served}/view", headers=served.headers("reader"), timeout=60)
    csp = dict(d.strip().split(" ", 1) for d in page.headers["content-security-policy"].split(";"))
    assert csp["default-src"] == "'none'" and csp["frame-ancestors"] == "'none'" and csp["base-uri"] == "'none'"
    assert csp["connect-src"] == "'self'"
    inline = re.findall(r"<script>(.*?)</script>", page.text, re.DOTALL)
    assert len(inline) >= 2
    hashes = {"'sha256-" + base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() + "'" for s in inline}
    assert set(csp["script-src"].split()) == hashes
    assert "unsafe-inline" not in csp["script-src"] and "unsafe-eval" not in csp["script-src"]


@pytest.fixture(scope="module")
def insurer_served(served: Served, db: Database) -> Iterator[str]:
    """examples/insurer uploaded through the served API into a scenario of this module's own."""
    name = f"t-http-{uuid.uuid4().hex[:10]}"
    answer = httpx.put(
        f"{served.url}/scenarios/{name}/bundle",
        content=(EXAMPLES / "insurer.yaml").read_bytes(),
        headers=served.headers(**{"Content-Type": "application/yaml"}),
        timeout=60,
    )
    assert answer.status_code == 200, answer.text
    yield name
    delete_scenario(db, name)


# --- uploads: workbooks by content, damaged archives, amplification ------------------------------


def _put(served: Served, scenario: str, body: bytes, content_type: str) -> httpx.Response:
    return httpx.put(
        f"{served.url}/scenarios/{scenario}/bundle",
        content=body,
        headers=served.headers(**{"Content-Type": content_type}),
        timeout=120,
    )


@pytest.fixture(scope="module")
def openpyxl_workbook(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """examples/insurer written as a workbook by openpyxl, which puts `[Content_Types].xml` last."""
    bundle = {k: v for k, v in yaml.safe_load((EXAMPLES / "insurer.yaml").read_text()).items() if k != "format"}
    path = write_xlsx(bundle, tmp_path_factory.mktemp("xlsx") / "insurer.xlsx")
    body = path.read_bytes()
    names = zipfile.ZipFile(io.BytesIO(body)).namelist()
    assert names[-1] == "[Content_Types].xml" and b"[Content_Types].xml" not in body[:4096]
    return body


@pytest.mark.parametrize("content_type", ["application/octet-stream", "application/zip", ""])
def test_a_workbook_is_recognised_by_its_content_whatever_its_media_type(
    served: Served, scenario: str, openpyxl_workbook: bytes, content_type: str
) -> None:
    answer = _put(served, scenario, openpyxl_workbook, content_type)
    assert answer.status_code == 200, answer.text
    assert (answer.json()["entity_count"], answer.json()["relationship_count"]) == (153, 426)


def _zip_of_insurer() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for file in sorted(INSURER.iterdir()):
            zf.write(file, file.name)
    return buffer.getvalue()


def _flip_inside(archive: bytes, entry: str) -> bytes:
    """`archive` with one byte flipped in the middle of `entry`'s compressed data."""
    info = zipfile.ZipFile(io.BytesIO(archive)).getinfo(entry)
    name_len, extra_len = (
        int.from_bytes(archive[info.header_offset + 26 : info.header_offset + 28], "little"),
        int.from_bytes(archive[info.header_offset + 28 : info.header_offset + 30], "little"),
    )
    at = info.header_offset + 30 + name_len + extra_len + info.compress_size // 2
    damaged = bytearray(archive)
    damaged[at] ^= 0xFF
    return bytes(damaged)


def _rewrite(archive: bytes, entry: str, data: bytes) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(archive))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as out:
        for info in source.infolist():
            out.writestr(info.filename, data if info.filename == entry else source.read(info))
    return buffer.getvalue()


def test_damaged_zips_and_workbooks_are_422s_with_one_log_line(
    served: Served, scenario: str, openpyxl_workbook: bytes
) -> None:
    zipped = _zip_of_insurer()
    sheet = "xl/worksheets/sheet3.xml"
    sheet_xml = zipfile.ZipFile(io.BytesIO(openpyxl_workbook)).read(sheet)
    cases = [
        (_flip_inside(zipped, "models.yaml"), "application/zip", "models.yaml", "zip"),
        (zipped[: len(zipped) // 2], "application/zip", "upload", "zip"),
        (_flip_inside(openpyxl_workbook, sheet), "application/octet-stream", sheet, "zip"),
        (openpyxl_workbook[: len(openpyxl_workbook) // 2], XLSX_TYPE, "bundle.xlsx", "zip"),
        # a sheet cut short: the loader names it, and judges no reference into what it lost
        (_rewrite(openpyxl_workbook, sheet, sheet_xml[: len(sheet_xml) // 2]), XLSX_TYPE, "people!row 1", "xlsx"),
    ]
    log_before = served.log_text()
    for body, content_type, place, field in cases:
        answer = _put(served, scenario, body, content_type)
        assert answer.status_code == 422, answer.text
        assert answer.headers["content-type"] == "application/problem+json"
        [error] = answer.json()["errors"]
        assert (error["place"], error["field"]) == (place, field), error
        assert len(answer.text) < 2000
    logged = served.log_text()[len(log_before) :]
    assert "Traceback" not in logged
    assert len(logged.splitlines()) <= len(cases), logged
    assert httpx.get(f"{served.url}/scenarios", headers=served.headers("reader")).json()["scenarios"] is not None


def test_a_bundle_with_a_million_problems_lists_1000_and_counts_the_rest(served: Served, scenario: str) -> None:
    items = 3000
    body = b"format: 1\nmodels: [" + b",".join([b"{}"] * items) + b"]\n"
    answer = _put(served, scenario, body, "application/yaml")
    assert answer.status_code == 422
    problem = answer.json()
    assert problem["detail"] == "9,000 problems in the bundle"  # no id, no name, no owner
    assert len(problem["errors"]) == 1000 and problem["errors_omitted"] == 8000
    assert len(answer.content) < 200_000


def test_nothing_the_server_was_sent_put_a_traceback_in_its_log(served: Served) -> None:
    assert "Traceback" not in served.log_text()


# --- the CSP in a real Chromium -------------------------------------------------------------------

browser = chromium.browser
browser_page = chromium.browser_page
READY = "window.tomgraphView && window.tomgraphView.ready"


def test_the_served_view_works_in_chromium_under_its_csp(
    served: Served, insurer_served: str, browser_page: BrowserPage
) -> None:
    """The page's own scripts run (their hashes are in the header), the double-click fetch to
    the API is allowed (`connect-src 'self'`), and the browser reports no violation."""
    browser_page.context.set_extra_http_headers(served.headers("reader"))
    browser_page.page.goto(
        f"{served.url}/scenarios/{insurer_served}/view?focus=m-uw-risk-score&depth=0", timeout=120_000
    )
    browser_page.wait_until(READY, timeout_s=60)
    assert browser_page.page.evaluate("tomgraphView.nodes.length") == 1
    box = browser_page.page.locator("#network").bounding_box()
    assert box is not None
    point = browser_page.page.evaluate(
        "id => tomgraphView.network.canvasToDOM(tomgraphView.network.getPosition(id))", "m-uw-risk-score"
    )
    browser_page.page.mouse.dblclick(box["x"] + point["x"], box["y"] + point["y"])
    browser_page.wait_until("tomgraphView.nodes.length > 1", timeout_s=60)
    assert browser_page.errors == []
    assert browser_page.external_requests == []


def test_an_injected_script_is_blocked_by_the_header_csp(
    served: Served, insurer_served: str, browser_page: BrowserPage
) -> None:
    """What the header adds to the page's own meta policy: a script that is not one of the
    page's (as an HTML injection would be) does not run, and Chromium says why."""
    url = f"{served.url}/scenarios/{insurer_served}/view?focus=m-uw-risk-score&depth=0"
    browser_page.context.set_extra_http_headers(served.headers("reader"))

    def inject(route: Route) -> None:
        answer = route.fetch()
        html = answer.text().replace("</body>", "<script>window.injected = true</script></body>")
        route.fulfill(response=answer, body=html)

    browser_page.page.route(url, inject)
    browser_page.page.goto(url, timeout=120_000)
    browser_page.wait_until(READY, timeout_s=60)
    assert browser_page.page.evaluate("window.injected === undefined")
    assert any("Content Security Policy" in e for e in browser_page.console_errors), browser_page.console_errors


def test_the_served_report_renders_in_chromium_under_its_csp(
    served: Served, insurer_served: str, db: Database, browser_page: BrowserPage
) -> None:
    build_report(db, load_catalog([]), insurer_served, date.today())
    browser_page.context.set_extra_http_headers(served.headers("reader"))
    answer = browser_page.page.goto(f"{served.url}/scenarios/{insurer_served}/reports/latest", timeout=120_000)
    assert answer is not None and answer.status == 200
    assert "script-src 'none'" in answer.headers["content-security-policy"]
    assert browser_page.page.locator("img.trend").evaluate("img => img.complete && img.naturalWidth > 0")
    assert browser_page.errors == []

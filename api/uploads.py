"""Bundle uploads: the body is written into a private temporary directory as the loader expects
it, after the checks a server owes untrusted archives (sizes, path traversal, links)."""

from __future__ import annotations

import io
import stat
import zipfile
import zlib
from pathlib import Path, PurePosixPath

from fastapi import Request

from api.problems import ApiProblem, ProblemItem

MAX_ZIP_ENTRIES = 1_000
MAX_COMPRESSION_RATIO = 200
"""A bundle of YAML/CSV compresses maybe 10:1; far beyond this is a decompression bomb."""

ZIP_MAGIC = b"PK\x03\x04"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def too_large(detail: str) -> ApiProblem:
    return ApiProblem(413, "Content too large", detail, slug="too-large")


def _bad_zip(place: str, message: str) -> ApiProblem:
    return ApiProblem(
        422,
        "Invalid bundle archive",
        f"{place}: {message}",
        slug="invalid-archive",
        errors=[ProblemItem(place=place, field="zip", message=message)],
    )


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refused with 413 as soon as it passes `limit` bytes."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise too_large(f"the upload is {declared} bytes; the limit is {limit}")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise too_large(f"the upload passed the limit of {limit} bytes")
    return bytes(body)


WORKBOOK_ENTRIES = ("[Content_Types].xml", "xl/workbook.xml")
"""Entries every `.xlsx` holds (ECMA-376 Part 2, Open Packaging Conventions: the content types
part; SpreadsheetML: the workbook part). openpyxl writes `[Content_Types].xml` last, so they are
looked up in the archive's directory, never in its first bytes."""

ARCHIVE_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, ValueError, RuntimeError)
"""What `zipfile` raises for a damaged or unsupported archive: bad headers or CRC, truncated
or corrupt compressed data, an unknown compression method, an encrypted entry."""


def is_workbook(body: bytes) -> bool:
    """True if `body` is a zip archive holding the entries of an `.xlsx` workbook, wherever they sit."""
    if not body.startswith(ZIP_MAGIC):
        return False
    try:
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            names = set(archive.namelist())
    except ARCHIVE_ERRORS:
        return False
    return all(entry in names for entry in WORKBOOK_ENTRIES)


def form_of(content_type: str, body: bytes) -> str:
    """What the body holds: `zip`, `xlsx`, `json` or `yaml`.

    A zip archive is told from an `.xlsx` workbook by its content (`is_workbook`), whatever the
    `Content-Type` says (`application/octet-stream`, `application/zip` and the `.xlsx` type are
    all common for workbooks); text is JSON or YAML by `Content-Type`, else by its first byte.
    """
    media = content_type.split(";")[0].strip().lower()
    if media == XLSX_TYPE or (body.startswith(ZIP_MAGIC) and is_workbook(body)):
        return "xlsx"  # a damaged workbook declared as one is reported as a workbook
    if body.startswith(ZIP_MAGIC):
        return "zip"
    if media in ("application/zip", "application/x-zip-compressed"):
        return "zip"
    if media == "application/json" or media.endswith("+json"):
        return "json"
    if media in ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml"):
        return "yaml"
    return "json" if body.lstrip()[:1] in (b"{", b"[") else "yaml"


def write_upload(body: bytes, form: str, workdir: Path, max_total: int) -> Path:
    """Put the upload in `workdir` and return the path to hand to the loader.

    A zip is extracted (`_extract_zip`); a workbook's archive is read through once first
    (`check_archive`), so that a damaged one is a 422 naming the entry, not an error deep in
    the spreadsheet reader.
    """
    if form == "zip":
        return _extract_zip(workdir / "upload.zip", body, workdir / "bundle", max_total)
    if form == "xlsx" and body.startswith(ZIP_MAGIC):
        check_archive(body, max_total, place="bundle.xlsx")
    target = workdir / f"bundle.{form}"
    target.write_bytes(body)
    return target


def check_archive(body: bytes, max_total: int, *, place: str) -> None:
    """Read every entry of the zip archive `body` to its end (CRC checked, expanded bytes counted).

    Raises a 422 `invalid-archive` problem naming the damaged entry, or a 413 for an archive
    that expands past `max_total` bytes or holds more than `MAX_ZIP_ENTRIES` entries.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(body))
    except ARCHIVE_ERRORS as e:
        raise _bad_zip(place, f"not a readable zip archive ({e})") from None
    with archive:
        members = archive.infolist()
        if len(members) > MAX_ZIP_ENTRIES:
            raise too_large(f"the archive has {len(members)} entries; at most {MAX_ZIP_ENTRIES}")
        expanded = 0
        for info in members:
            try:
                with archive.open(info) as source:
                    while chunk := source.read(1 << 16):
                        expanded += len(chunk)
                        if expanded > max_total:
                            raise too_large(f"the archive expands past the limit of {max_total} bytes")
            except ARCHIVE_ERRORS as e:
                raise _bad_zip(info.filename, f"damaged archive entry ({short_reason(e)})") from None


def short_reason(e: BaseException) -> str:
    text = str(e) or type(e).__name__
    return text if len(text) <= 200 else text[:200] + "…"


def _extract_zip(archive: Path, body: bytes, into: Path, max_total: int) -> Path:
    archive.write_bytes(body)
    try:
        zf = zipfile.ZipFile(archive)
    except ARCHIVE_ERRORS as e:
        raise _bad_zip("upload", f"not a readable zip archive ({short_reason(e)})") from None
    with zf:
        members = zf.infolist()
        if len(members) > MAX_ZIP_ENTRIES:
            raise too_large(f"the archive has {len(members)} entries; at most {MAX_ZIP_ENTRIES}")
        declared = 0
        for info in members:
            _check_member(info)
            declared += info.file_size
            if info.compress_size and info.file_size / info.compress_size > MAX_COMPRESSION_RATIO:
                raise too_large(f"{info.filename} expands {info.file_size // info.compress_size}:1; looks like a bomb")
        if declared > max_total:
            raise too_large(f"the archive expands to {declared} bytes; the limit is {max_total}")
        into.mkdir()
        written = 0
        for info in members:
            if info.is_dir():
                continue
            target = into.joinpath(*PurePosixPath(info.filename).parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            # Sizes in the header can lie; count what actually comes out.
            try:
                with zf.open(info) as source, open(target, "wb") as sink:
                    while chunk := source.read(1 << 16):
                        written += len(chunk)
                        if written > max_total:
                            raise too_large(f"the archive expands past the limit of {max_total} bytes")
                        sink.write(chunk)
            except ARCHIVE_ERRORS as e:
                raise _bad_zip(info.filename, f"damaged archive entry ({short_reason(e)})") from None
    return _bundle_root(into)


def _check_member(info: zipfile.ZipInfo) -> None:
    name = info.filename
    path = PurePosixPath(name.replace("\\", "/"))
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":") or path.is_absolute():
        raise _bad_zip(name, "absolute paths are not allowed in a bundle archive")
    if ".." in path.parts:
        raise _bad_zip(name, "'..' is not allowed in a bundle archive")
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        raise _bad_zip(name, "symbolic links are not allowed in a bundle archive")
    if stat.S_IFMT(mode) not in (0, stat.S_IFREG, stat.S_IFDIR):
        raise _bad_zip(name, "only plain files and directories are allowed in a bundle archive")
    if info.flag_bits & 0x1:
        raise _bad_zip(name, "encrypted entries are not supported")


def _bundle_root(into: Path) -> Path:
    """The bundle directory: the archive's root, or its one top folder (`zip -r b.zip bundle/`)."""
    entries = [p for p in into.iterdir() if not p.name.startswith(("__MACOSX", "."))]
    if len(entries) == 1 and entries[0].is_dir():
        return entries[0]
    return into

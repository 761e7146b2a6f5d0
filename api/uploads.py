"""Bundle uploads: the body is written into a private temporary directory as the loader expects
it, after the checks a server owes untrusted archives (sizes, path traversal, links)."""

from __future__ import annotations

import stat
import zipfile
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


def form_of(content_type: str, body: bytes) -> str:
    """What the body holds: `zip`, `xlsx`, `json` or `yaml` (by Content-Type, else by its first bytes)."""
    media = content_type.split(";")[0].strip().lower()
    if media == XLSX_TYPE:
        return "xlsx"
    if media in ("application/zip", "application/x-zip-compressed"):
        return "zip"
    if media == "application/json" or media.endswith("+json"):
        return "json"
    if media in ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml"):
        return "yaml"
    if body.startswith(ZIP_MAGIC):
        return "xlsx" if b"[Content_Types].xml" in body[:4096] else "zip"
    return "json" if body.lstrip()[:1] in (b"{", b"[") else "yaml"


def write_upload(body: bytes, form: str, workdir: Path, max_total: int) -> Path:
    """Put the upload in `workdir` and return the path to hand to the loader."""
    if form == "zip":
        return _extract_zip(workdir / "upload.zip", body, workdir / "bundle", max_total)
    target = workdir / f"bundle.{form}"
    target.write_bytes(body)
    return target


def _extract_zip(archive: Path, body: bytes, into: Path, max_total: int) -> Path:
    archive.write_bytes(body)
    try:
        zf = zipfile.ZipFile(archive)
    except zipfile.BadZipFile as e:
        raise _bad_zip("upload", f"not a readable zip archive ({e})") from e
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
            with zf.open(info) as source, open(target, "wb") as sink:
                while chunk := source.read(1 << 16):
                    written += len(chunk)
                    if written > max_total:
                        raise too_large(f"the archive expands past the limit of {max_total} bytes")
                    sink.write(chunk)
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

"""What the Data page accepts: files of the kinds AR Lens reads, under a size limit, saved only
inside the store's folder (`uploads/`, a temporary folder per upload, removed afterwards).

The kind is checked by the name's extension and by the first bytes (an "xlsx" that is not a zip
archive is refused before any reader sees it). Names are reduced to a plain file name: no
folders, no `..`, no control characters.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

MAX_UPLOAD_MB = 200  # also Streamlit's server.maxUploadSize in .streamlit/config.toml
# extension -> what its first bytes must look like (None: text, checked for NUL bytes)
KINDS = {
    "csv": None,
    "tsv": None,
    "txt": None,
    "json": None,
    "jsonl": None,
    "xlsx": b"PK\x03\x04",
    "xls": b"\xd0\xcf\x11\xe0",  # the old binary Excel format (an OLE2 compound file)
    "parquet": b"PAR1",
}
MAPPING_KINDS = {"toml": None}


class UploadRefused(ValueError):
    """The upload is not taken; one line naming the file and why."""


def max_upload_bytes() -> int:
    """$ARLENS_MAX_UPLOAD_MB, else MAX_UPLOAD_MB."""
    try:
        return int(float(os.environ.get("ARLENS_MAX_UPLOAD_MB", MAX_UPLOAD_MB)) * 1024 * 1024)
    except ValueError:
        return MAX_UPLOAD_MB * 1024 * 1024


def safe_name(name: str) -> str:
    """The upload's own file name, without any folder part or characters a path could abuse."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = re.sub(r"[\x00-\x1f\x7f]", "", base).strip().lstrip(".")
    return base[:200] or "upload"


def check_upload(name: str, data: bytes, kinds: dict = KINDS, limit: int | None = None) -> str:
    """The name to save the upload under; UploadRefused when its size or kind is not allowed."""
    shown = safe_name(name)
    limit = max_upload_bytes() if limit is None else limit
    if len(data) > limit:
        raise UploadRefused(
            f"{shown}: {len(data) / 1024 / 1024:,.1f} MB is over the {limit / 1024 / 1024:,.0f} MB "
            "upload limit; import it from a shell (`arlens import`) instead"
        )
    if not data:
        raise UploadRefused(f"{shown}: the file is empty")
    extension = shown.rsplit(".", 1)[-1].lower() if "." in shown else ""
    if extension not in kinds:
        raise UploadRefused(
            f"{shown}: AR Lens does not read .{extension or '(no extension)'} files here "
            f"(kinds: {', '.join('.' + k for k in kinds)})"
        )
    magic = kinds[extension]
    if magic is not None and not data.startswith(magic):
        raise UploadRefused(
            f"{shown}: the file is not a real .{extension} file (its content differs)"
        )
    if (
        magic is None
        and b"\x00" in data[:65536]
        and not data.startswith((b"\xff\xfe", b"\xfe\xff"))
    ):
        raise UploadRefused(f"{shown}: the file is binary, not .{extension} text")
    return shown


@contextmanager
def upload_folder(db_path: str | os.PathLike):
    """A temporary folder inside the store's folder's `uploads/`, removed on leaving."""
    root = (Path(db_path).resolve().parent / "uploads").resolve()
    root.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="upload-", dir=root))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)

"""Streaming multipart upload: each file goes straight to a temporary file in the
data directory, hashed and size-checked as it arrives, never whole in memory."""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

from draftsmith.errors import ApiError

MAX_FILES = 50
MAX_HEADER_BYTES = 16 * 1024


@dataclass
class ReceivedFile:
    path: Path
    filename: str | None
    size: int = 0
    sha256: str = ""
    _hash: object = field(default_factory=hashlib.sha256, repr=False)


class _Receiver:
    def __init__(self, directory: Path, field_name: str, max_file_bytes: int) -> None:
        self.directory = directory
        self.field_name = field_name
        self.max_file_bytes = max_file_bytes
        self.files: list[ReceivedFile] = []
        self._header_name = b""
        self._header_value = b""
        self._disposition = b""
        self._current: ReceivedFile | None = None
        self._handle = None

    # python-multipart callbacks
    def on_part_begin(self) -> None:
        self._disposition = b""

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]
        if len(self._header_value) > MAX_HEADER_BYTES:
            raise ApiError(400, "bad_multipart", "A multipart header is too long.")

    def on_header_end(self) -> None:
        if self._header_name.lower() == b"content-disposition":
            self._disposition = self._header_value
        self._header_name = self._header_value = b""

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self._disposition)
        name = options.get(b"name", b"").decode("utf-8", "replace")
        if name != self.field_name or b"filename" not in options:
            self._current = None  # other fields are ignored
            return
        if len(self.files) >= MAX_FILES:
            raise ApiError(413, "too_many_files", f"Upload at most {MAX_FILES} files at once.")
        fd, path = tempfile.mkstemp(dir=self.directory, prefix="upload-")
        self._handle = os.fdopen(fd, "wb")
        self._current = ReceivedFile(Path(path), options[b"filename"].decode("utf-8", "replace"))
        self.files.append(self._current)

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        current = self._current
        if current is None:
            return
        chunk = data[start:end]
        current.size += len(chunk)
        if current.size > self.max_file_bytes:
            limit_mb = self.max_file_bytes // (1024 * 1024)
            raise ApiError(
                413,
                "file_too_large",
                f"{current.filename or 'A file'} is larger than the {limit_mb} MB limit.",
            )
        current._hash.update(chunk)
        self._handle.write(chunk)

    def on_part_end(self) -> None:
        if self._current is not None:
            self._current.sha256 = self._current._hash.hexdigest()
            self._handle.close()
            self._handle = None
            self._current = None

    def discard(self) -> None:
        if self._handle is not None:
            self._handle.close()
        for received in self.files:
            received.path.unlink(missing_ok=True)


async def receive_files(
    request: Request, directory: Path, max_file_bytes: int, field_name: str = "files"
) -> list[ReceivedFile]:
    """Parse a multipart body, streaming each ``field_name`` file to ``directory``.

    On any error every temporary file is removed before the error propagates.
    """
    content_type, params = parse_options_header(request.headers.get("content-type", ""))
    if content_type != b"multipart/form-data" or b"boundary" not in params:
        raise ApiError(
            415,
            "unsupported_media_type",
            "Send the files as multipart/form-data in the field 'files'.",
        )
    receiver = _Receiver(directory, field_name, max_file_bytes)
    parser = MultipartParser(
        params[b"boundary"],
        {
            "on_part_begin": receiver.on_part_begin,
            "on_part_data": receiver.on_part_data,
            "on_part_end": receiver.on_part_end,
            "on_header_field": receiver.on_header_field,
            "on_header_value": receiver.on_header_value,
            "on_header_end": receiver.on_header_end,
            "on_headers_finished": receiver.on_headers_finished,
        },
    )
    try:
        async for chunk in request.stream():
            parser.write(chunk)
        parser.finalize()
    except ApiError:
        receiver.discard()
        raise
    except OSError as exc:  # the server's disk, not the client's request
        receiver.discard()
        raise ApiError(
            507,
            "storage_unavailable",
            "The server could not store the upload (disk full or not writable).",
        ) from exc
    except Exception as exc:
        receiver.discard()
        if getattr(exc, "status_code", None) == 413:  # the request-body limit
            raise
        raise ApiError(400, "bad_multipart", "The multipart body could not be read.") from exc
    if receiver._handle is not None:  # body ended inside a file part
        receiver.discard()
        raise ApiError(400, "bad_multipart", "The multipart body ended early.")
    if not receiver.files:
        raise ApiError(422, "no_files", "Attach one or more files in the field 'files'.")
    return receiver.files

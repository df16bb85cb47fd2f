"""LSP-style ``Content-Length`` framing, independent of any pipe or event loop.

The body is encoded to UTF-8 *before* its length is taken, so the header
counts bytes, not characters: ``"café \\u2028 ☃"`` is 9 characters but 13 bytes.
"""

from __future__ import annotations

import json
import re
from typing import Any, Dict, List, Optional

from .errors import ProtocolError

__all__ = [
    "encode_message",
    "check_header_line",
    "content_length",
    "decode_body",
    "FrameBuffer",
    "HEADER_END",
    "MAX_HEADER_BYTES",
]

#: The blank line that ends a header block.
HEADER_END = b"\r\n\r\n"
_HEADER_LINE = re.compile(rb"^[A-Za-z0-9-]+[ \t]*:[^\r\n]*\r?\n?$")
#: A header block larger than this is not a header: the stream is out of sync.
MAX_HEADER_BYTES = 8192


# ensure_ascii=False keeps non-ASCII as UTF-8 bytes; the length in the header is of those bytes.
# One encoder for every message: json.dumps would build one per call for these options.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def encode_message(message: Dict[str, Any]) -> bytes:
    """Serialise one JSON-RPC message into a complete frame (header + body)."""
    body = _ENCODER.encode(message).encode("utf-8")
    return b"Content-Length: " + str(len(body)).encode("ascii") + HEADER_END + body


def check_header_line(line: bytes) -> None:
    """Fail fast on a line that cannot be a header, instead of waiting for a blank line that never comes."""
    if _HEADER_LINE.match(line):
        return
    if line.lstrip().startswith((b"{", b"[")):
        raise ProtocolError(
            "the server wrote a bare JSON line instead of a Content-Length frame (is it running with "
            f"--framing ndjson?): {line[:300]!r}"
        )
    raise ProtocolError(f"malformed frame header line from the server (expected 'Name: value'): {line[:300]!r}")


def content_length(header_block: bytes) -> int:
    """Read ``Content-Length`` from a header block (without the final blank line).

    Header names are case-insensitive; other headers (``Content-Type``) are ignored.
    """
    length: Optional[int] = None
    try:
        text = header_block.decode("ascii")
    except UnicodeDecodeError:
        raise ProtocolError(f"frame header is not ASCII: {header_block[:200]!r}") from None
    for line in text.splitlines():
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep:
            raise ProtocolError(f"malformed frame header line {line!r} (expected 'Name: value')")
        if name.strip().lower() == "content-length":
            value = value.strip()
            if not value.isdigit():
                raise ProtocolError(f"Content-Length is not a non-negative integer: {value!r}")
            length = int(value)
    if length is None:
        raise ProtocolError(f"frame header has no Content-Length: {text!r}")
    return length


def decode_body(body: bytes) -> Dict[str, Any]:
    """Parse a frame body into a JSON-RPC message object."""
    try:
        message = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ProtocolError(f"frame body is not valid UTF-8 JSON ({exc}): {body[:200]!r}") from None
    if not isinstance(message, dict):
        raise ProtocolError(f"frame body is not a JSON-RPC message object: {body[:200]!r}")
    if message.get("jsonrpc") != "2.0":
        raise ProtocolError(f"message lacks \"jsonrpc\": \"2.0\": {body[:200]!r}")
    return message


_CANONICAL_PREFIX = b"Content-Length: "


class FrameBuffer:
    """Cuts a byte stream into frame bodies: ``feed`` it what was read, take whole bodies out.

    Blank lines before a header are skipped, a header that cannot be one fails as soon
    as its first line is complete (see :func:`check_header_line`), and a header block
    larger than :data:`MAX_HEADER_BYTES` is an error rather than a wait.
    """

    def __init__(self) -> None:
        self._data = bytearray()

    def feed(self, chunk: bytes) -> None:
        """Append bytes read from the stream."""
        self._data += chunk

    @property
    def pending_bytes(self) -> int:
        """Bytes held that do not yet make a whole frame (after ``next_body`` returned None)."""
        return len(self._data)

    def next_body(self) -> Optional[bytes]:
        """The next complete frame's body, or None until more bytes arrive."""
        data = self._data
        if not data:
            return None
        skip = 0
        while skip < len(data) and data[skip] in b"\r\n":
            skip += 1
        if skip:
            del data[:skip]
        end = data.find(HEADER_END)
        if end < 0:
            self._check_partial_header()
            return None
        length = _body_length(bytes(data[:end]))
        start = end + len(HEADER_END)
        if len(data) < start + length:
            return None
        body = bytes(data[start : start + length])
        del data[: start + length]
        return body

    def check_complete(self) -> None:
        """At the end of the stream: raise :class:`ProtocolError` if a frame was cut off."""
        data = self._data
        if not data.strip(b"\r\n"):
            return
        end = data.find(HEADER_END)
        if end < 0:
            raise ProtocolError(f"the server's output ended inside a frame header: {bytes(data[:200])!r}")
        length = _body_length(bytes(data[:end]))
        missing = end + len(HEADER_END) + length - len(data)
        raise ProtocolError(f"the server's output ended {missing} bytes short of a {length}-byte message")

    def _check_partial_header(self) -> None:
        data = self._data
        if len(data) > MAX_HEADER_BYTES:
            raise ProtocolError(f"frame header longer than {MAX_HEADER_BYTES} bytes: {bytes(data[:200])!r}…")
        if b"\n" not in data:
            return
        lines: List[bytes] = bytes(data).split(b"\n")
        for line in lines[:-1]:  # complete lines only; the last may still be arriving
            check_header_line(line + b"\n")


def _body_length(header: bytes) -> int:
    """The body length a complete header block (without its blank line) announces."""
    digits = header[len(_CANONICAL_PREFIX) :]
    if header.startswith(_CANONICAL_PREFIX) and digits.isdigit():
        return int(digits)  # the server's own, one-line header
    for line in header.split(b"\r\n"):
        check_header_line(line + b"\r\n")
    return content_length(header)

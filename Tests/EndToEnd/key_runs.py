"""The strict scan for a credential: any 8-character run of it, in any spelling a leak could take.

A leak is rarely the whole key verbatim: an error may quote it upper-cased, percent-encoded,
base64-encoded, split around ": ", Swift-escaped around a control character, or cut to a
prefix by an excerpt. So the scan looks, case-insensitively, for every 8-byte piece of

- the key itself (the raw bytes, control characters included, and each visible-ASCII stretch
  between them, which is what an escaped quotation keeps),
- its percent-encoding,
- its base64 and base64url encodings at each of the three alignments the key can have inside a
  longer encoded text (trimmed to the characters that depend on the key alone),
- its hex.

`key_run_leaks(blobs, keys)` reports where, never what (test output lands in CI logs).
"""

from __future__ import annotations

import base64
import urllib.parse
from typing import Iterable

#: The shortest piece of a key that counts as a leak.
RUN = 8


def key_forms(key: str) -> dict[str, bytes]:
    """Spellings of `key`, by name, lower-cased (the search ignores case)."""
    raw = key.encode("utf-8", "surrogateescape")
    forms: dict[str, bytes] = {"raw": raw, "percent-encoded": urllib.parse.quote(raw, safe="").encode(),
                               "hex": raw.hex().encode()}
    for shift in range(3):
        encoded = base64.b64encode(b"\0" * shift + raw)
        core = encoded[(shift * 4 + 2) // 3:len(encoded) - 4]
        forms[f"base64@{shift}"] = core
        forms[f"base64url@{shift}"] = core.replace(b"+", b"-").replace(b"/", b"_")
    # Each stretch of visible characters between control characters, as an escaped quotation keeps it.
    stretch, stretches = bytearray(), []
    for byte in raw:
        if 0x20 <= byte < 0x7F:
            stretch.append(byte)
        else:
            stretches.append(bytes(stretch))
            stretch.clear()
    stretches.append(bytes(stretch))
    for number, piece in enumerate(s for s in stretches if s != raw):
        forms[f"line piece {number}"] = piece
    return {name: form.lower() for name, form in forms.items() if len(form) >= RUN}


def runs(form: bytes) -> set[bytes]:
    return {form[start:start + RUN] for start in range(len(form) - RUN + 1)}


def key_run_leaks(blobs: dict[str, bytes], keys: Iterable[str]) -> list[str]:
    """Where an 8-character run of any form of any key occurs in the named blobs."""
    found = []
    lowered = {name: blob.lower() for name, blob in blobs.items()}
    for number, key in enumerate(k for k in dict.fromkeys(keys) if k):
        forms = key_forms(key)
        if not forms:  # a key shorter than a run: look for the whole of it
            forms = {"whole": key.encode("utf-8", "surrogateescape").lower()}
        for form_name, form in forms.items():
            pieces = runs(form) or {form}
            for blob_name, blob in lowered.items():
                if any(piece in blob for piece in pieces):
                    found.append(f"a run of key #{number} ({form_name}) in {blob_name}")
    return found

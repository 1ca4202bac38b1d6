"""Canonical JSON and SHA-256: the one encoding that everything hashed in the store uses.

Canonical JSON is sorted keys, no whitespace, UTF-8, no NaN or infinity. It is
defined here, not borrowed from ``engine``, because the audit chain must hash
the same way for as long as the records are kept.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

__all__ = ["canonical_json", "json_or_text", "sha256_hex"]


def canonical_json(value: Any) -> str:
    """Sorted keys, compact separators, non-ASCII kept as is; equal content, equal text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False)


def sha256_hex(data: str | bytes) -> str:
    """SHA-256 of text (encoded UTF-8) or bytes, as 64 hex digits."""
    return hashlib.sha256(data.encode("utf-8") if isinstance(data, str) else data).hexdigest()


def json_or_text(text: str) -> Any:
    """The JSON value ``text`` holds, or ``text`` itself when it is not JSON (an edited row)."""
    try:
        return json.loads(text)
    except ValueError:
        return text

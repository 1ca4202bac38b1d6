"""What a visible signature says, and whose name it may print.

Signing draws these paragraphs in the slot (:mod:`reports.signing`), and
verification checks that a signature's appearance draws exactly them for the
printed name, signing time and meaning of its signature dictionary and the
subject of its certificate (:mod:`reports.inspection`). The printed name must
be the certificate's subject (:func:`same_name`): a signature never carries a
name its certificate was not issued to.
"""

from __future__ import annotations

import datetime as dt
import unicodedata

from asn1crypto import x509 as asn1_x509

__all__ = ["certificate_name", "same_name", "stamp_paragraphs"]


def certificate_name(name: asn1_x509.Name) -> str:
    """The common name of a certificate subject or issuer (its full form if it has none)."""
    native = name.native
    common = native.get("common_name") if isinstance(native, dict) else None
    if isinstance(common, list):
        common = ", ".join(str(item) for item in common)
    return str(common) if common else str(name.human_friendly)


def _comparable(name: str) -> str:
    return " ".join(unicodedata.normalize("NFC", name).split()).casefold()


def same_name(printed: str, subject: str) -> bool:
    """The printed name is the certificate's subject: the same letters (Unicode NFC), white
    space and letter case aside."""
    return _comparable(printed) == _comparable(subject)


def stamp_paragraphs(*, name: str, meaning: str, signed_at: dt.datetime,
                     subject: str) -> tuple[str, str, str, str]:
    """What the visible signature block says, before it is wrapped to the slot's width."""
    moment = signed_at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return (f"Signed by {name}", f"on {moment} (PAdES)", meaning, f"Certificate: {subject}")

"""Where the signing step draws the visible signatures: the report's signature slots.

The template draws each slot as an empty box with an ``id``; WeasyPrint turns
every ``id`` into a named destination (page and top-left corner), so the
signing step finds the box in the PDF itself, wherever the page layout put
it, and draws the signature appearance inside it. The size of a box is fixed
here and used by both the template and the signing step.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["MM_TO_PT", "SIGNATURE_SLOTS", "SignatureSlot"]

MM_TO_PT = 72 / 25.4


@dataclass(frozen=True, slots=True)
class SignatureSlot:
    number: int
    anchor: str
    caption: str
    width_mm: float
    height_mm: float

    @property
    def width_pt(self) -> float:
        return self.width_mm * MM_TO_PT

    @property
    def height_pt(self) -> float:
        return self.height_mm * MM_TO_PT

    @property
    def field_name(self) -> str:
        """The PDF signature field that a signature in this slot goes into."""
        return f"Signature{self.number}"


SIGNATURE_SLOTS = (
    SignatureSlot(1, "signature-slot-1", "Signature 1 · clinician", 86.0, 21.0),
    SignatureSlot(2, "signature-slot-2", "Signature 2 · countersignature (e.g. team physician)",
                  86.0, 21.0),
)

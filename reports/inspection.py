"""Is a file a report as ``report`` wrote it and ``sign`` signed it, revision by revision?

:class:`ReportFile` puts the checks of :mod:`reports.structure` together for
a whole file: revision 0 against what the renderer writes and
what the record's charts print, every later revision against the one purpose
it may have (the next signature slot filled with sprintclear's own stamp for
that signature, validation data, or an invisible document timestamp), and the
file as it stands against PDF/A-3b. Signing refuses a file with any problem;
verification reports each one as a reason.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping, Sequence
from contextlib import ExitStack
from typing import Any

import pikepdf
from pyhanko.pdf_utils.reader import PdfFileReader

from engine.decision import Decision
from reports.html import chart_labels
from reports.layout import SIGNATURE_SLOTS
from reports.pdf_reading import PdfContentError, page_texts, record_attachment
from reports.record import ReportRecord
from reports.stamp_text import certificate_name, stamp_paragraphs
from reports.structure import (
    Drawn,
    RevisionChanges,
    pdfa_problems,
    rendered_problems,
    revision_problems,
    slot_boxes,
)
from reports.view import page_one_claims, page_one_contradictions, status_subject, status_title

__all__ = ["ReportFile", "content_problems", "expected_stamp", "metadata_problems", "revision_ends"]

_FOOTER_HASH = re.compile(r"RecordSHA-256:?([0-9a-f]{64})")


def expected_stamp(signature: Any) -> str | None:
    """What the appearance of an approval signature must draw (white space removed).

    Built from its signature dictionary (printed name, signing time, meaning)
    and its certificate's subject; ``None`` when the dictionary lacks one.
    """
    sig_object = signature.sig_object
    claimed = signature.self_reported_timestamp
    if "/Name" not in sig_object or "/Reason" not in sig_object or claimed is None:
        return None
    paragraphs = stamp_paragraphs(name=" ".join(str(sig_object["/Name"]).split()),
                                  meaning=" ".join(str(sig_object["/Reason"]).split()),
                                  signed_at=claimed,
                                  subject=certificate_name(signature.signer_cert.subject))
    return "".join("".join(paragraphs).split())


def revision_ends(pdf: bytes, reader: PdfFileReader) -> list[int]:
    """Where each revision of the file ends (after its ``%%EOF``); the last one at the end."""
    total = reader.xrefs.total_revisions
    ends = []
    for revision in range(total - 1):
        start = reader.xrefs.get_startxref_for_revision(revision)
        marker = pdf.find(b"%%EOF", start)
        if marker < 0:
            raise ValueError(f"revision {revision} has no end-of-file marker")
        ends.append(marker + len(b"%%EOF"))
    ends.append(len(pdf))
    return ends


def _changes(reader: PdfFileReader, revision: int) -> RevisionChanges:
    xrefs = reader.xrefs
    written = {(ref.idnum, ref.generation) for ref in xrefs.explicit_refs_in_revision(revision)}
    new = {key for key in written
           if xrefs.get_introducing_revision(_reference(reader, key)) == revision}
    return RevisionChanges(revision=revision, written=frozenset(written), new=frozenset(new),
                           frees_objects=bool(xrefs.refs_freed_in_revision(revision)))


def _reference(reader: PdfFileReader, key: tuple[int, int]) -> Any:
    from pyhanko.pdf_utils import generic

    return generic.Reference(key[0], key[1], pdf=reader)


class ReportFile:
    """A report file opened for inspection: its revisions with pikepdf, signatures with pyHanko.

    Use as a context manager (the revisions are closed on leaving it)::

        with ReportFile(pdf, reader) as report:
            record = report.record_bytes(revision)
            problems = report.problems(decision, history)

    Raises :class:`~reports.pdf_reading.PdfContentError` when the revisions
    cannot be read at all.
    """

    def __init__(self, pdf: bytes, reader: PdfFileReader) -> None:
        self.pdf = pdf
        self.reader = reader
        self._stack = ExitStack()
        try:
            self.ends = revision_ends(pdf, reader)
            self.signatures = {signature.signed_revision: signature
                               for signature in reader.embedded_signatures}
            self.documents = [self._stack.enter_context(pikepdf.open(io.BytesIO(pdf[:end])))
                              for end in self.ends]
        except Exception as exc:  # pyHanko and pikepdf raise assorted errors on bad files
            self._stack.close()
            raise PdfContentError(f"the file's revisions cannot be read ({exc})") from exc

    def __enter__(self) -> ReportFile:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stack.close()

    def record_bytes(self, revision: int) -> bytes:
        """The embedded record as revision ``revision`` declares it."""
        return record_attachment(self.documents[revision].Root)

    def page_texts(self, revision: int) -> list[str]:
        """The text each page of revision ``revision`` draws in its own content stream."""
        return page_texts(self.documents[revision].Root, follow_forms=False)

    def problems(self, decision: Decision | None,
                 history: Sequence[Mapping[str, Any]] = ()) -> list[str]:
        """Every way the file departs from a rendered report with only sprintclear's signatures.

        ``decision`` and ``history`` are the embedded record's (for the texts
        its charts may draw); without a decision the text of forms is not
        compared.
        """
        problems: list[str] = []
        drawn = Drawn()
        labels = chart_labels(decision, history) if decision is not None else None
        problems.extend(rendered_problems(self.documents[0], labels, drawn))
        slots = slot_boxes(self.documents[0])
        approvals = 0
        for revision in range(1, len(self.documents)):
            signature = self.signatures.get(revision)
            approval = signature is not None and signature.sig_object_type == "/Sig"
            expected_slot = (SIGNATURE_SLOTS[approvals].field_name
                             if approvals < len(SIGNATURE_SLOTS) else None)
            stamp = None
            if approval and signature is not None:
                stamp = expected_stamp(signature)
                if stamp is None:
                    problems.append(f"revision {revision}: signature {signature.field_name} "
                                    "states no printed name, meaning or signing time")
            problems.extend(revision_problems(
                self.documents[revision - 1], self.documents[revision],
                _changes(self.reader, revision), signature=signature, slots=slots,
                expected_slot=expected_slot, stamp_text=stamp, drawn=drawn))
            approvals += approval
        problems.extend(pdfa_problems(self.documents[-1], self.pdf[:16], drawn))
        return list(dict.fromkeys(problems))


def metadata_problems(document: Any, record: ReportRecord, decision: Decision) -> list[str]:
    """Do the PDF's Title and Subject (what a viewer or an archive index shows first) state
    the status in force as the record has it (:func:`reports.view.status_title`,
    :func:`reports.view.status_subject`)? The PDF/A check already makes the XMP agree."""
    try:
        expected = {"/Title": status_title(decision, record.signoff),
                    "/Subject": status_subject(decision, record.signoff)}
    except (KeyError, TypeError, ValueError) as exc:
        return [f"the recorded sign-off cannot be read: {exc}"]
    problems = []
    info = document.docinfo
    for key, text in expected.items():
        given = str(info.get(key, ""))
        if given != text:
            problems.append(f"the document's {key[1:]} is “{given[:160]}”, not what the embedded "
                            f"record says (“{text[:160]}”)")
    return problems


def content_problems(texts: Sequence[str], record: ReportRecord, decision: Decision) -> list[str]:
    """Does the text of the pages say what the record says?

    The record's SHA-256 is printed in the footer of every page, and the first
    page prints the status in force and the recommendation as the record has
    them (:func:`reports.view.page_one_claims`), never their opposites, and
    the decision's id.
    """
    printed = [set(_FOOTER_HASH.findall("".join(text.split()))) for text in texts]
    missing = [str(number) for number, hashes in enumerate(printed, 1) if not hashes]
    if missing:
        return ["no record hash is printed in the footer of page " + ", ".join(missing)]
    shown = set().union(*printed)
    if shown != {record.sha256} or any(hashes != shown for hashes in printed):
        return [f"the record hash printed in the footer ({', '.join(sorted(shown))}) is not the "
                f"SHA-256 of the embedded record ({record.sha256})"]
    page_one = "".join(texts[0].split()) if texts else ""
    signoff = record.signoff
    try:
        if signoff is not None and signoff["recommended_phase"] != decision.phase.id:
            return ["the recorded sign-off names another recommendation "
                    f"({signoff['recommended_phase']}) than the decision ({decision.phase.id})"]
        claims = page_one_claims(decision, signoff)
        contradictions = page_one_contradictions(decision, signoff)
    except (KeyError, TypeError, ValueError) as exc:
        return [f"the recorded sign-off cannot be read: {exc}"]
    problems = [f"the first page does not show “{claim}”, which the embedded record says"
                for claim in claims if "".join(claim.split()) not in page_one]
    problems += [f"the first page shows “{claim}”, which contradicts the embedded record"
                 for claim in contradictions if "".join(claim.split()) in page_one]
    if f"Decision{decision.decision_id}" not in page_one:
        problems.append(f"the first page does not show decision {decision.decision_id}")
    return problems

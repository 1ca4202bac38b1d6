"""The stored athlete's identity wins: a different name is refused, an omitted one filled."""

from __future__ import annotations

from typing import TYPE_CHECKING

from support import REMOVE, load_example, varied

if TYPE_CHECKING:
    from conftest import Service

WINGER = "hamstring-winger-cleared-to-sprint"  # athlete.name "Jonas Berg"


def _episode(service: Service, **athlete: str) -> str:
    service.athlete("FC-23", **athlete)
    return str(service.injury("FC-23")["id"])


def test_a_different_name_is_409_and_nothing_is_stored(service: Service) -> None:
    """The signed report can never print another name than the stored athlete's."""
    injury = _episode(service, name="Jonas Berg")
    before = service.store.count("audit_entries")
    document = varied(load_example(WINGER), {"previous": REMOVE, "athlete.name": "Jon Bergh"})
    refused = service.assess(injury, document)
    assert refused.status_code == 409
    assert "'Jon Bergh'" in refused.text and "'Jonas Berg'" in refused.text
    assert service.store.count("audit_entries") == before


def test_an_omitted_name_is_filled_from_the_record(service: Service) -> None:
    """The stored input, its decision and so its report carry the stored name."""
    injury = _episode(service, name="Jonas Berg")
    document = varied(load_example(WINGER), {"previous": REMOVE, "athlete.name": REMOVE})
    stored = service.assess(injury, document)
    assert stored.status_code == 201, stored.text
    assert stored.json()["decision"]["athlete"]["name"] == "Jonas Berg"
    read = service.client.get(f"/v1/assessments/{stored.json()['assessment_id']}",
                              headers=service.as_("auditor")).json()
    assert read["document"]["athlete"]["name"] == "Jonas Berg"


def test_the_same_name_is_accepted_and_a_nameless_record_keeps_the_documents(
        service: Service) -> None:
    """Equal names pass; an athlete stored without a name has nothing to contradict."""
    injury = _episode(service, name="Jonas Berg")
    same = service.assess(injury, varied(load_example(WINGER), {"previous": REMOVE}))
    assert same.status_code == 201, same.text
    service.athlete("FC-24")
    other = service.injury("FC-24")
    document = varied(load_example(WINGER), {"previous": REMOVE, "athlete.id": "FC-24"})
    kept = service.assess(other["id"], document)
    assert kept.status_code == 201, kept.text
    assert kept.json()["decision"]["athlete"]["name"] == "Jonas Berg"

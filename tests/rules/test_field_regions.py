"""Which injury region each test field belongs to, derived from the protocol's own data."""

from __future__ import annotations

import json
from typing import Any

from rules import default_protocol, parse_protocol
from rules.dictionary import MEASURE_GROUPS, READABLE_FIELDS, REGIONS
from rules.loading import default_protocol_text
from rules.protocol import field_regions

BOTH = frozenset(REGIONS)
HAMSTRING, CALF = frozenset({"hamstring"}), frozenset({"calf"})


def _protocol(change: Any) -> Any:
    document = json.loads(default_protocol_text())
    change(document)
    return parse_protocol(json.dumps(document), require_contract=False)


def _entry(document: dict[str, Any], key: str, entry_id: str) -> dict[str, Any]:
    return next(entry for entry in document[key] if entry["id"] == entry_id)


def test_the_default_protocol_gives_each_region_its_own_tests() -> None:
    """2027.1: Nordics and the H-test are hamstring's, knee-to-wall and DVT calf's, hops both."""
    regions = field_regions(default_protocol())
    assert regions["strength.nordic_n"] == HAMSTRING  # C304, C407, R8
    assert regions["strength.nordic_pre_injury_n"] == HAMSTRING  # C407
    assert regions["flexibility.h_test_insecurity"] == HAMSTRING  # C306
    assert regions["signs.avulsion_suspected"] == HAMSTRING  # a hamstring screen
    assert regions["flexibility.knee_to_wall_cm"] == CALF  # C313
    assert regions["strength.heel_raise_bent_knee_reps"] == CALF  # C312
    assert regions["signs.dvt_suspected"] == CALF  # a calf screen, though R1 reads it always
    assert regions["hop.single_cm"] == BOTH  # C310 calf and C404 both
    assert regions["pain.rest"] == BOTH and regions["exposure.hsr_m_7d"] == BOTH
    assert regions["exposure.sprint_m_prior_7d"] == BOTH  # only R14 reads it, for any region
    assert regions["injury.physician_review"] == BOTH  # the case, not a test
    assert regions["injury.muscle"] == BOTH  # a calf-only floor reads it: still the case's


def test_every_field_has_regions_and_case_fields_are_both() -> None:
    """Each readable path gets a non-empty set; fields that describe the case are both."""
    regions = field_regions(default_protocol())
    assert set(regions) == set(READABLE_FIELDS)
    for path, spec in READABLE_FIELDS.items():
        assert regions[path] and regions[path] <= BOTH, path
        if spec.group not in MEASURE_GROUPS:
            assert regions[path] == BOTH, path


def test_a_criterion_only_reads_fields_of_its_region() -> None:
    """Every field a criterion reads is offered for every region the criterion applies to."""
    protocol = default_protocol()
    regions = field_regions(protocol)
    for criterion in protocol.criteria:
        wanted = BOTH if criterion.region == "both" else {criterion.region}
        for path in criterion.field_paths():
            field = path if path in regions else path.rsplit(".", 1)[0]
            assert wanted <= regions[field], (criterion.id, path)


def test_a_clinic_protocol_moves_a_field_by_its_data() -> None:
    """A clinic's C313 for both regions makes knee-to-wall both; nothing is hand-listed."""
    def both_regions(document: dict[str, Any]) -> None:
        _entry(document, "criteria", "C313")["region"] = "both"

    assert field_regions(_protocol(both_regions))["flexibility.knee_to_wall_cm"] == BOTH


def test_a_trigger_narrowed_to_a_region_counts_for_that_region() -> None:
    """R8 narrowed to the calf (``region == calf``) asks for Nordics in calf injuries too."""
    def calf_r8(document: dict[str, Any]) -> None:
        _entry(document, "cautions", "R8")["trigger"]["all"][0]["threshold"] = "calf"

    assert field_regions(_protocol(calf_r8))["strength.nordic_n"] == BOTH


def test_a_trigger_for_any_region_does_not_widen_a_field() -> None:
    """A red flag that reads a calf screen for any injury leaves the screen the calf's."""
    def dvt_only_in_r1(document: dict[str, Any]) -> None:
        document["screening"] = [s for s in document["screening"]
                                 if s["field"] != "signs.dvt_suspected"]

    # with the calf screen gone, only R1 (any region) reads it: nothing asks, so both
    assert field_regions(_protocol(dvt_only_in_r1))["signs.dvt_suspected"] == BOTH
    assert field_regions(default_protocol())["signs.dvt_suspected"] == CALF

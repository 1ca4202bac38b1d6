"""CDS Hooks 2.0 for sprintclear: discovery, the ``patient-view`` service and feedback.

- :mod:`api.cds.auth`: the EHR's JWT verified against the configured JWKS;
- :mod:`api.cds.service`: prefetch (or the EHR's FHIR server) → assessment → cards;
- :mod:`api.cds.routes`: the HTTP endpoints.
"""

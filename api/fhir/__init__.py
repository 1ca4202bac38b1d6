"""FHIR R4 for sprintclear: a decision as a transaction Bundle, and a Bundle as an assessment.

The mapping lives here, below both the HTTP API and the command line, which call it:

- :mod:`api.fhir.codes`: the code systems, the measure table (path → code → unit) and the
  shipped sprintclear CodeSystem;
- :mod:`api.fhir.export`: decision + assessment (+ sign-off, signed report) → Bundle;
- :mod:`api.fhir.importing`: FHIR resources (a Bundle, or a CDS Hooks prefetch) →
  assessment input (protocol section 7), refusing what it cannot map.
"""

"""The clearance service: HTTP API, clinicians' web pages, decision store, roles, audit trail.

``api.main.create_app(settings)`` builds the FastAPI application; each
resource has its router in ``api.routes``; ``api.deps`` holds the dependency
aliases (the store, the evaluator, ``Allowed(operation)`` for keys and roles);
``api.store`` owns the SQLAlchemy models, the Alembic migrations
(``api/migrations``), every query and the audit chain; ``api.replay`` decides
stored assessments again; ``api.reporting`` signs and keeps PDF reports;
``api.errors`` is the one place where errors become HTTP status codes;
``api.web`` holds the web pages (templates in ``api/templates``, the
stylesheet and script in ``api/static``), over the same store and roles. It
imports ``rules``, ``engine`` and ``reports``; nothing imports it but the
command line.
"""

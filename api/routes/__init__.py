"""The routers of the service, one per resource; ``api.main`` includes them all."""

"""Lunchkafé's wiring: the app, the command line, the demo data, the OpenAPI document and
migrations. Everything else lives in the layers below (README, "Architecture")."""

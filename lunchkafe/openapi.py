"""The OpenAPI document for the JSON API, served at /api/openapi.json."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

_ERROR = {"$ref": "#/components/schemas/Error"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


DOCUMENT: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "Lunchkafé API",
        "version": "1",
        "description": "Upcoming lunch cafés and workshops, and booking a seat without an account.",
    },
    "paths": {
        "/api/events": {
            "get": {
                "summary": "Upcoming published events, soonest first",
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "required": ["events"],
                            "properties": {
                                "events": {
                                    "type": "array",
                                    "items": {"$ref": "#/components/schemas/Event"},
                                }
                            },
                        },
                        "The events",
                    )
                },
            }
        },
        "/api/events/{id}": {
            "get": {
                "summary": "One event",
                "parameters": [
                    {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}
                ],
                "responses": {
                    "200": _json({"$ref": "#/components/schemas/Event"}, "The event"),
                    "404": _json(_ERROR, "No such published event"),
                },
            }
        },
        "/api/events/{id}/registrations": {
            "post": {
                "summary": "Book a seat (or a place on the waitlist); idempotent per e-mail",
                "parameters": [
                    {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}
                ],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {"$ref": "#/components/schemas/RegistrationRequest"}
                        }
                    },
                },
                "responses": {
                    "201": _json({"$ref": "#/components/schemas/Registration"}, "Booked"),
                    "200": _json(
                        {"$ref": "#/components/schemas/Registration"},
                        "This address was already booked; the same registration",
                    ),
                    "400": _json(_ERROR, "Not a JSON object"),
                    "404": _json(_ERROR, "No such event"),
                    "409": _json(_ERROR, "The event is not open for booking"),
                    "415": _json(_ERROR, "Not application/json"),
                    "422": _json(_ERROR, "Invalid fields; error.fields maps each to a message"),
                },
            }
        },
        "/api/manage/{token}": {
            "delete": {
                "summary": "Cancel the registration behind a manage link",
                "parameters": [
                    {"name": "token", "in": "path", "required": True, "schema": {"type": "string"}}
                ],
                "responses": {
                    "200": _json(
                        {"type": "object", "properties": {"status": {"const": "cancelled"}}},
                        "Cancelled (also when it already was)",
                    ),
                    "404": _json(_ERROR, "Unknown or revoked token"),
                },
            }
        },
    },
    "components": {
        "schemas": {
            "Error": {
                "type": "object",
                "required": ["error"],
                "properties": {
                    "error": {
                        "type": "object",
                        "required": ["code", "message"],
                        "properties": {
                            "code": {"type": "string"},
                            "message": {"type": "string"},
                            "fields": {
                                "type": "object",
                                "additionalProperties": {"type": "string"},
                            },
                        },
                    }
                },
            },
            "GuideLink": {
                "type": "object",
                "properties": {
                    "slug": {"type": "string"},
                    "title": {"type": "string"},
                    "organisation": {"type": "string"},
                    "note": {"type": "string"},
                    "url": {"type": "string", "format": "uri"},
                },
            },
            "Event": {
                "type": "object",
                "required": [
                    "id",
                    "uid",
                    "title",
                    "series",
                    "starts_at",
                    "ends_at",
                    "capacity",
                    "seats_left",
                    "waitlist_length",
                    "status",
                    "url",
                    "guide_examples",
                ],
                "properties": {
                    "id": {"type": "integer"},
                    "uid": {"type": "string"},
                    "kind": {"enum": ["cafe", "workshop"]},
                    "title": {"type": "string"},
                    "summary": {"type": "string"},
                    "series": {
                        "oneOf": [
                            {"type": "null"},
                            {
                                "type": "object",
                                "properties": {
                                    "slug": {"type": "string"},
                                    "title": {"type": "string"},
                                    "url": {"type": "string", "format": "uri"},
                                },
                            },
                        ]
                    },
                    "starts_at": {"type": "string", "format": "date-time"},
                    "ends_at": {"type": "string", "format": "date-time"},
                    "online": {"type": "boolean"},
                    "venue": {"type": ["string", "null"]},
                    "capacity": {"type": "integer"},
                    "seats_left": {"type": "integer"},
                    "waitlist_length": {"type": "integer"},
                    "status": {"enum": ["published", "cancelled"]},
                    "url": {"type": "string", "format": "uri"},
                    "guide_examples": {
                        "type": "array",
                        "items": {"$ref": "#/components/schemas/GuideLink"},
                    },
                },
            },
            "RegistrationRequest": {
                "type": "object",
                "required": ["name", "email", "consent"],
                "properties": {
                    "name": {"type": "string", "maxLength": 200},
                    "email": {"type": "string", "format": "email"},
                    "organisation": {"type": "string", "maxLength": 200},
                    "municipality": {"type": "string", "maxLength": 200},
                    "consent": {
                        "type": "boolean",
                        "description": "Must be true: the attendee accepts the privacy notice",
                    },
                },
            },
            "Registration": {
                "type": "object",
                "required": ["status", "waitlist_position", "manage_url"],
                "properties": {
                    "status": {"enum": ["confirmed", "waitlisted"]},
                    "waitlist_position": {"type": ["integer", "null"]},
                    "manage_url": {
                        "type": ["string", "null"],
                        "format": "uri",
                        "description": "Only on 201. On a repeat (200) it is null: the link "
                        "is mailed again to the address instead of returned to the caller.",
                    },
                },
            },
        }
    },
}


async def openapi_document(request: Request) -> Response:
    return JSONResponse(DOCUMENT)

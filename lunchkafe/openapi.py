"""The OpenAPI document for the JSON API, served at /api/openapi.json.

It says what the server enforces, no more and no less: ids are 1..2³¹−1 (foundation.ids),
text fields have the lengths and rules of registrations.attendee, `consent` must be true,
and every error is a problem document (foundation.problems, RFC 9457). tests/
test_api_schemathesis.py generates requests from it and holds the server to it.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from foundation.ids import MAX_ID
from foundation.problems import PROBLEM_JSON

_PROBLEM = {"$ref": "#/components/schemas/Problem"}
_ID = {
    "name": "id",
    "in": "path",
    "required": True,
    "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
}
_TEXT_RULE = (
    "No control characters (line breaks and tabs are folded to spaces), no bidirectional "
    "overrides, no RFC 2047 encoded words (=?…?=); runs of white space count as one."
)


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _problem(description: str, **extra: Any) -> dict[str, Any]:
    return {"description": description, "content": {PROBLEM_JSON: {"schema": _PROBLEM}}, **extra}


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
                "parameters": [_ID],
                "responses": {
                    "200": _json({"$ref": "#/components/schemas/Event"}, "The event"),
                    "404": _problem("No such published event"),
                },
            }
        },
        "/api/events/{id}/registrations": {
            "post": {
                "summary": "Book a seat (or a place on the waitlist); idempotent per address",
                "parameters": [_ID],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {"$ref": "#/components/schemas/RegistrationRequest"}
                        }
                    },
                },
                "responses": {
                    "202": _json(
                        {"$ref": "#/components/schemas/BookingReceipt"},
                        "Received. The same answer for a new booking and for an address "
                        "already booked: whether it got a seat or a place on the waitlist, "
                        "and the link to manage it, go by mail to the address only",
                    ),
                    "400": _problem(
                        "Not an I-JSON object (RFC 7493): not UTF-8, not an object, duplicate "
                        "names, lone surrogates, or nested too deep"
                    ),
                    "404": _problem("No such event"),
                    "409": _problem("The event is not open for booking"),
                    "413": _problem("The body is over 20,000 bytes"),
                    "415": _problem("Not application/json"),
                    "422": _problem("Invalid fields; `fields` maps each to a message"),
                    "429": _problem(
                        "Too many bookings from this client or for this address; try again "
                        "after Retry-After seconds",
                        headers={
                            "Retry-After": {
                                "required": True,
                                "schema": {"type": "integer", "minimum": 0},
                            }
                        },
                    ),
                },
            }
        },
        "/api/manage/{token}": {
            "delete": {
                "summary": "Cancel the registration behind a manage link",
                "parameters": [
                    {
                        "name": "token",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string", "minLength": 1},
                    }
                ],
                "responses": {
                    "200": _json(
                        {"type": "object", "properties": {"status": {"const": "cancelled"}}},
                        "Cancelled (also when it already was)",
                    ),
                    "404": _problem("Unknown or revoked token"),
                },
            }
        },
    },
    "components": {
        "schemas": {
            "Problem": {
                "description": "Problem details (RFC 9457). `code` and `fields` are this "
                "API's extensions; `error` repeats them in the shape of earlier versions.",
                "type": "object",
                "required": ["type", "title", "status", "detail", "code", "error"],
                "properties": {
                    "type": {"type": "string", "format": "uri-reference"},
                    "title": {"type": "string"},
                    "status": {"type": "integer", "minimum": 400, "maximum": 599},
                    "detail": {"type": "string"},
                    "code": {"type": "string"},
                    "fields": {"type": "object", "additionalProperties": {"type": "string"}},
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
                    },
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
                "examples": [
                    {
                        "name": "Ada Lind",
                        "email": "ada.lind@kommun.example.se",
                        "organisation": "Exempelkommun",
                        "municipality": "Exempelby",
                        "consent": True,
                    }
                ],
                "properties": {
                    "name": {
                        "type": "string",
                        "minLength": 1,
                        "maxLength": 200,
                        "description": "Must hold a letter. " + _TEXT_RULE,
                    },
                    "email": {"type": "string", "format": "email", "maxLength": 254},
                    "organisation": {
                        "type": ["string", "null"],
                        "maxLength": 200,
                        "description": _TEXT_RULE,
                    },
                    "municipality": {
                        "type": ["string", "null"],
                        "maxLength": 200,
                        "description": _TEXT_RULE,
                    },
                    "consent": {
                        "type": "boolean",
                        "const": True,
                        "description": "Must be true: the attendee accepts the privacy notice",
                    },
                },
            },
            "BookingReceipt": {
                "type": "object",
                "required": ["event_id", "email", "detail"],
                "properties": {
                    "event_id": {"type": "integer", "minimum": 1, "maximum": 2147483647},
                    "email": {
                        "type": "string",
                        "description": "Where the confirmation goes, as validated",
                    },
                    "detail": {
                        "type": "string",
                        "description": "A sentence in Swedish for people: received, and "
                        "where the mail about it goes",
                    },
                },
                "additionalProperties": False,
            },
        }
    },
}


async def openapi_document(request: Request) -> Response:
    return JSONResponse(DOCUMENT)

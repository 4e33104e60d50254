"""Four independent iCalendar parsers behind one normalised view, for every test that reads a
calendar file: icalendar, `ical`, ical.js (in node) and libical (through ctypes).

Every parser is made to resolve TZID times through the VTIMEZONE written in the file (not
through its own zone database), so a wrong VTIMEZONE rule cannot hide behind a parser that
silently uses the system's tzdata. The fixtures `read_icaljs`, `libical` and `parsers` reach
every test module through `pytest_plugins` in tests/conftest.py; ical.js and libical are
installed by `bash scripts/test-deps.sh`.
"""

from __future__ import annotations

import ctypes
import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NoReturn

import icalendar
import pytest
from ical.calendar_stream import IcsCalendarStream
from ical.timezone import IcsTimezoneInfo

ROOT = Path(__file__).resolve().parents[1]
ICAL_JS_SCRIPT = ROOT / "tests" / "js" / "ical_instants.mjs"
STHLM = "Europe/Stockholm"

# Every character class that needs escaping or is multi-byte. It does not end in whitespace:
# libical (Evolution) drops trailing whitespace from a value; interior spaces survive, see
# tests/events/test_calendar.py::test_folding_keeps_text_exact.
TRICKY = " ".join(['Lunch, café; "mat" \\ C:\\temp\\ ; ,\nrad två: åäö ÅÄÖ\n\nslut – 50 % 😀'] * 3)


def unfolded(data: bytes) -> list[str]:
    return data.decode().replace("\r\n ", "").split("\r\n")


def missing(what: str) -> NoReturn:
    message = f"{what} is not installed"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message}; CI must run `bash scripts/test-deps.sh` before pytest")
    pytest.skip(f"{message}; `bash scripts/test-deps.sh` installs it")


# One normalised view per parser, so that the same assertions run against each of them.
@dataclass
class Parsed:
    method: str | None  # None: no METHOD (feeds and downloads, which are not iTIP)
    uid: str
    start: datetime
    end: datetime
    summary: str | None
    description: str | None
    location: str | None
    status: str | None
    sequence: int | None
    attendees: int
    alarms: int


Reader = Callable[[bytes], list[Parsed]]


def read_icalendar(data: bytes) -> list[Parsed]:
    calendar = icalendar.Calendar.from_ical(data)
    (vtimezone,) = calendar.timezones
    file_zone = vtimezone.to_tz(lookup_tzid=False)  # built from the file's rules only

    def instant(value: Any) -> datetime:
        assert isinstance(value, datetime)
        if getattr(value.tzinfo, "key", None) == STHLM:
            from_file = value.replace(tzinfo=file_zone).astimezone(UTC)
            assert from_file == value.astimezone(UTC), "VTIMEZONE disagrees with tzdata"
            return from_file
        assert value.utcoffset() == timedelta(0)
        return value.astimezone(UTC)

    return [
        Parsed(
            method=str(calendar["METHOD"]) if "METHOD" in calendar else None,
            uid=str(event["UID"]),
            start=instant(event.start),
            end=instant(event.end),
            summary=str(event["SUMMARY"]),
            description=str(event["DESCRIPTION"]),
            location=str(event["LOCATION"]),
            status=str(event["STATUS"]),
            sequence=event.sequence,
            attendees=len(event.attendees),
            alarms=sum(1 for sub in event.subcomponents if sub.name == "VALARM"),
        )
        for event in calendar.events
    ]


def read_ical(data: bytes) -> list[Parsed]:
    calendar = IcsCalendarStream.calendar_from_ics(data.decode())
    (vtimezone,) = calendar.timezones
    file_zone = IcsTimezoneInfo.from_timezone(vtimezone)
    method = re.search(r"^METHOD:(\w+)\r$", data.decode(), re.M)  # not modelled by `ical`

    def instant(value: Any) -> datetime:
        assert isinstance(value, datetime)
        assert value.tzinfo is not None, "floating time"
        if str(value.tzinfo) == STHLM:
            from_file = value.replace(tzinfo=file_zone).astimezone(UTC)
            assert from_file == value.astimezone(UTC), "VTIMEZONE disagrees with tzdata"
            return from_file
        assert value.utcoffset() == timedelta(0)
        return value.astimezone(UTC)

    return [
        Parsed(
            method=method.group(1) if method else None,
            uid=event.uid,
            start=instant(event.dtstart),
            end=instant(event.dtend),
            summary=event.summary,
            description=event.description,
            location=event.location,
            status=event.status and str(event.status.value),
            sequence=event.sequence,
            attendees=len(event.attendees),
            alarms=len(event.alarm),
        )
        for event in calendar.events
    ]


@pytest.fixture(scope="module")
def read_icaljs() -> Reader:
    node = shutil.which("node")
    if node is None:
        missing("node")
    if not (ROOT / "tests" / "js" / "node_modules" / "ical.js").is_dir():
        missing("ical.js (npm)")

    def read(data: bytes) -> list[Parsed]:
        # A zone far from Stockholm and UTC: a floating misread would be off by many hours.
        env = {**os.environ, "TZ": "Pacific/Auckland"}
        done = subprocess.run(
            [str(node), str(ICAL_JS_SCRIPT)],
            input=data,
            capture_output=True,
            env=env,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr.decode()
        result = json.loads(done.stdout)

        def instant(value: dict[str, str]) -> datetime:
            assert value["zone"] in (STHLM, "UTC"), f"ical.js resolved zone {value['zone']}"
            return datetime.fromisoformat(value["utc"])

        return [
            Parsed(
                method=result["method"],
                uid=e["uid"],
                start=instant(e["start"]),
                end=instant(e["end"]),
                summary=e["summary"],
                description=e["description"],
                location=e["location"],
                status=e["status"],
                sequence=e["sequence"],
                attendees=e["attendees"],
                alarms=e["alarms"],
            )
            for e in result["events"]
        ]

    return read


class IcalTime(ctypes.Structure):
    # struct icaltimetype as of libical 3.0 (is_utc was dropped in 3.0).
    _fields_ = [
        *((name, ctypes.c_int) for name in ("year", "month", "day", "hour", "minute", "second")),
        ("is_date", ctypes.c_int),
        ("is_daylight", ctypes.c_int),
        ("zone", ctypes.c_void_p),
    ]


class LibIcal:
    def __init__(self, lib: ctypes.CDLL) -> None:
        ptr, text, num = ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int
        signatures: dict[str, tuple[Any, list[Any]]] = {
            "icalparser_parse_string": (ptr, [text]),
            "icalcomponent_free": (None, [ptr]),
            "icalcomponent_as_ical_string": (text, [ptr]),
            "icalcomponent_string_to_kind": (num, [text]),
            "icalproperty_string_to_kind": (num, [text]),
            "icalcomponent_get_first_component": (ptr, [ptr, num]),
            "icalcomponent_get_next_component": (ptr, [ptr, num]),
            "icalcomponent_count_components": (num, [ptr, num]),
            "icalcomponent_count_properties": (num, [ptr, num]),
            "icalcomponent_get_first_property": (ptr, [ptr, num]),
            "icalproperty_get_value_as_string": (text, [ptr]),
            "icalcomponent_get_timezone": (ptr, [ptr, text]),
            "icalcomponent_get_dtstart": (IcalTime, [ptr]),
            "icalcomponent_get_dtend": (IcalTime, [ptr]),
            "icaltime_as_timet_with_zone": (ctypes.c_int64, [IcalTime, ptr]),
            "icaltimezone_get_utc_timezone": (ptr, []),
            "icalcomponent_get_uid": (text, [ptr]),
            "icalcomponent_get_summary": (text, [ptr]),
            "icalcomponent_get_description": (text, [ptr]),
            "icalcomponent_get_location": (text, [ptr]),
            "icalcomponent_get_sequence": (num, [ptr]),
            "icalrestriction_check": (num, [ptr]),
        }
        for name, (restype, argtypes) in signatures.items():
            function = getattr(lib, name)
            function.restype, function.argtypes = restype, argtypes
        self.lib = lib

    def kind(self, name: str) -> int:
        return int(self.lib.icalcomponent_string_to_kind(name.encode()))

    def has(self, component: int, name: str) -> bool:
        kind = self.lib.icalproperty_string_to_kind(name.encode())
        return bool(self.lib.icalcomponent_get_first_property(component, kind))

    def prop(self, component: int, name: str) -> str:
        kind = self.lib.icalproperty_string_to_kind(name.encode())
        found = self.lib.icalcomponent_get_first_property(component, kind)
        assert found, f"libical: no {name}"
        return str(self.lib.icalproperty_get_value_as_string(found).decode())

    @contextmanager
    def parse(self, data: bytes) -> Iterator[int]:
        root = self.lib.icalparser_parse_string(data)
        assert root, "libical could not parse the calendar"
        try:
            yield root
        finally:
            self.lib.icalcomponent_free(root)

    def errors(self, root: int) -> list[str]:
        # libical reports problems as X-LIC-ERROR properties inside the tree, not as results.
        text = self.lib.icalcomponent_as_ical_string(root).decode().replace("\r\n ", "")
        return [line for line in text.split("\r\n") if line.startswith("X-LIC-ERROR")]

    def events(self, root: int) -> Iterator[int]:
        vevent = self.kind("VEVENT")
        event = self.lib.icalcomponent_get_first_component(root, vevent)
        while event:
            yield event
            event = self.lib.icalcomponent_get_next_component(root, vevent)

    def read(self, data: bytes) -> list[Parsed]:
        lib = self.lib
        with self.parse(data) as root:
            assert self.errors(root) == []
            file_zone = lib.icalcomponent_get_timezone(root, STHLM.encode())
            assert file_zone, "libical did not load the VTIMEZONE"
            utc_zone = lib.icaltimezone_get_utc_timezone()

            def instant(value: IcalTime) -> datetime:
                # The zone must be the file's own VTIMEZONE (or UTC), not a built-in one.
                assert value.zone in (file_zone, utc_zone), "libical used another zone"
                return datetime.fromtimestamp(
                    lib.icaltime_as_timet_with_zone(value, value.zone), UTC
                )

            return [
                Parsed(
                    method=self.prop(root, "METHOD") if self.has(root, "METHOD") else None,
                    uid=lib.icalcomponent_get_uid(event).decode(),
                    start=instant(lib.icalcomponent_get_dtstart(event)),
                    end=instant(lib.icalcomponent_get_dtend(event)),
                    summary=lib.icalcomponent_get_summary(event).decode(),
                    description=lib.icalcomponent_get_description(event).decode(),
                    location=lib.icalcomponent_get_location(event).decode(),
                    status=self.prop(event, "STATUS"),
                    sequence=lib.icalcomponent_get_sequence(event),
                    attendees=lib.icalcomponent_count_properties(
                        event, lib.icalproperty_string_to_kind(b"ATTENDEE")
                    ),
                    alarms=lib.icalcomponent_count_components(event, self.kind("VALARM")),
                )
                for event in self.events(root)
            ]


@pytest.fixture(scope="module")
def libical() -> LibIcal:
    try:
        return LibIcal(ctypes.CDLL("libical.so.3"))
    except OSError:
        missing("libical3 (libical.so.3)")


@dataclass(frozen=True)
class Parsers:
    """The four readers; ical.js costs a node process per file, so those run side by side."""

    in_process: dict[str, Reader]
    icaljs: Reader

    def read(self, documents: Sequence[bytes]) -> list[dict[str, list[Parsed]]]:
        with ThreadPoolExecutor(max_workers=4) as pool:
            js = [pool.submit(self.icaljs, document) for document in documents]
            results = [
                {name: read(document) for name, read in self.in_process.items()}
                for document in documents
            ]
            for result, future in zip(results, js, strict=True):
                result["ical.js"] = future.result()
        return results


@pytest.fixture
def parsers(read_icaljs: Reader, libical: LibIcal) -> Parsers:
    return Parsers(
        in_process={"icalendar": read_icalendar, "ical": read_ical, "libical": libical.read},
        icaljs=read_icaljs,
    )

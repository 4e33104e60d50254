// Reads one .ics from stdin and prints, as JSON, what Mozilla's ical.js (the parser inside
// Thunderbird) makes of every VEVENT. Only the VTIMEZONE blocks in the file are registered,
// so TZID times are resolved by the file's own rules, never by a built-in zone database.
import ICAL from "ical.js";

let text = "";
process.stdin.setEncoding("utf8");
for await (const chunk of process.stdin) text += chunk;

const calendar = new ICAL.Component(ICAL.parse(text));
ICAL.TimezoneService.reset();
for (const vtimezone of calendar.getAllSubcomponents("vtimezone")) {
  ICAL.TimezoneService.register(vtimezone);
}

const instant = (time) => ({
  utc: time.toJSDate().toISOString().replace(".000Z", "Z"),
  // "floating" here would mean the TZID was not resolved against the VTIMEZONE.
  zone: time.zone ? time.zone.tzid : null,
});

const events = calendar.getAllSubcomponents("vevent").map((vevent) => {
  const event = new ICAL.Event(vevent);
  return {
    uid: event.uid,
    start: instant(event.startDate),
    end: instant(event.endDate),
    summary: event.summary,
    description: event.description,
    location: event.location,
    status: vevent.getFirstPropertyValue("status"),
    sequence: event.sequence,
    attendees: vevent.getAllProperties("attendee").length,
    alarms: vevent.getAllSubcomponents("valarm").length,
  };
});
process.stdout.write(JSON.stringify({
  method: calendar.getFirstPropertyValue("method"),
  events,
}));

"""A process's phases and steps as one readable text, for the workspace editor's textarea:

    ## Förankring
    - Förankra arbetet
      Stegets text, indragen med två mellanslag (Markdown).
      Exempel: ystad-regional-karna, sormland-strukturbild
      Tillfällen: 12, 15
    - Kartlägg nuläget
    Kontrollpunkt: Är alla med på varför?

A line "## …" starts a phase; "- …" starts a step in it; an indented line continues the
step's text ("Exempel:" there lists the step's example slugs, "Tillfällen:" the numbers (ids)
of the sessions that work on it, each separated by commas; either word in any case);
"Kontrollpunkt: …" is the phase's checkpoint (indented lines after it continue it). Empty
lines are kept inside texts and dropped elsewhere.

`outline_text(phases)` writes the text, `read_outline(text)` reads it back (the two round-trip);
read_outline raises InvalidProcess({"phases": message}) for a line that fits none of these.
The rules on titles and lengths are guide.editing's, checked when the process is saved.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

from foundation.errors import N_, FilledMessage
from guide.editing import PhaseInput, StepInput
from guide.errors import InvalidProcess

PHASE = "## "
STEP = "- "
CHECKPOINT = "Kontrollpunkt:"
EXAMPLES = "Exempel:"
EVENTS = "Tillfällen:"
INDENT = "  "
MSG_LINE = N_("Rad %(n)d: börja med ”## ” för en fas, ”- ” för ett steg eller ”Kontrollpunkt:”.")
MSG_STEP_FIRST = N_("Rad %(n)d: ett steg hör till en fas; skriv en rad ”## Fasens namn” före.")
MSG_EVENT_NUMBERS = N_(
    "Rad %(n)d: skriv tillfällenas nummer med komma emellan, t.ex. ”Tillfällen: 12, 15”."
)


@dataclass
class _Step:
    title: str
    lines: list[str] = field(default_factory=list)
    examples: list[str] = field(default_factory=list)
    events: list[int] = field(default_factory=list)


@dataclass
class _Phase:
    title: str
    steps: list[_Step] = field(default_factory=list)
    checkpoint: list[str] | None = None


def outline_text(phases: Sequence[PhaseInput]) -> str:
    """The phases as the editor's text (see the module's docstring), ending in a newline."""
    out: list[str] = []
    for phase in phases:
        out.append(f"{PHASE}{phase.title}")
        for step in phase.steps:
            out.append(f"{STEP}{step.title}")
            out += [
                f"{INDENT}{line}" if line else "" for line in step.text.split("\n") if step.text
            ]
            if step.examples:
                out.append(f"{INDENT}{EXAMPLES} {', '.join(step.examples)}")
            if step.events:
                out.append(f"{INDENT}{EVENTS} {', '.join(str(i) for i in step.events)}")
        if phase.checkpoint:
            first, *rest = phase.checkpoint.split("\n")
            out.append(f"{CHECKPOINT} {first}")
            out += [f"{INDENT}{line}" if line else "" for line in rest]
    return "\n".join(out) + "\n" if out else ""


def read_outline(text: str) -> list[PhaseInput]:
    """The phases `text` writes out, in order. Raises InvalidProcess({"phases": …}) naming
    the first line (counted from 1) that is neither a phase, a step, a checkpoint nor an
    indented continuation, or a step before any phase."""
    phases: list[_Phase] = []
    # Where an indented line goes: the open step's text or the open checkpoint.
    target: list[str] | None = None
    for n, raw in enumerate(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"), 1):
        line = raw.rstrip()
        if raw.startswith((" ", "\t")) or not line:
            if target is None:
                if line:
                    raise InvalidProcess({"phases": FilledMessage(MSG_LINE, n=n)})
                continue
            inner = line.strip()
            step = phases[-1].steps[-1] if phases and phases[-1].steps else None
            listed = _after(inner, EXAMPLES)
            if step is not None and target is step.lines and listed is not None:
                step.examples += [s.strip() for s in listed.split(",") if s.strip()]
                continue
            listed = _after(inner, EVENTS)
            if step is not None and target is step.lines and listed is not None:
                numbers = [s.strip() for s in listed.split(",") if s.strip()]
                if not all(s.isascii() and s.isdigit() and len(s) < 10 for s in numbers):
                    raise InvalidProcess({"phases": FilledMessage(MSG_EVENT_NUMBERS, n=n)})
                step.events += [int(s) for s in numbers]
                continue
            target.append(line[len(INDENT) :] if line.startswith(INDENT) else line.lstrip())
            continue
        if line.startswith(PHASE.strip()):
            phases.append(_Phase(title=line[len(PHASE.strip()) :].strip()))
            target = None
        elif line.startswith(STEP.strip()):
            if not phases:
                raise InvalidProcess({"phases": FilledMessage(MSG_STEP_FIRST, n=n)})
            step = _Step(title=line[len(STEP.strip()) :].strip())
            phases[-1].steps.append(step)
            target = step.lines
        elif line.startswith(CHECKPOINT) and phases:
            phases[-1].checkpoint = [line[len(CHECKPOINT) :].strip()]
            target = phases[-1].checkpoint
        else:
            raise InvalidProcess({"phases": FilledMessage(MSG_LINE, n=n)})
    return [
        PhaseInput(
            title=phase.title,
            steps=[
                StepInput(
                    title=s.title, text=_joined(s.lines), examples=s.examples, events=s.events
                )
                for s in phase.steps
            ],
            checkpoint=_joined(phase.checkpoint or []),
        )
        for phase in phases
    ]


def _after(line: str, keyword: str) -> str | None:
    """What follows `keyword` ("Exempel:", "Tillfällen:") at the start of `line`, however it
    is typed: in any case, its letters composed or not ("a" and a combining diaeresis is
    "ä"); None when the line does not start with it."""
    line = unicodedata.normalize("NFC", line)
    if line[: len(keyword)].casefold() != keyword.casefold():
        return None
    return line[len(keyword) :]


def _joined(lines: list[str]) -> str:
    return "\n".join(lines).strip("\n")

"""The guide's editor in the workspace (issue 12 item 4): an organiser creates, previews,
changes and deletes examples, tips, processes and challenges through the forms, and the guide's
public pages show what was saved; a preview saves nothing; bad fields are named next to their
inputs and nothing is lost; each save and deletion is in the audit log; the anonymous are sent
to sign in and a form without its CSRF token is refused. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import httpx
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from foundation.services import Services
from foundation.timestamps import utcnow
from guide.editing import PhaseInput, StepInput
from guide.models import Challenge, GuideExample, GuideProcess, GuideTip, StepEvent
from guide.outline import outline_text, read_outline
from organisers.models import AuditEntry
from tests.factories import csrf_in, csrf_of, make_event
from tests.signing_in import signed_in_client, text_of

EXAMPLE = {
    "slug": "ystad-byar",
    "title": "Byarnas egna planer",
    "organisation": "Ystads kommun",
    "organisation_type": "kommun",
    "region": "Skåne län",
    "summary": "Byarna skrev sina egna utvecklingsplaner.",
    "body": "Det började med **ett möte** i bygdegården.",
    "inhabitants": "31 000",
    "activities": "Möten i byarna\n\n  Gemensam karta  ",
    "results": "",
    "lessons": "Börja smått",
    "contact_name": "Åsa Öberg",
    "contact_email": "asa.oberg@ystad.example.se",
    "language": "sv",
}
OUTLINE = """## Förankring
- Förankra arbetet
  Prata med **alla**.

  Andra stycket.
  Exempel: ystad-byar
- Kartlägg nuläget
Kontrollpunkt: Är alla med?
## Framåt
- Gör en handlingsplan
"""


async def post(client: httpx.AsyncClient, path: str, form_path: str, **data: str) -> httpx.Response:
    token = await csrf_of(client, form_path)
    return await client.post(path, data={**data, "csrf_token": token})


async def count(services: Services, row: type[object]) -> int:
    async with services.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(row)) or 0)


async def actions(services: Services) -> list[str]:
    async with services.transaction() as session:
        return list(
            await session.scalars(
                select(AuditEntry.action)
                .where(AuditEntry.action.startswith("guide."))
                .order_by(AuditEntry.id)
            )
        )


async def test_an_example_is_created_previewed_changed_and_deleted(services: Services) -> None:
    new = "/organiser/guide/examples/new"
    async with signed_in_client(services) as client:
        # A number that is no number: named next to its field, everything typed kept.
        wrong = await post(client, new, new, **{**EXAMPLE, "inhabitants": "många"})
        assert wrong.status_code == 422
        assert 'id="error-inhabitants"' in wrong.text
        assert "Ange ett heltal mellan 1 och 20000000." in text_of(wrong)
        assert "Byarnas egna planer" in wrong.text
        assert "Gemensam karta" in wrong.text
        assert await count(services, GuideExample) == 0

        preview = await post(client, new, new, **EXAMPLE, action="preview")
        assert preview.status_code == 200
        assert "<strong>ett möte</strong>" in preview.text
        assert await count(services, GuideExample) == 0

        saved = await post(client, new, new, **{**EXAMPLE, "inhabitants": "31000"})
        assert saved.status_code == 303
        edit = saved.headers["location"]
        assert edit.endswith("/organiser/guide/examples/ystad-byar")
        public = text_of(await client.get("/guide/ystad-byar"))
        assert "Byarnas egna planer" in public
        assert "Gemensam karta" in public
        assert "31" in public

        # The same slug again is refused, not overwritten.
        again = await post(client, new, new, **{**EXAMPLE, "title": "Något annat"})
        assert again.status_code == 422
        assert 'id="error-slug"' in again.text

        form = (await client.get(edit)).text
        assert "Möten i byarna\nGemensam karta" in form
        changed = await post(client, edit, edit, **{**EXAMPLE, "title": "Byarnas planer"})
        assert changed.status_code == 303
        assert "Byarnas planer" in text_of(await client.get("/guide/ystad-byar"))

        confirm = await client.get(f"{edit}/delete")
        assert "Radera ”Byarnas planer”?" in text_of(confirm)
        gone = await client.post(f"{edit}/delete", data={"csrf_token": csrf_in(confirm.text)})
        assert gone.status_code == 303
        assert (await client.get("/guide/ystad-byar")).status_code == 404
        assert await count(services, GuideExample) == 0
    assert await actions(services) == [
        "guide.example.created",
        "guide.example.saved",
        "guide.example.deleted",
    ]


async def test_a_challenge_a_tip_and_a_process_round_trip(services: Services) -> None:
    async with signed_in_client(services) as client:
        path = "/organiser/guide/challenges/new"
        made = await post(client, path, path, slug="forenkling", name="Förenkling", position="2")
        assert made.status_code == 303
        path = "/organiser/guide/examples/new"
        made = await post(client, path, path, **EXAMPLE, challenges="forenkling")
        assert made.status_code == 303

        path = "/organiser/guide/tips/new"
        tip = {"slug": "mal", "number": "2", "title": "Hitta gemensamma mål", "text": "Läs *mer*"}
        bad = await post(client, path, path, **{**tip, "examples": "finns-inte"})
        assert bad.status_code == 422
        assert "Exemplet på rad 1 finns inte." in text_of(bad)
        assert 'id="error-examples"' in bad.text
        made = await post(
            client, path, path, **tip, questions="Vem?\nVarför?", examples="ystad-byar"
        )
        assert made.status_code == 303
        page = text_of(await client.get("/guide/tips/mal"))
        assert "Vem?" in page
        assert "Byarnas egna planer" in page

        path = "/organiser/guide/processes/new"
        process = {"slug": "sex-steg", "title": "Platsutveckling", "phases": OUTLINE}
        bad = await post(client, path, path, **{**process, "phases": "Något utan fas"})
        assert bad.status_code == 422
        assert 'id="error-phases"' in bad.text
        assert "Något utan fas" in bad.text
        preview = await post(client, path, path, **process, action="preview")
        assert "<strong>alla</strong>" in preview.text
        assert await count(services, GuideProcess) == 0
        made = await post(client, path, path, **process, challenges="forenkling")
        assert made.status_code == 303
        page = text_of(await client.get("/guide/processes/sex-steg"))
        assert "Kartlägg nuläget" in page
        assert "Är alla med?" in page
        edit = (await client.get("/organiser/guide/processes/sex-steg")).text
        assert "## Framåt" in edit
        assert "  Exempel: ystad-byar" in edit

        for kind, slug in (
            ("processes", "sex-steg"),
            ("tips", "mal"),
            ("challenges", "forenkling"),
        ):
            where = f"/organiser/guide/{kind}/{slug}/delete"
            assert (await post(client, where, where)).status_code == 303
    assert await count(services, GuideTip) == 0
    assert await count(services, Challenge) == 0
    assert await count(services, GuideProcess) == 0
    assert await count(services, GuideExample) == 1


async def test_the_anonymous_sign_in_and_a_form_without_its_token_is_refused(
    services: Services, client: httpx.AsyncClient
) -> None:
    for path in ("/organiser/guide", "/organiser/guide/examples/new"):
        answer = await client.get(path)
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/organiser/login")
    async with signed_in_client(services) as signed:
        new = "/organiser/guide/challenges/new"
        refused = await signed.post(new, data={"slug": "x", "name": "X"})
        assert refused.status_code == 403
        listed = await signed.get("/organiser/guide")
        assert 'aria-current="page">Guiden' in listed.text
    assert await count(services, Challenge) == 0


LINE = (
    st.text(
        st.characters(codec="utf-8", exclude_characters="\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"),
        max_size=20,
    )
    .map(str.strip)
    .filter(lambda s: bool(s) and not s.startswith(("Exempel:", "Tillfällen:")))
)


@given(
    st.lists(
        st.tuples(
            LINE,
            st.lists(
                st.tuples(
                    LINE,
                    st.lists(LINE, max_size=3),
                    st.lists(st.integers(1, 999_999_999), max_size=3),
                ),
                min_size=1,
                max_size=3,
            ),
            st.lists(LINE, max_size=2),
        ),
        min_size=1,
        max_size=3,
    )
)
def test_an_outline_reads_back_as_it_was_written(
    shape: list[tuple[str, list[tuple[str, list[str], list[int]]], list[str]]],
) -> None:
    phases = [
        PhaseInput(
            title=title,
            steps=[
                StepInput(title=t, text="\n".join(lines), events=events)
                for t, lines, events in steps
            ],
            checkpoint=" ".join(checkpoint),
        )
        for title, steps, checkpoint in shape
    ]
    assert read_outline(outline_text(phases)) == phases


async def test_the_longest_body_in_swedish_is_saved_whole(services: Services) -> None:
    """50,000 characters of 'å–' (up to 9 bytes each in a form) are over the site's usual
    form limit; the editor takes them rather than losing them to a 413."""
    body = "å–" * 25_000
    async with signed_in_client(services) as client:
        new = "/organiser/guide/examples/new"
        saved = await post(client, new, new, **{**EXAMPLE, "inhabitants": "", "body": body})
        assert saved.status_code == 303
    async with services.transaction() as session:
        assert await session.scalar(select(GuideExample.body)) == body


PLAIN = OUTLINE.replace("  Exempel: ystad-byar\n", "")


async def test_the_editor_links_sessions_to_a_step_and_removes_them(services: Services) -> None:
    workshop = await make_event(services, title="Workshop om förankring")
    draft = await make_event(services, title="Kafé i utkast", publish=False)
    await make_event(
        services,
        title="Kafé som varit",
        starts_at=utcnow() - timedelta(days=3),
        ends_at=utcnow() - timedelta(days=3, hours=-1),
    )
    path = "/organiser/guide/processes/new"
    edit = "/organiser/guide/processes/sex-steg"
    linked = PLAIN.replace(
        "- Kartlägg nuläget", f"  Tillfällen: {workshop.id}, {draft.id}\n- Kartlägg nuläget"
    )
    async with signed_in_client(services) as client:
        new = text_of(await client.get(path))
        # The sessions to choose among, with their numbers: not those already over.
        assert f"{workshop.id} – " in new
        assert "Workshop om förankring" in new
        assert "Kafé i utkast (utkast, visas när det publiceras)" in new
        assert "Kafé som varit" not in new

        bad = await post(
            client,
            path,
            path,
            slug="sex-steg",
            title="P",
            phases=linked.replace(f"{draft.id}", "nästa"),
        )
        assert bad.status_code == 422
        assert "Rad 6: skriv tillfällenas nummer med komma emellan" in text_of(bad)
        unknown = await post(
            client,
            path,
            path,
            slug="sex-steg",
            title="P",
            phases=linked.replace(f"{draft.id}", "999999"),
        )
        assert unknown.status_code == 422
        assert "Tillfälle nummer 999999 finns inte." in text_of(unknown)
        assert await count(services, StepEvent) == 0

        made = await post(client, path, path, slug="sex-steg", title="P", phases=linked)
        assert made.status_code == 303
        assert await count(services, StepEvent) == 2
        form = (await client.get(edit)).text
        assert f"  Tillfällen: {workshop.id}, {draft.id}\n" in form
        page = (await client.get("/guide/processes/sex-steg")).text
        assert f'href="/events/{workshop.id}#book-title"' in page
        assert "Kafé i utkast" not in page

        # Saved again without the line: the step links nothing.
        removed = await post(client, edit, edit, title="P", phases=PLAIN)
        assert removed.status_code == 303
        assert await count(services, StepEvent) == 0
        assert "  Tillfällen:" not in (await client.get(edit)).text

"""The demo's development guide: nine challenges, good examples with fact boxes and a person
to call, numbered tips with reflection questions, and place development in six steps.

Every organisation's material here is written for the demo; the people are invented, their
addresses are at example.se and their numbers are of the kind used in examples (08-123 45 67).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from guide.editing import (
    ChallengeInput,
    ExampleInput,
    PhaseInput,
    ProcessInput,
    StepInput,
    TipInput,
    save_challenge,
    save_example,
    save_process,
    save_tip,
)

CHALLENGES = [
    ChallengeInput(
        "forenkling",
        "Förenkling",
        "Enklare regler, processer och kontakter för företag och invånare.",
    ),
    ChallengeInput(
        "foretagsklimat",
        "Företagsklimat",
        "Bättre förutsättningar för företag att starta och växa.",
    ),
    ChallengeInput(
        "samhallsplanering",
        "Samhällsplanering",
        "Fysisk och regional planering som håller ihop.",
    ),
    ChallengeInput(
        "lokal-utveckling",
        "Lokal utveckling",
        "Bygder och orter som driver sin egen utveckling.",
    ),
    ChallengeInput("delaktighet", "Delaktighet", "Fler röster i strategier och beslut."),
    ChallengeInput(
        "kompetensforsorjning",
        "Kompetensförsörjning",
        "Rätt kompetens för arbetsgivare i hela landet, i dag och framöver.",
    ),
    ChallengeInput(
        "service-i-hela-landet",
        "Service i hela landet",
        "Dagligvaror, drivmedel, post och offentlig service nära dem som bor och verkar "
        "på landsbygden.",
    ),
    ChallengeInput(
        "samverkan",
        "Samverkan",
        "Kommuner, regioner, myndigheter och näringsliv som arbetar mot samma mål.",
    ),
    ChallengeInput(
        "hallbar-omstallning",
        "Hållbar omställning",
        "Klimat, energi och cirkulär ekonomi som möjlighet för företag och orter.",
    ),
]

EXAMPLES = [
    ExampleInput(
        slug="sormland-strukturbild",
        title="Strukturbild för regional planering",
        organisation="Region Sörmland",
        organisation_type="region",
        region="Södermanlands län",
        summary="En gemensam strukturbild som visar hur regionen hänger ihop – bostäder, "
        "arbetsplatser, pendling och grönstruktur – och som kommunerna planerar utifrån.",
        body="Region Sörmland tog fram strukturbilden tillsammans med länets kommuner. "
        "Den används som underlag i översiktsplaner och i den regionala "
        "utvecklingsstrategin.\n\nArbetet visar hur en bild som alla känner igen sig i gör "
        "det lättare att prioritera mellan orter, stråk och investeringar.",
        inhabitants=300_000,
        project_owner="Region Sörmland, avdelningen för regional utveckling",
        project_period="2020–2022",
        funding="Regionala utvecklingsmedel",
        activities=[
            "Workshoppar med planerare från länets nio kommuner",
            "Gemensam analys av pendling, bostadsbyggande och grönstruktur",
            "Remiss till kommunerna och beslut i regionfullmäktige",
        ],
        results=[
            "En strukturbild som alla kommuner i länet står bakom",
            "Strukturbilden används i kommunernas översiktsplaner",
        ],
        lessons=[
            "Låt kommunerna vara med från början, inte bara på remiss",
            "En karta säger mer än en lång text",
        ],
        contact_name="Maja Lindgren",
        contact_role="Regional planerare",
        contact_email="regional.planering@example.se",
        contact_phone="016-123 45 67",
        challenges=["samhallsplanering", "samverkan"],
        published_on=date(2025, 2, 10),
        updated_on=date(2026, 9, 1),
    ),
    ExampleInput(
        slug="ystad-regional-karna",
        title="Ystad som regional kärna med gemensam målbild för sydöstra Skåne",
        organisation="Ystads kommun",
        organisation_type="kommun",
        region="Skåne län",
        summary="Kommunerna i sydöstra Skåne enades om en gemensam målbild där Ystad är "
        "regional kärna, med samordnad planering för bostäder, näringsliv och kollektivtrafik.",
        body="Målbilden tog form i ett samarbete mellan flera kommuner och Region Skåne. Den "
        "gör det möjligt att tala med en röst om infrastruktur och att dela på funktioner "
        "som en enskild kommun inte bär själv.",
        inhabitants=31_000,
        project_owner="Ystads kommun tillsammans med grannkommunerna",
        project_period="2019–2021",
        activities=[
            "Gemensamma planeringsdagar för politiker och tjänstepersoner",
            "En gemensam målbild för bostäder, näringsliv och kollektivtrafik",
        ],
        results=["En röst i samtalen om infrastruktur med region och stat"],
        lessons=["Börja i det ni redan är överens om"],
        contact_name="Erik Holm",
        contact_role="Samhällsplanerare",
        contact_email="samhallsplanering@example.se",
        challenges=["samhallsplanering", "foretagsklimat"],
        published_on=date(2025, 3, 4),
        updated_on=date(2025, 3, 4),
    ),
    ExampleInput(
        slug="vgr-lokala-processledare",
        title="Coachning av lokala processledare",
        organisation="Västra Götalandsregionen",
        organisation_type="region",
        region="Västra Götalands län",
        summary="Regionen coachar lokala processledare som driver utvecklingsarbete på "
        "landsbygden, så att lokala initiativ får metodstöd och nätverk.",
        body="Processledarna får handledning i grupp och enskilt, och möts regelbundet för "
        "att dela erfarenheter. Modellen har gjort det lättare för föreningar och "
        "bygdegrupper att gå från idé till genomförande.",
        project_owner="Västra Götalandsregionen",
        project_period="2021–2024",
        funding="Regionala utvecklingsmedel och landsbygdsprogrammet",
        activities=[
            "Handledning i grupp varannan månad",
            "Enskild coachning vid behov",
            "Nätverksträffar för processledare från hela regionen",
        ],
        results=["Fler lokala utvecklingsplaner som också genomförs"],
        lessons=["Processledarna behöver ett nätverk lika mycket som metoder"],
        contact_name="Sara Nyström",
        contact_role="Landsbygdsutvecklare",
        contact_email="landsbygd@example.se",
        contact_phone="031-123 45 67",
        challenges=["lokal-utveckling", "delaktighet"],
        published_on=date(2025, 5, 20),
        updated_on=date(2026, 1, 15),
    ),
    ExampleInput(
        slug="jamtland-fler-roster",
        title="Fler röster i den regionala utvecklingsstrategin",
        organisation="Region Jämtland Härjedalen",
        organisation_type="region",
        region="Jämtlands län",
        summary="Regionen lät fler komma till tals när utvecklingsstrategin togs fram: unga, "
        "företagare, föreningar och invånare i glesa delar av länet.",
        body="Dialogen fördes både digitalt och på plats runt om i länet. Resultatet blev "
        "en strategi som fler känner igen sig i och vill arbeta efter.",
        inhabitants=132_000,
        project_owner="Region Jämtland Härjedalen",
        project_period="2019–2020",
        activities=[
            "Dialogmöten i alla länets kommuner",
            "En digital enkät och samtal med unga på gymnasieskolor",
        ],
        results=["Över tusen synpunkter som syns i strategins prioriteringar"],
        lessons=["Gå dit människor redan finns i stället för att bjuda in till möten"],
        contact_name="Lars Öberg",
        contact_role="Strateg för regional utveckling",
        contact_email="regional.utveckling@example.se",
        challenges=["delaktighet", "samhallsplanering"],
        published_on=date(2025, 6, 2),
        updated_on=date(2025, 6, 2),
    ),
    ExampleInput(
        slug="varberg-lokal-utvecklingspeng",
        title="Lokal utvecklingspeng",
        organisation="Varbergs kommun",
        organisation_type="kommun",
        region="Hallands län",
        summary="En enkel modell där lokala föreningar söker mindre summor för att utveckla "
        "sin ort, med snabba beslut och lite administration.",
        body="Ansökan görs på en sida och beslut fattas inom några veckor. Kommunen har sett "
        "att små summor med kort väg till beslut sätter igång mycket ideellt engagemang.",
        inhabitants=66_000,
        project_owner="Varbergs kommun",
        project_period="Sedan 2018",
        funding="Kommunens budget, 500 000 kronor per år",
        activities=[
            "En ansökan på en sida",
            "Beslut inom fyra veckor",
            "En enkel återrapport med bilder",
        ],
        results=["Ett fyrtiotal lokala projekt om året"],
        lessons=["Små summor och snabba beslut väcker engagemang"],
        contact_name="Johanna Berg",
        contact_role="Landsbygdsutvecklare",
        contact_email="landsbygd.varberg@example.se",
        contact_phone="0340-12 34 56",
        challenges=["lokal-utveckling", "forenkling"],
        published_on=date(2025, 8, 18),
        updated_on=date(2025, 8, 18),
    ),
    ExampleInput(
        slug="kramfors-bygdemedel",
        title="Bygdemedel för lokal utveckling",
        organisation="Kramfors kommun",
        organisation_type="kommun",
        region="Västernorrlands län",
        summary="Kramfors fördelar medel till bygderna, där lokala grupper själva prioriterar "
        "vad pengarna ska användas till.",
        body="Modellen bygger på förtroende för att de som bor på orten vet bäst vad som "
        "behövs. Kommunen följer upp och sprider goda exempel mellan bygderna.",
        inhabitants=18_000,
        project_owner="Kramfors kommun",
        project_period="2020–2025",
        funding="Kommunens budget",
        activities=["Bygdemöten där invånarna prioriterar", "Årlig uppföljning med bygderna"],
        results=["Bygderna har själva prioriterat och genomfört över hundra insatser"],
        lessons=["Förtroende ger engagemang"],
        contact_name="Per Sandberg",
        contact_role="Näringslivsutvecklare",
        contact_email="utveckling.kramfors@example.se",
        challenges=["lokal-utveckling", "foretagsklimat"],
        published_on=date(2025, 10, 6),
        updated_on=date(2025, 10, 6),
    ),
    ExampleInput(
        slug="en-vag-in-for-foretag",
        title="En väg in för företag",
        organisation="Tierps kommun",
        organisation_type="kommun",
        region="Uppsala län",
        summary="En företagslots tar emot alla frågor från företag och samlar de "
        "förvaltningar som behövs till ett gemensamt möte, så att företagaren slipper "
        "springa mellan kontoren.",
        body="Kommunen samlade tillstånd, bygglov och miljö i en gemensam process. "
        "Företagaren får **en kontaktperson** och ett samlat besked.",
        inhabitants=21_000,
        project_owner="Tierps kommun, näringslivsenheten",
        project_period="2022–2023",
        activities=[
            "Kartläggning av företagens kontakter med kommunen",
            "En företagslots och gemensamma samrådsmöten",
            "Handläggningstider följs upp varje månad",
        ],
        results=["Kortare handläggningstider för tillstånd och bygglov"],
        lessons=["Börja med att lyssna på företagen, inte på organisationsschemat"],
        contact_name="Anna Karlsson",
        contact_role="Företagslots",
        contact_email="foretagslots@example.se",
        contact_phone="08-123 45 67",
        challenges=["forenkling", "foretagsklimat"],
        published_on=date(2026, 2, 3),
        updated_on=date(2026, 2, 3),
    ),
    ExampleInput(
        slug="lansstyrelsen-kompetenslyft",
        title="Kompetenslyft för besöksnäringen i fjällen",
        organisation="Länsstyrelsen i Dalarnas län",
        organisation_type="lansstyrelse",
        region="Dalarnas län",
        summary="Länsstyrelsen, kommunerna och företagen i fjällen tog fram korta "
        "utbildningar som gör säsongsanställda till helårsanställda.",
        body="Utbildningarna ges mellan säsongerna, när företagen har tid. De "
        "anställda lär sig fler arbetsuppgifter, och företagen kan erbjuda arbete året om.",
        project_owner="Länsstyrelsen i Dalarnas län",
        project_period="2023–2025",
        funding="Europeiska socialfonden",
        activities=["Korta utbildningar mellan säsongerna", "Delade anställningar mellan företag"],
        results=["Fler helårsanställda i besöksnäringen"],
        lessons=["Utbildning när företagen har tid, inte när skolan har plats"],
        contact_name="Gustav Lund",
        contact_role="Handläggare för regional tillväxt",
        contact_email="kompetens@example.se",
        contact_phone="023-123 45 67",
        challenges=["kompetensforsorjning", "samverkan"],
        published_on=date(2026, 4, 14),
        updated_on=date(2026, 4, 14),
    ),
    ExampleInput(
        slug="servicepunkter-i-byarna",
        title="Servicepunkter i byarna",
        organisation="Region Norrbotten",
        organisation_type="region",
        region="Norrbottens län",
        summary="Butiken i byn blev servicepunkt: där hämtas paket och apoteksvaror, och "
        "där finns hjälp med bank och e-tjänster.",
        body="Regionen stöttar butikerna med ett bidrag per servicepunkt. Kommunerna och "
        "butikerna bestämmer tillsammans vad varje punkt erbjuder.",
        project_owner="Region Norrbotten",
        project_period="2022–2025",
        activities=["Avtal med butikerna om vad de erbjuder", "Utbildning av butikens personal"],
        results=["Tolv byar har en servicepunkt"],
        lessons=["Bygg på det som redan finns i byn"],
        contact_name="Maria Nilsson",
        contact_role="Samordnare för service",
        contact_email="service@example.se",
        challenges=["service-i-hela-landet"],
        published_on=date(2026, 5, 12),
        updated_on=date(2026, 5, 12),
    ),
    ExampleInput(
        slug="energiradgivning-for-foretag",
        title="Energirådgivning för småföretag",
        organisation="Gävle kommun",
        organisation_type="kommun",
        region="Gävleborgs län",
        summary="Kommunens energirådgivare besöker småföretag och visar hur de kan sänka "
        "sina kostnader för el och värme.",
        body="Besöket är gratis. Efter besöket skickar rådgivaren en kort rapport med "
        "åtgärder och vad de kostar.",
        project_owner="Gävle kommun",
        project_period="2024–2026",
        activities=["Besök hos företagen", "Träffar där företagen delar erfarenheter"],
        results=["Sextio företag har sänkt sin elanvändning"],
        lessons=["Ett besök säger mer än en broschyr"],
        contact_name="Johan Berg",
        contact_role="Energirådgivare",
        contact_email="energi@example.se",
        challenges=["hallbar-omstallning"],
        published_on=date(2026, 6, 2),
        updated_on=date(2026, 6, 2),
    ),
]

TIPS = [
    TipInput(
        slug="borja-i-behoven",
        number=1,
        title="Börja i behoven",
        text="Ta reda på vad företag, föreningar och invånare behöver innan ni väljer "
        "insatser. Det som syns i statistiken är sällan hela bilden.",
        questions=[
            "Vems behov utgår ni från i dag?",
            "Vem har ni inte hört ännu?",
        ],
        examples=["en-vag-in-for-foretag", "jamtland-fler-roster"],
        challenges=["forenkling", "delaktighet"],
        published_on=date(2025, 9, 1),
        updated_on=date(2025, 9, 1),
    ),
    TipInput(
        slug="hitta-gemensamma-mal-och-resurser",
        number=2,
        title="Hitta gemensamma mål och resurser",
        text="Samverkan bär när alla parter ser vad de vinner på den. Formulera mål som "
        "flera organisationer kan stå bakom, och gör en ärlig bild av vilka resurser – tid, "
        "pengar och kunskap – var och en kan bidra med.",
        questions=[
            "Vilka mål delar ni redan med grannkommunerna och regionen?",
            "Vad kan var och en bidra med, och vad behöver ni av de andra?",
            "Vem äger frågan när projekttiden är slut?",
        ],
        examples=["ystad-regional-karna", "sormland-strukturbild", "kramfors-bygdemedel"],
        challenges=["samverkan", "samhallsplanering"],
        published_on=date(2025, 9, 1),
        updated_on=date(2026, 3, 10),
    ),
    TipInput(
        slug="gor-det-enkelt-att-saga-ja",
        number=3,
        title="Gör det enkelt att säga ja",
        text="Korta ansökningar, snabba beslut och en tydlig kontaktperson gör att fler "
        "vågar börja.",
        questions=["Hur lång tid tar det i dag från idé till beslut?"],
        examples=["varberg-lokal-utvecklingspeng"],
        challenges=["forenkling", "lokal-utveckling"],
        published_on=date(2025, 9, 1),
        updated_on=date(2025, 9, 1),
    ),
]

PLACE_DEVELOPMENT = ProcessInput(
    slug="platsutveckling-i-sex-steg",
    title="Platsutveckling i sex steg",
    summary="En metod för att leda utvecklingen av en ort eller bygd, från förankring till "
    "långsiktig organisering. De tre första stegen lägger grunden; först när den håller "
    "tar ni fram en gemensam målbild och en handlingsplan.",
    challenges=["lokal-utveckling", "samhallsplanering", "delaktighet"],
    phases=[
        PhaseInput(
            title="Förstå platsen",
            steps=[
                StepInput(
                    "Förankring",
                    "Förankra arbetet hos politik, förvaltning och lokala aktörer, och "
                    "bestäm vem som leder det.",
                    ["vgr-lokala-processledare"],
                ),
                StepInput(
                    "Kartläggning",
                    "Samla vad som finns: människor, föreningar, företag, service, mötesplatser "
                    "och planer som redan gäller.",
                    ["jamtland-fler-roster"],
                ),
                StepInput(
                    "Analys av nuläget",
                    "Vad är platsens styrkor och svagheter, och vad håller på att förändras?",
                    ["sormland-strukturbild"],
                ),
            ],
            checkpoint="Innan ni går vidare: står politik, förvaltning och lokala aktörer "
            "bakom arbetet, och delar ni bilden av nuläget? Annars blir målbilden någon "
            "annans.",
        ),
        PhaseInput(
            title="Forma framtiden",
            steps=[
                StepInput(
                    "Gemensam målbild",
                    "Formulera tillsammans vart platsen ska, på ett sätt som alla känner igen.",
                    ["ystad-regional-karna"],
                ),
                StepInput(
                    "Handlingsplan",
                    "Välj de insatser som tar er dit, med ansvar, tid och pengar för var och en.",
                    ["varberg-lokal-utvecklingspeng"],
                ),
                StepInput(
                    "Långsiktig organisering",
                    "Bestäm hur arbetet lever vidare: vem som äger det, hur ni följer upp och "
                    "när ni ses igen.",
                    ["kramfors-bygdemedel"],
                ),
            ],
        ),
    ],
    published_on=date(2025, 11, 3),
    updated_on=date(2026, 5, 12),
)


async def load_guide(session: AsyncSession) -> None:
    """Save the demo guide (into a guide without these slugs, or over them: saving is
    idempotent). Raises the save functions' errors if the demo itself is wrong."""
    for position, challenge in enumerate(CHALLENGES, start=1):
        await save_challenge(
            session,
            ChallengeInput(challenge.slug, challenge.name, challenge.description, position),
        )
    for example in EXAMPLES:
        await save_example(session, example)
    for tip in TIPS:
        await save_tip(session, tip)
    await save_process(session, PLACE_DEVELOPMENT)

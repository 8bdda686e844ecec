"""A test draft with ten sections (as .docx and .pdf) and sixty remarks labelled with their section.

The remarks are written the way parties write: some point to a page ("side 7", "s. 7"), some to
a section number ("afsnit 3.2", "punkt 4"), some quote a heading, some only talk about the
subject in their own words, and some concern the whole draft ("Generelt", label None).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import docx
from docx.enum.text import WD_BREAK
from fpdf import FPDF

TITLE = "Strategi for partnerskaber med civilsamfundet"

# (number, title, level, text); each section starts on a page of its own, so section k is on page k.
SECTIONS: list[tuple[str, str, int, str]] = [
    (
        "1",
        "Indledning",
        1,
        "Denne strategi beskriver, hvordan Socialforvaltningen vil samarbejde med civilsamfundet i de "
        "kommende fire år. Strategien er blevet til efter en række dialogmøder med foreninger, "
        "frivillige og brugere. Baggrunden er et politisk ønske fra Socialudvalget om at samle "
        "de mange enkeltstående samarbejder under én fælles ramme.",
    ),
    (
        "2",
        "Formål og vision",
        1,
        "Formålet med strategien er at skabe værdi for den enkelte borger gennem forpligtende "
        "partnerskaber. Visionen er, at borgeren oplever én sammenhængende indsats, uanset om "
        "hjælpen kommer fra kommunen eller fra en forening. Partnerskaberne skal bygge på "
        "ligeværd, gensidig tillid og et fælles ansvar for borgerens livskvalitet.",
    ),
    (
        "3",
        "Målgrupper",
        1,
        "Strategien omfatter alle borgere, som modtager sociale indsatser fra forvaltningen. "
        "Særligt fokus er der på grupper, som kommunen har svært ved at nå, og hvor civilsamfundets "
        "kontakt og tillid gør en forskel. Målgrupperne er beskrevet nærmere nedenfor.",
    ),
    (
        "3.1",
        "Børn og unge",
        2,
        "Børn og unge i udsatte familier skal have adgang til fritidsliv, lektiehjælp og mentorer. "
        "Forvaltningen vil samarbejde med ungdomsorganisationer og idrætsklubber om at inddrage de "
        "unge selv i at udforme tilbuddene. Et ungepanel skal give de unges perspektiv på arbejdet, "
        "og skolerne skal være med til at bygge bro til klubberne.",
    ),
    (
        "3.2",
        "Socialt udsatte voksne",
        2,
        "Hjemløse, misbrugere og sindslidende voksne skal mødes af væresteder, natcaféer og "
        "gadeplansarbejde i tæt samarbejde med kommunens herberger og botilbud. Målet er færre "
        "nætter på gaden, flere i egen bolig og en hurtigere vej til behandling for misbrug.",
    ),
    (
        "4",
        "Frivillighed og foreninger",
        1,
        "De frivillige er civilsamfundets rygrad. Forvaltningen vil styrke foreningernes "
        "rekruttering af frivillige, tilbyde fælles kurser og uddannelse for frivillige og "
        "anerkende det frivillige arbejde ved en årlig frivilligpris. Foreningerne skal have én "
        "indgang til kommunen og en fast kontaktperson.",
    ),
    (
        "5",
        "Økonomi og finansiering",
        1,
        "Partnerskaberne finansieres af en pulje på 12 mio. kr. om året. Puljen fordeles efter "
        "ansøgning to gange årligt, og tilskud kan gives for op til tre år ad gangen. Foreninger "
        "kan søge om driftstilskud, og der afsættes midler til medfinansiering af fondsansøgninger. "
        "Budgettet følges op i forbindelse med kommunens årlige budgetlægning.",
    ),
    (
        "6",
        "Samlokalisering og lokaler",
        1,
        "Forvaltningen vil stille lokaler til rådighed for foreninger i kommunens egne bygninger. "
        "Et samlokaliseringsprojekt i Sydhavnen skal samle foreninger og kommunale medarbejdere "
        "under samme tag. Husleje, nøgler, rengøring og adgang om aftenen aftales i en fælles "
        "brugsaftale for huset.",
    ),
    (
        "7",
        "Evaluering og opfølgning",
        1,
        "Strategien evalueres hvert andet år. Forvaltningen udarbejder en årlig status med "
        "målepunkter for antallet af partnerskaber, borgere der har haft glæde af dem og de "
        "ressourcer, der er anvendt. Resultaterne drøftes med rådene og offentliggøres, og "
        "evalueringen skal bruge både data og borgernes egne erfaringer.",
    ),
    (
        "8",
        "Tidsplan og implementering",
        1,
        "Strategien træder i kraft 1. januar. Implementeringen sker i tre faser med milepæle for "
        "hvert halvår: først kortlægning af de eksisterende samarbejder, dernæst en markedsdag og "
        "et mini-topmøde, og til sidst en plan for hvert driftscenter. Ledelsen har ansvaret for, "
        "at tidsplanen overholdes.",
    ),
]

GENERAL = None


@dataclass(frozen=True)
class LabelledRemark:
    text: str
    label: int | None  # the position (1–10) of the section it concerns; None = Generelt
    how: str  # "page", "number", "heading", "words", "general", "template"
    template_section: str = ""


R = LabelledRemark
REMARKS: list[LabelledRemark] = [
    # --- by page
    R(
        "På side 2 står der, at borgeren skal opleve én sammenhængende indsats. Det er vi meget enige i.",
        2,
        "page",
    ),
    R("Vi savner at ungepanelet får en mere fremtrædende plads (se side 4).", 4, "page"),
    R("Beskrivelsen på s. 5 af natcaféerne bør også nævne kvinder, der ikke bruger herbergerne.", 5, "page"),
    R(
        "Teksten side 6 om en frivilligpris er sympatisk, men de frivillige ønsker sig hellere tid og ro.",
        6,
        "page",
    ),
    R("Vi foreslår at tilskud på side 7 kan gives i fem år i stedet for tre.", 7, "page"),
    R("Side 8: Vi er bekymrede for om huset kan være åbent om aftenen.", 8, "page"),
    R("Det, der står på s. 9 om årlig status, bør suppleres med en uafhængig evaluering.", 9, "page"),
    R("Tidsplanen på side 10 er for stram. Tre faser på halvandet år er urealistisk.", 10, "page"),
    R("I øvrigt er indledningen på side 1 lidt lang og kunne strammes op.", 1, "page"),
    R("Vi hæfter os ved at målgruppebeskrivelsen på side 3 er meget bred.", 3, "page"),
    R("Vedr. s. 7: Medfinansiering af fondsansøgninger er en rigtig god idé.", 7, "page"),
    R("Jeg har læst side 5 og synes ikke at beskrivelsen dækker sindslidende tilstrækkeligt.", 5, "page"),
    R("På side 4 nævnes skolerne. Det er vigtigt at lærerne også bliver en del af det.", 4, "page"),
    R("Vi bakker op om teksten på side 2 om ligeværd mellem parterne.", 2, "page"),
    R("Formuleringen side 9 om at resultaterne offentliggøres er vi glade for.", 9, "page"),
    # --- by section number
    R(
        "Afsnit 3.2 bør også omfatte borgere, der er udskrevet fra psykiatrien uden et sted at bo.",
        5,
        "number",
    ),
    R("Til punkt 4: En fast kontaktperson for hver forening vil gøre en stor forskel.", 6, "number"),
    R("Under afsnit 5 bør det fremgå hvordan puljen fordeles mellem store og små foreninger.", 7, "number"),
    R("Kapitel 6 mangler en beskrivelse af hvem der betaler for rengøringen.", 8, "number"),
    R("I afsnit 7 foreslår vi, at rådene inddrages allerede når målepunkterne fastlægges.", 9, "number"),
    R("Punkt 8 bør have en fase mere, hvor foreningerne selv kan komme med input.", 10, "number"),
    R("Afsnit 3.1 er rigtig godt. Vi vil gerne være med i ungepanelet.", 4, "number"),
    R("Til afsnit 2 vil vi gerne foreslå at visionen også nævner pårørende.", 2, "number"),
    R("Afsnittet 1 giver en god baggrund, men nævner ikke tidligere strategier.", 1, "number"),
    R("Vi har en bemærkning til afsnit 3: ældre ensomme mangler som målgruppe.", 3, "number"),
    R("Pkt. 5 – tre års tilskud er for kort tid for små foreninger.", 7, "number"),
    R("Vores bemærkning knytter sig til punkt 7 og handler om borgernes egne erfaringer.", 9, "number"),
    R("Afsnit 6: kan lokalerne også bruges i weekenden?", 8, "number"),
    R("Afsnit 8.1 om kortlægning: den bør starte med det samme.", 10, "number"),
    R("Til afsnit 4 har vi ingen indvendinger men vil gerne tilbyde vores kursusforløb.", 6, "number"),
    # --- a heading quoted
    R("Under ”Økonomi og finansiering” savner vi et loft over administrationsudgifterne.", 7, "heading"),
    R("Afsnittet ”Samlokalisering og lokaler” bør nævne tilgængelighed for kørestolsbrugere.", 8, "heading"),
    R('Vi har læst "Socialt udsatte voksne" med stor interesse og er helt enige.', 5, "heading"),
    R(
        "Overskriften ”Frivillighed og foreninger” dækker ikke de mange lønnede medarbejdere i foreningerne.",
        6,
        "heading",
    ),
    # --- words only
    R(
        "Det er vigtigt, at de unge selv er med til at udforme tilbuddene, og at klubberne og "
        "idrætsforeningerne får en central rolle i fritidslivet.",
        4,
        "words",
    ),
    R(
        "Mange hjemløse sover på gaden, fordi herbergerne er fulde. Der er brug for flere "
        "natcaféer og et bedre gadeplansarbejde.",
        5,
        "words",
    ),
    R(
        "Puljen på 12 mio. kr. er alt for lille, og ansøgningsfristerne to gange årligt passer "
        "dårligt til foreningernes budgetter.",
        7,
        "words",
    ),
    R(
        "Huslejen i samlokaliseringsprojektet i Sydhavnen må ikke blive en barriere for de små "
        "foreninger, og nøgler og adgang skal være enkelt.",
        8,
        "words",
    ),
    R(
        "Målepunkterne bør ikke kun tælle antallet af partnerskaber men også hvad borgerne har "
        "fået ud af dem. Evalueringen skal være åben.",
        9,
        "words",
    ),
    R(
        "Milepælene for hvert halvår er uklare, og vi forstår ikke hvornår markedsdagen og "
        "mini-topmødet skal afholdes.",
        10,
        "words",
    ),
    R(
        "Rekruttering af frivillige er den største udfordring for os, så fælles kurser for "
        "frivillige vil vi meget gerne deltage i.",
        6,
        "words",
    ),
    R(
        "Vi savner at værdien for den enkelte borger beskrives mere konkret. Hvad betyder "
        "forpligtende partnerskaber i praksis?",
        2,
        "words",
    ),
    R(
        "Lektiehjælp og mentorer for børn i udsatte familier er noget, vores forening har stor erfaring med.",
        4,
        "words",
    ),
    R(
        "Misbrugsbehandlingen skal komme hurtigere, og flere skal i egen bolig i stedet for på "
        "herberger og botilbud.",
        5,
        "words",
    ),
    R(
        "Driftstilskud er afgørende. Uden et fast tilskud kan vi ikke planlægge mere end et år "
        "frem, og fondsansøgninger kræver medfinansiering.",
        7,
        "words",
    ),
    R(
        "Dialogmøderne med foreningerne var gode, og vi er glade for at Socialudvalget vil samle "
        "de enkeltstående samarbejder under én ramme.",
        1,
        "words",
    ),
    R("Hvornår skal det hele egentlig være færdigt? Det fremgår ikke klart.", 10, "words"),
    R(
        "Vi mener at driftscentrene hver især skal lave en plan, og at ledelsen skal stå til "
        "ansvar for at faserne gennemføres.",
        10,
        "words",
    ),
    R(
        "Grupper som kommunen har svært ved at nå, kræver at civilsamfundets kontakt og tillid "
        "bruges bedre. Målgrupperne bør udvides.",
        3,
        "words",
    ),
    R("Hvem betaler, når en forening ikke selv har penge til at komme i gang?", 7, "words"),
    # --- general
    R("Tak for et godt og gennemarbejdet materiale. Vi ser frem til samarbejdet.", GENERAL, "general"),
    R(
        "Høringsfristen har været alt for kort. Små organisationer har ikke ressourcer til at "
        "svare på otte dage.",
        GENERAL,
        "general",
    ),
    R("Vi har ingen yderligere kommentarer, men støtter generelt op om retningen.", GENERAL, "general"),
    R("Det ville være godt med en kortere og mere læsevenlig version af dokumentet.", GENERAL, "general"),
    R("Generelt savner vi et mere konkret sprog i hele dokumentet.", GENERAL, "general"),
    R("Blot stor ros herfra.", GENERAL, "general"),
    # --- a template's own column
    R("Godt at unge inddrages.", 4, "template", "3.1"),
    R("Beløbet er for lavt.", 7, "template", "Økonomi og finansiering"),
    R("Husk tilgængelighed.", 8, "template", "Afsnit 6"),
    R("Overordnet en god strategi.", GENERAL, "template", "Generelt"),
]

MULTI_SECTION_RESPONSE = (
    "Tak for muligheden for at kommentere udkastet.\n\n"
    "Til afsnit 3.2: Natcaféerne er en god idé, men der mangler pladser til kvinder.\n\n"
    "Det gælder især i vintermånederne, hvor behovet er størst.\n\n"
    "Til afsnit 5: Puljen er for lille, og tilskud i kun tre år gør det svært at planlægge.\n\n"
    "Til punkt 7: Evalueringen bør ske hvert år og ikke kun hvert andet år.\n\n"
    "Med venlig hilsen\nForeningen"
)


def write_docx(path: Path) -> Path:
    """The draft as Word writes it: a title, Heading 1/2 styles, each section on its own page."""
    document = docx.Document()
    document.add_paragraph(TITLE, style="Title")
    for i, (number, title, level, text) in enumerate(SECTIONS):
        if i:
            document.paragraphs[-1].add_run().add_break(WD_BREAK.PAGE)
        document.add_paragraph(f"{number} {title}", style=f"Heading {level}")
        document.add_paragraph(text)
        document.add_paragraph("1. Første punkt i en liste, som ikke er et afsnit af udkastet")
    document.save(str(path))
    return path


def write_pdf(path: Path) -> Path:
    """The draft as a PDF without an outline: headings only by their size and weight."""
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=20)
    for number, title, level, text in SECTIONS:
        pdf.add_page()
        pdf.set_font("helvetica", "B", 16 if level == 1 else 13)
        pdf.cell(0, 10, f"{number} {title}", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("helvetica", "", 11)
        pdf.multi_cell(0, 6, text)
        pdf.ln(4)
        pdf.multi_cell(0, 6, "1. Første punkt i en liste, som ikke er et afsnit af udkastet")
    pdf.output(str(path))
    return path

"""Deterministic Danish text: a fixed vocabulary, a sentence pool, names and places.

Messages pick whole sentences from a pool built once per corpus, because drawing words one by
one for every message would cost more than the rest of the generator together. A pool of a few
thousand sentences still makes two unrelated texts share almost nothing, so only real campaign
members look alike. Every character is in Latin-1, so the same text can go out as utf-8,
iso-8859-1 or windows-1252.
"""

from __future__ import annotations

import random

WORDS = [
    "høring",
    "udkast",
    "strategi",
    "kommune",
    "borgere",
    "forvaltningen",
    "bemærkning",
    "forslag",
    "ændring",
    "afsnit",
    "side",
    "område",
    "lokalplan",
    "trafik",
    "cykelsti",
    "skole",
    "børn",
    "ældre",
    "pleje",
    "hjemmehjælp",
    "økonomi",
    "budget",
    "grønne",
    "åer",
    "søer",
    "træer",
    "støj",
    "parkering",
    "bolig",
    "byggeri",
    "højde",
    "tæthed",
    "fællesskab",
    "forening",
    "frivillige",
    "civilsamfundet",
    "samarbejde",
    "inddragelse",
    "høringsfrist",
    "møde",
    "beslutning",
    "udvalg",
    "borgerrepræsentationen",
    "politikerne",
    "indsats",
    "målgruppe",
    "udsatte",
    "unge",
    "familier",
    "sundhed",
    "kultur",
    "idræt",
    "bibliotek",
    "værested",
    "rådgivning",
    "tilgængelighed",
    "handicap",
    "kørestol",
    "fortov",
    "belysning",
    "tryghed",
    "miljø",
    "klima",
    "regnvand",
    "skybrud",
    "kloak",
    "vejen",
    "pladsen",
    "havnen",
    "området",
    "vigtig",
    "væsentlig",
    "nødvendig",
    "uklar",
    "præcis",
    "konkret",
    "bekymret",
    "glad",
    "tilfreds",
    "utilfreds",
    "foreslår",
    "ønsker",
    "anbefaler",
    "savner",
    "bemærker",
    "påpeger",
    "opfordrer",
    "støtter",
    "afviser",
    "kræver",
    "desuden",
    "endvidere",
    "samtidig",
    "derfor",
    "således",
    "også",
    "gerne",
    "fortsat",
    "fremover",
    "hurtigst",
    "muligt",
    "økonomiske",
    "sociale",
    "faglige",
    "lokale",
    "kommunale",
    "statslige",
    "private",
    "offentlige",
    "frivillige",
    "mål",
    "midler",
    "ressourcer",
    "personale",
    "medarbejdere",
    "ledere",
    "tillid",
    "åbenhed",
    "dialog",
    "gennemsigtighed",
    "skøn",
    "vurdering",
    "konsekvens",
    "risiko",
    "mulighed",
    "udfordring",
    "løsning",
    "erfaring",
    "viden",
    "data",
    "øget",
    "færre",
    "flere",
    "større",
    "mindre",
    "bedre",
    "dårligere",
    "længere",
    "kortere",
    "tidligere",
    "senere",
]

OPENERS = (
    "Vi",
    "Foreningen",
    "Bestyrelsen",
    "Rådet",
    "Jeg",
    "Udvalget",
    "Sekretariatet",
    "Vores medlemmer",
    "Lokaludvalget",
    "Skolebestyrelsen",
)
VERBS = (
    "foreslår",
    "ønsker",
    "anbefaler",
    "savner",
    "bemærker",
    "påpeger",
    "opfordrer til",
    "støtter",
    "er bekymrede for",
    "finder det vigtigt med",
)
FIRST_NAMES = (
    "Søren",
    "Mette",
    "Jørgen",
    "Anne",
    "Bjørn",
    "Karen",
    "Åse",
    "Niels",
    "Ærling",
    "Lise",
    "Mads",
    "Sørine",
    "Jens",
    "Hanne",
    "Øjvind",
    "Birgitte",
    "Rasmus",
    "Pernille",
    "Thøger",
    "Maja",
)
SURNAMES = (
    "Østergaard",
    "Sørensen",
    "Jørgensen",
    "Nielsen",
    "Hansen",
    "Ærø",
    "Mølgaard",
    "Kjær",
    "Aagaard",
    "Bøgh",
    "Læssøe",
    "Rasmussen",
    "Frølund",
    "Skov",
    "Dahl",
    "Højer",
)
PLACES = (
    "Østerbro",
    "Nørrebro",
    "Amager",
    "Vesterbro",
    "Valby",
    "Brønshøj",
    "Vanløse",
    "Bispebjerg",
    "Sydhavn",
    "Ørestad",
    "Christianshavn",
    "Indre By",
    "Husum",
    "Tingbjerg",
    "Kongens Enghave",
)
ORG_TYPES = (
    "Lokaludvalget",
    "Grundejerforeningen",
    "Skolebestyrelsen på",
    "Ældrerådet i",
    "Handicaprådet i",
    "Beboerforeningen",
    "Idrætsforeningen",
    "Kulturhuset",
    "Menighedsrådet i",
    "Erhvervsforeningen",
    "Cyklistforbundet",
    "Naturfredningsforeningen",
    "Værestedet",
    "Forældrenetværket i",
)
GREETINGS = ("Kære Forvaltning", "Til Forvaltningen", "Hej", "Kære medarbejdere", "Til rette vedkommende")
CLOSINGS = ("Med venlig hilsen", "Venlig hilsen", "Mvh.", "De bedste hilsner", "Hilsen")
NO_REMARKS = (
    "Ingen bemærkninger.",
    "Vi har ingen bemærkninger til udkastet.",
    "Ingen bemærkninger herfra.",
    "Foreningen har ingen bemærkninger.",
)
AWAY = (
    "Jeg er på ferie og læser ikke mail før mandag. Ved hastesager kontakt sekretariatet.",
    "Tak for din mail. Jeg er på kursus og vender tilbage hurtigst muligt.",
    "Jeg holder fri i uge 43 og har ikke adgang til min mail.",
)


def ascii_slug(text: str) -> str:
    """Danish letters written the way mail addresses spell them (ø → oe), everything else dropped."""
    table = {"æ": "ae", "ø": "oe", "å": "aa", "é": "e", " ": "-"}
    out = "".join(table.get(ch, ch) for ch in text.lower())
    return "".join(ch for ch in out if ch.isascii() and (ch.isalnum() or ch == "-")).strip("-")


class SentencePool:
    """A fixed, seeded set of sentences; messages are built by choosing among them."""

    def __init__(self, rng: random.Random, size: int = 4000) -> None:
        self.sentences = [self._sentence(rng) for _ in range(size)]

    @staticmethod
    def _sentence(rng: random.Random) -> str:
        words = rng.choices(WORDS, k=rng.randint(5, 14))
        return f"{rng.choice(OPENERS)} {rng.choice(VERBS)} {' '.join(words)}."

    def paragraph(self, rng: random.Random, sentences: int) -> str:
        return " ".join(rng.choices(self.sentences, k=sentences))

    def paragraphs(self, rng: random.Random, count: int) -> list[str]:
        return [self.paragraph(rng, rng.randint(2, 5)) for _ in range(count)]


def person_name(rng: random.Random) -> str:
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(SURNAMES)}"


def typo(rng: random.Random, text: str) -> str:
    """Swap two neighbouring letters somewhere in the text: the commonest human typo."""
    if len(text) < 4:
        return text
    at = rng.randrange(1, len(text) - 2)
    return text[:at] + text[at + 1] + text[at] + text[at + 2 :]

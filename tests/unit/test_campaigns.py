"""Campaign detection: identical and lightly edited texts group; short and unrelated texts do not."""

from __future__ import annotations

import random

from flows.core.campaigns import group_campaigns, normalise

LIBRARY = (
    "Vi protesterer mod lukningen af biblioteket i Valby, fordi biblioteket er et vigtigt samlingssted "
    "for borgerne i området, især for børnefamilier og ældre, som bruger det hver eneste uge. "
    "Vi opfordrer udvalget til at finde besparelsen et andet sted i budgettet."
)
BIKES = (
    "Cykelstierne på Amagerbrogade er for smalle i myldretiden, og vi foreslår, at parkeringspladserne "
    "fjernes på den østlige side, så stien kan udvides til tre meter som anbefalet i cykelstrategien."
)


def test_identical_texts_share_a_key() -> None:
    """The same text sent twice, differing only in case, punctuation and spacing, is one campaign."""
    groups = group_campaigns({1: LIBRARY, 2: LIBRARY.upper().replace(",", "  "), 3: BIKES})
    assert groups[1] == groups[2]
    assert 3 not in groups


def test_light_edits_and_signatures_still_group() -> None:
    """A greeting, a signature and a one-word edit do not break the grouping."""
    edited = "Kære udvalg\n" + LIBRARY.replace("vigtigt", "meget vigtigt") + "\nMed venlig hilsen\nOle Hansen"
    groups = group_campaigns({10: LIBRARY, 11: edited})
    assert groups[10] == groups[11]


def test_unrelated_texts_are_not_grouped() -> None:
    """Different texts give no campaign keys at all."""
    assert group_campaigns({1: LIBRARY, 2: BIKES}) == {}


def test_short_no_remarks_replies_are_never_grouped() -> None:
    """Many "Ingen bemærkninger" replies are alike by nature and are not a campaign."""
    texts = {i: "Ingen bemærkninger." for i in range(50)}
    texts.update({100 + i: "Vi har ingen bemærkninger til høringen. Mvh Ole" for i in range(5)})
    assert group_campaigns(texts) == {}


def test_key_comes_from_the_earliest_item() -> None:
    """The key is stable: it is derived from the earliest id's normalised text."""
    first = group_campaigns({1: LIBRARY, 2: LIBRARY + " Tak."})
    second = group_campaigns({1: LIBRARY, 2: LIBRARY + " Tak.", 3: LIBRARY})
    assert first[1] == second[1] == second[3]


def test_normalise_drops_greeting_and_signature() -> None:
    """Opening and sign-off lines (and the name under the sign-off) are dropped; body lines stay."""
    assert normalise("Hej\nTil udvalget: vi er imod!\nMvh\nOle") == "til udvalget vi er imod"
    assert normalise("Vi er imod. Med venlig hilsen Ole Hansen\nPS") == "vi er imod"


def _mutate(text: str, rng: random.Random) -> str:
    words = text.split()
    for _ in range(rng.randint(0, 2)):
        position = rng.randrange(len(words))
        words.insert(position, rng.choice(["meget", "virkelig", "også", "derfor"]))
    prefix = rng.choice(["", "Kære udvalg\n", "Hej\n"])
    suffix = rng.choice(["", "\nMed venlig hilsen\nBorger " + str(rng.randint(1, 999))])
    return prefix + " ".join(words) + suffix


def _unique_text(rng: random.Random, vocabulary: list[str]) -> str:
    # campaign letters run to a few hundred words (performance.md §2.7: about 1.75k characters)
    return " ".join(rng.choice(vocabulary) for _ in range(rng.randint(80, 250)))


def test_precision_and_recall_on_a_generated_set() -> None:
    """On 600 generated letters (5 campaigns, light edits, unique texts, short replies) P and R are >= 0.95."""
    rng = random.Random(7)
    vocabulary = (LIBRARY + " " + BIKES).lower().replace(",", "").replace(".", "").split()
    vocabulary += [f"ord{i}" for i in range(400)]
    templates = [_unique_text(rng, vocabulary) for _ in range(5)]
    texts: dict[int, str] = {}
    truth: dict[int, int] = {}
    for item in range(600):
        roll = rng.random()
        if roll < 0.4:
            campaign = rng.randrange(len(templates))
            texts[item], truth[item] = _mutate(templates[campaign], rng), campaign
        elif roll < 0.5:
            texts[item] = rng.choice(
                ["Ingen bemærkninger", "Ingen bemærkninger herfra.", "Vi har ingen kommentarer"]
            )
        else:
            texts[item] = _unique_text(rng, vocabulary)
    found = group_campaigns(texts)
    true_pairs = {(a, b) for a in truth for b in truth if a < b and truth[a] == truth[b]}
    found_pairs = {(a, b) for a in found for b in found if a < b and found[a] == found[b]}
    precision = len(true_pairs & found_pairs) / len(found_pairs)
    recall = len(true_pairs & found_pairs) / len(true_pairs)
    assert precision >= 0.95, precision
    assert recall >= 0.95, recall

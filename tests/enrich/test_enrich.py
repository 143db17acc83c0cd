"""Language identification, names across scripts, numbers."""
from __future__ import annotations

from polystory.config import Settings
from polystory.enrich import detect_language, enrich, extract_entities
from polystory.enrich.entities import entity_key
from polystory.models import Document


def test_languages_of_the_seeds(seeds_pipeline):
    p, outcomes = seeds_pipeline
    assert [p.store.article(o.article_id).document.language for o in outcomes] == ["sq", "it", "en", "it", "en"]


def test_unknown_language():
    assert detect_language("1234 5678 ---- !!!! 99") == "und"
    assert detect_language("") == "und"


def test_names_meet_across_scripts_and_inflections():
    ru, _ = extract_entities("Министр иностранных дел Сергей Лавров встретился с Энтони Блинкеном.")
    sq, _ = extract_entities("Sekretari Antony Blinken i bëri Lavrovin tri pika, tha zyrtari.")
    assert {"lavro", "blink"} <= set(ru) and {"lavro", "blink"} <= set(sq)
    assert entity_key("G-20") == entity_key("G20") == "g20"


def test_sentence_initial_words_are_not_names():
    keys, _ = extract_entities("The meeting ended. Dopo la riunione, Lavrov left. However, it was short.")
    assert "the" not in keys and "howev" not in keys and "lavro" in keys


def test_enrich_fills_everything():
    d = enrich(Document(id="x", title="SpaceX Starship reaches orbit", language="",
                        text="SpaceX launched its Starship rocket on Thursday from Boca Chica, Texas, "
                             "for the third time; the flight lasted 49 minutes."), Settings())
    assert d.language == "en"
    assert {"space", "stars", "texas"} <= set(d.entities)
    assert "49" in d.numbers

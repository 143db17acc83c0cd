"""Embed stage: a swappable sentence encoder behind the ``Encoder`` protocol."""
from __future__ import annotations

from ..errors import ConfigError
from ..models import Document
from .base import Encoder
from .e5 import E5Small
from .hashing import HashingEncoder
from .static import StaticEncoder

__all__ = ["Encoder", "E5Small", "HashingEncoder", "StaticEncoder", "get_encoder", "embed_input", "embedding_key", "ENCODERS"]

#: Encoders by the name used in ``Settings.encoder``.
ENCODERS = {"e5-small": E5Small, "static": StaticEncoder, "hashing": HashingEncoder}


def get_encoder(name: str) -> Encoder:
    """The encoder registered as ``name``; a ``ConfigError`` names the known ones otherwise."""
    try:
        return ENCODERS[name]()
    except KeyError:
        raise ConfigError(f"encoder must be one of {sorted(ENCODERS)}; got {name!r}") from None


def embedding_key(encoder_name: str, text: str) -> str:
    """Cache key of a text's vector under one encoder."""
    import hashlib

    return hashlib.sha1(f"{encoder_name}\0{text}".encode("utf-8")).hexdigest()


def embed_input(doc: Document, chars: int) -> str:
    """What the encoder sees: title and lead, cut at a paragraph or word boundary."""
    text = doc.lead
    if len(text) <= chars:
        return text
    cut = text.rfind(" ", 0, chars)
    return text[: cut if cut > chars // 2 else chars]

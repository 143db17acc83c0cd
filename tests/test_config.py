"""Settings: layering, validation, and documentation of every field."""
from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import pytest

from polystory.config import Settings, load_settings
from polystory.errors import ConfigError

DOC = Path(__file__).resolve().parents[1] / "docs" / "configuration.md"


def test_every_setting_is_documented():
    text = DOC.read_text(encoding="utf-8")
    for f in fields(Settings):
        assert f.metadata.get("help"), f"{f.name} has no help string"
        assert f"`{f.name}`" in text, f"{f.name} is missing from docs/configuration.md"


def test_layers_file_then_env_then_flags(tmp_path):
    cfg = tmp_path / "p.toml"
    cfg.write_text("[polystory]\nevent_threshold = 0.7\nstory_threshold = 0.6\ncandidates = 5\n")
    s = load_settings(cfg, env={"POLYSTORY_STORY_THRESHOLD": "0.4", "OTHER": "x"}, candidates=9)
    assert (s.event_threshold, s.story_threshold, s.candidates) == (0.7, 0.4, 9)


@pytest.mark.parametrize("kwargs,message", [
    ({"event_threshold": 1.5}, "event_threshold must be in [0, 1]; got 1.5"),
    ({"candidates": 0}, "candidates must be >= 1; got 0"),
    ({"candidates": "many"}, "candidates must be int; got 'many'"),
    ({"colour": "red"}, "unknown setting 'colour'"),
])
def test_bad_values_are_one_line_config_errors(kwargs, message):
    with pytest.raises(ConfigError) as e:
        load_settings(**kwargs)
    assert str(e.value) == message


def test_bad_config_file(tmp_path):
    cfg = tmp_path / "bad.toml"
    cfg.write_text("event_threshold = [")
    with pytest.raises(ConfigError, match="is not valid TOML"):
        load_settings(cfg)
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_settings(tmp_path / "missing.toml")

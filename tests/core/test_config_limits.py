"""Every whole-number setting has a floor (0) and a ceiling: a value past either is one clear
configuration error at startup, never an overflow on some later page."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.config import _INT_SETTINGS, ConfigError, load_config


@pytest.mark.parametrize("name", sorted(_INT_SETTINGS))
def test_each_whole_number_setting_has_a_ceiling(name: str, tmp_path: Path) -> None:
    ceiling = _INT_SETTINGS[name]
    env = {"CANDOR_DATA_DIR": str(tmp_path), f"CANDOR_{name.upper()}": str(ceiling + 1)}
    with pytest.raises(ConfigError, match=f"^{name}: at most {ceiling}, got {ceiling + 1}$"):
        load_config(env)
    with pytest.raises(ConfigError, match=f"^{name}: must not be negative$"):
        load_config({**env, f"CANDOR_{name.upper()}": "-1"})


@pytest.mark.parametrize("name", ["acknowledge_days", "feedback_months", "retention_days",
                                  "reviewer_session_absolute_hours", "smtp_port"])
def test_the_ceiling_itself_is_accepted(name: str, tmp_path: Path) -> None:
    env = {"CANDOR_DATA_DIR": str(tmp_path), f"CANDOR_{name.upper()}": str(_INT_SETTINGS[name])}
    assert getattr(load_config(env), name) == _INT_SETTINGS[name]


def test_a_number_too_long_to_read_is_not_a_whole_number(tmp_path: Path) -> None:
    env = {"CANDOR_DATA_DIR": str(tmp_path), "CANDOR_RETENTION_DAYS": "9" * 5000}
    with pytest.raises(ConfigError, match="retention_days: expected a whole number"):
        load_config(env)

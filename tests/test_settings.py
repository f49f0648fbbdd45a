from __future__ import annotations

import pytest

from server.settings import DEFAULT_JWT_SECRET, Settings, SettingsError, load_settings

PG = "postgresql+asyncpg://u@h/db"
SECRET = "s" * 40


def test_embedded_default_needs_nothing(monkeypatch):
    for name in ("BARAZA_DATABASE_URL", "BARAZA_REDIS_URL", "BARAZA_JWT_SECRET"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings()
    assert settings.embedded and settings.redis_url is None and settings.run_embedded_worker


def test_reads_environment(monkeypatch):
    monkeypatch.setenv("BARAZA_DATABASE_URL", PG)
    monkeypatch.setenv("BARAZA_REDIS_URL", "redis://r:6379/0")
    monkeypatch.setenv("BARAZA_JWT_SECRET", SECRET)
    monkeypatch.setenv("BARAZA_EDIT_WINDOW_SECONDS", "60")
    monkeypatch.setenv("BARAZA_MODEL_CHECKPOINT", "")  # empty means unset
    settings = load_settings()
    assert not settings.embedded and settings.edit_window_seconds == 60
    assert settings.model_checkpoint is None and not settings.run_embedded_worker


def test_refuses_default_secret_outside_embedded():
    with pytest.raises(SettingsError, match="BARAZA_JWT_SECRET"):
        load_settings(database_url=PG, jwt_secret=DEFAULT_JWT_SECRET)


@pytest.mark.parametrize(
    ("field", "value", "needle"),
    [
        ("database_url", "mysql://x", "database_url"),
        ("redis_url", "http://x", "redis_url"),
        ("jwt_secret", "short", "32 bytes"),
        ("page_size", 500, "page_size"),
        ("port", 70000, "BARAZA_PORT"),
        ("model_device", "tpu", "model_device"),
        ("nonsense", 1, "BARAZA_NONSENSE"),
    ],
)
def test_invalid_values_have_clear_messages(field, value, needle):
    with pytest.raises(SettingsError) as info:
        load_settings(**{field: value})
    assert needle in str(info.value)


def test_settings_are_frozen():
    settings = Settings()
    with pytest.raises(ValueError, match="frozen"):
        settings.page_size = 3  # type: ignore[misc]

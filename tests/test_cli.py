from __future__ import annotations

import subprocess
import sys

import jwt
import pytest

from server.cli import build_parser, main

SECRET = "cli-secret-0123456789-0123456789-abc"


def test_token_prints_a_valid_jwt(monkeypatch, capsys):
    monkeypatch.setenv("BARAZA_JWT_SECRET", SECRET)
    assert main(["token", "--sub", "u1", "--name", "Amina", "--role", "moderator"]) == 0
    claims = jwt.decode(capsys.readouterr().out.strip(), SECRET, algorithms=["HS256"])
    assert claims["sub"] == "u1" and claims["name"] == "Amina" and claims["roles"] == ["moderator"]


def test_invalid_configuration_exits_2(monkeypatch, capsys):
    monkeypatch.setenv("BARAZA_DATABASE_URL", "postgresql+asyncpg://x/y")
    monkeypatch.delenv("BARAZA_JWT_SECRET", raising=False)
    assert main(["token", "--sub", "u", "--name", "n"]) == 2
    assert "BARAZA_JWT_SECRET" in capsys.readouterr().err


def test_unknown_role_is_refused():
    with pytest.raises(SystemExit):
        build_parser().parse_args(["token", "--sub", "u", "--name", "n", "--role", "god"])


def test_migrate_builds_an_embedded_database(tmp_path, monkeypatch):
    monkeypatch.setenv("BARAZA_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/x.db")
    assert main(["migrate"]) == 0
    assert (tmp_path / "x.db").exists()


def test_console_script_help():
    out = subprocess.run(
        [sys.executable, "-m", "server.cli", "--help"], capture_output=True, text=True, check=True
    ).stdout
    for command in ("serve", "worker", "migrate", "token"):
        assert command in out

"""docker-compose.yml cannot run here (no Docker engine); check what can be checked: it parses,
has the production shape, runs the project's real commands with real settings."""

from __future__ import annotations

from pathlib import Path

import yaml

from server.cli import build_parser
from server.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def _compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_services_have_the_production_shape():
    services = _compose()["services"]
    assert set(services) >= {"postgres", "redis", "migrate", "server", "worker"}
    assert (
        services["server"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    )
    assert services["migrate"]["restart"] == "no"


def test_commands_are_real_baraza_commands():
    parser = build_parser()
    services = _compose()["services"]
    for name in ("migrate", "server", "worker"):
        command = services[name]["command"]
        assert command[0] == "baraza", name
        parser.parse_args(command[1:])  # exits on an unknown command or flag


def test_environment_names_real_settings():
    fields = set(Settings.model_fields)
    for name in ("migrate", "server", "worker"):
        for key in _compose()["services"][name]["environment"]:
            assert key.startswith("BARAZA_") and key[7:].lower() in fields, key


def test_dockerfile_pins_cpu_torch_and_installs_the_project():
    text = (ROOT / "Dockerfile").read_text()
    assert '"torch==2.13.0"' in text and "pip install ." in text
    assert 'CMD ["baraza", "serve"' in text


def test_one_image_built_once_and_long_running_services_restart():
    services = _compose()["services"]
    built = [name for name, service in services.items() if "build" in service]
    assert built == ["migrate"]
    image = services["migrate"]["image"]
    for name in ("server", "worker"):
        assert services[name]["image"] == image and services[name]["pull_policy"] == "never"
    for name in ("postgres", "redis", "server", "worker"):
        assert services[name]["restart"] == "unless-stopped", name

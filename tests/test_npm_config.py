"""`read_npm_config`: the settings npm takes from a config file, used by the audit."""

from __future__ import annotations

from pathlib import Path

from npm_guard.audit.workspace import npmrc_registries
from npm_guard.npmrc import read_npm_config


def test_values_are_what_npm_stores(tmp_path: Path) -> None:
    path = tmp_path / ".npmrc"
    path.write_bytes(
        b'registry="https://first.example/"\r\n'
        b"${SCOPE}:registry=https://${HOST}/npm/ ; a comment\r\n"
        b"registry=https://second.example/\r\n"
        b"list[]=a\nlist[]=b\n"
        b"strict-ssl=false\n"
    )
    config = read_npm_config(str(path), {"SCOPE": "@acme", "HOST": "r.example"})
    assert config["registry"] == "https://second.example/"  # a later key wins
    assert config["@acme:registry"] == "https://r.example/npm/"  # keys and values expanded
    assert config["list"] == ["a", "b"]
    assert config["strict-ssl"] is False


def test_missing_or_unloadable_files_contribute_nothing(tmp_path: Path) -> None:
    assert read_npm_config(str(tmp_path / "missing"), {}) == {}
    unloadable = tmp_path / ".npmrc"
    unloadable.write_text("'null'=x\nregistry=https://r.example/\n")  # ini.decode throws
    assert read_npm_config(str(unloadable), {}) == {}


def test_audit_registries_come_from_the_project_config(tmp_path: Path) -> None:
    (tmp_path / ".npmrc").write_bytes(
        b'registry = "https://npm.corp.example/"\r\n@acme:registry=${ACME_REGISTRY}\r\n'
    )
    registries = npmrc_registries(str(tmp_path), {"ACME_REGISTRY": "https://acme.example/"})
    assert registries == {"": "https://npm.corp.example/", "@acme": "https://acme.example/"}

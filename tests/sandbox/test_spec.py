"""The sandbox judges calls by the Slack facts the package carries (or a full description named by the environment)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.sandbox import SlackSandbox, SpecChecker
from bot.sandbox.facts_build import build_facts, render
from bot.sandbox.facts_build import main as facts_build_main
from bot.sandbox.spec import (
    SPEC_ENV,
    find_manifest_path,
    find_spec_path,
    load_extra_methods,
    load_facts,
    load_spec_methods,
    method_to_facts,
    normalise_scope,
)

from .support import write_manifest

ROOT = Path(__file__).resolve().parents[2]


def _tiny_description(path: Path) -> Path:
    """A two-method OpenAPI description in Slack's shape (a scoped method and a scope-less one)."""
    document = {
        "swagger": "2.0",
        "paths": {
            "/chat.postMessage": {
                "post": {
                    "parameters": [
                        {"name": "token", "in": "header", "required": True, "description": "Requires scope: `chat:write`"},
                        {"name": "channel", "in": "formData", "required": True},
                        {"name": "text", "in": "formData"},
                    ],
                    "security": [{"slackAuth": ["chat:write:bot", "chat:write:user"]}],
                }
            },
            "/views.open": {
                "post": {
                    "parameters": [
                        {"name": "token", "in": "header", "required": True, "description": "Requires scope: `none`"},
                        {"name": "trigger_id", "in": "formData", "required": True},
                        {"name": "view", "in": "formData", "required": True},
                    ],
                    "security": [{"slackAuth": ["none"]}],
                }
            },
            "/pins.frobnicate": {
                "post": {
                    "parameters": [
                        {"name": "token", "in": "header", "required": True, "description": "Requires scope: `pins:write`"}
                    ]
                }
            },
        },
    }
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def test_without_configuration_nothing_outside_the_package_is_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(SPEC_ENV, raising=False)
    monkeypatch.delenv("PARTNERPULSE_APP_MANIFEST", raising=False)
    monkeypatch.chdir(tmp_path)
    assert find_spec_path() is None
    package = Path(__file__).resolve().parents[2] / "bot" / "sandbox"
    assert find_manifest_path().parent.resolve() == package.resolve()
    checker = SpecChecker.load()
    assert checker.method("chat.postMessage") is not None
    assert "chat:write" in checker.manifest.bot_scopes


def test_packaged_manifest_is_the_repositorys_manifest() -> None:
    assert find_manifest_path().read_bytes() == (ROOT / "app_manifest.yml").read_bytes()


def test_packaged_facts_hold_what_slack_publishes() -> None:
    facts = load_facts()
    assert facts["chat.postMessage"].required == frozenset({"channel"})
    assert facts["chat.postMessage"].scope == "chat:write"
    assert facts["chat.postMessage"].alternatives == frozenset({"chat:write:bot", "chat:write:user"})
    assert facts["views.open"].scope is None  # "Requires scope: `none`"
    assert facts["usergroups.users.list"].required == frozenset({"usergroup"})
    assert facts["apps.connections.open"].token_type == "app"
    # Slack's description of 2021 has about 170 methods; a truncated file would lose most of them.
    assert len(facts) > 150


def test_packaged_facts_include_every_extra_method_as_written() -> None:
    # extra_methods.json is edited by hand; slack_methods.json must be regenerated after each edit.
    facts = load_facts()
    for name, extra in load_extra_methods().items():
        assert name in facts, f"{name} is in extra_methods.json but not in slack_methods.json: regenerate it"
        assert method_to_facts(facts[name]) == method_to_facts(extra)


def test_facts_build_turns_a_description_into_the_facts_the_sandbox_reads(tmp_path: Path) -> None:
    description = _tiny_description(tmp_path / "openapi.json")
    output = tmp_path / "facts.json"
    assert facts_build_main([str(description), "--output", str(output)]) == 0
    written = json.loads(output.read_text(encoding="utf-8"))
    assert written == json.loads(render(build_facts(description)))
    post = written["methods"]["chat.postMessage"]
    assert post == {"required": ["channel"], "scope": "chat:write", "alternatives": ["chat:write:bot", "chat:write:user"]}
    assert written["methods"]["views.open"] == {"required": ["trigger_id", "view"], "scope": None}
    assert written["methods"]["pins.frobnicate"] == {"required": [], "scope": "pins:write"}
    # The newer methods are merged in, marked as such.
    assert written["methods"]["files.completeUploadExternal"]["source"] == "extra"


def test_facts_build_refuses_a_missing_description(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert facts_build_main([str(tmp_path / "nowhere.json"), "--output", str(tmp_path / "out.json")]) == 2
    assert "is not a file" in capsys.readouterr().err
    assert not (tmp_path / "out.json").exists()


def test_environment_variable_names_a_full_description(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    description = _tiny_description(tmp_path / "spec.json")
    monkeypatch.setenv(SPEC_ENV, str(description))
    assert find_spec_path() == description
    checker = SpecChecker.load()
    assert checker.method("pins.frobnicate") is not None  # only in the tiny description
    assert checker.method("files.getUploadURLExternal") is not None  # extras are still added
    assert checker.method("conversations.info") is None  # not in the tiny description


def test_missing_spec_names_the_environment_variable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(SPEC_ENV, str(tmp_path / "nowhere.json"))
    with pytest.raises(FileNotFoundError, match=SPEC_ENV):
        SlackSandbox()


def test_description_is_parsed_once_per_process(tmp_path: Path) -> None:
    path = str(_tiny_description(tmp_path / "spec.json").resolve())
    first = load_spec_methods(path)
    assert load_spec_methods(path) is first
    assert first["chat.postMessage"].required == frozenset({"channel"})
    assert first["views.open"].scope is None


def test_extra_methods_are_package_data() -> None:
    extra = load_extra_methods()
    assert extra["files.getUploadURLExternal"].required == frozenset({"filename", "length"})
    assert extra["files.completeUploadExternal"].scope == "files:write"


def test_legacy_scope_suffixes_fold() -> None:
    assert normalise_scope("chat:write:bot") == "chat:write"
    assert normalise_scope("files:write:user") == "files:write"
    assert normalise_scope("chat:write") == "chat:write"
    assert normalise_scope("users:read.email") == "users:read.email"


def test_checker_rules() -> None:
    checker = SpecChecker.load()
    assert checker.check_call("chat.postMessage", {"channel": "C1", "text": "x"}) is None
    assert checker.check_call("conversations.members", {"channel": "C1"}) is None  # channels:read satisfies it
    assert checker.check_call("views.open", {"trigger_id": "t", "view": {}}) is None  # needs no scope

    unknown = checker.check_call("chat.postMessages", {})
    assert unknown is not None and unknown.error == "unknown_method"

    missing = checker.check_call("chat.postMessage", {"text": "x"})
    assert missing is not None and missing.error == "invalid_arguments" and "channel" in missing.reason

    scope = checker.check_call("reactions.add", {"channel": "C1", "name": "x", "timestamp": "1.0"})
    assert scope is not None and scope.error == "missing_scope" and scope.needed == "reactions:write"

    linkify = checker.check_call("chat.postMessage", {"channel": "C1", "text": "x", "link_names": "1"})
    assert linkify is not None and "link_names" in linkify.reason
    assert checker.check_call("chat.update", {"channel": "C1", "ts": "1", "parse": "full"}) is not None
    assert checker.check_call("chat.postMessage", {"channel": "C1", "text": "x", "link_names": False}) is None


def test_manifest_scopes_decide(tmp_path: Path) -> None:
    manifest = write_manifest(tmp_path, drop=("channels:read", "groups:read"))
    checker = SpecChecker.load(manifest_path=manifest)
    violation = checker.check_call("conversations.info", {"channel": "C1"})
    assert violation is not None and violation.error == "missing_scope"
    only_groups = SpecChecker.load(manifest_path=write_manifest(tmp_path, drop=("channels:read",)))
    assert only_groups.check_call("conversations.info", {"channel": "C1"}) is None

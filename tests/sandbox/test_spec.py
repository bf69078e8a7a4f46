"""The sandbox reads Slack's OpenAPI file and the manifest, and judges calls by them."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.sandbox import SlackSandbox, SpecChecker
from bot.sandbox.spec import (
    SPEC_ENV,
    find_manifest_path,
    find_spec_path,
    load_extra_methods,
    load_spec_methods,
    normalise_scope,
)

from .support import write_manifest


def test_spec_is_found_beside_the_repository() -> None:
    path = find_spec_path()
    assert path.name == "slack_web_openapi_v2.json"
    assert path.parent.parent.name == "shared"
    assert (find_manifest_path().parent / "bot").is_dir()


def test_environment_variable_wins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    copy = tmp_path / "spec.json"
    copy.write_bytes(find_spec_path().read_bytes())
    monkeypatch.setenv(SPEC_ENV, str(copy))
    assert find_spec_path() == copy


def test_missing_spec_names_the_environment_variable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(SPEC_ENV, str(tmp_path / "nowhere.json"))
    with pytest.raises(FileNotFoundError, match=SPEC_ENV):
        SlackSandbox()


def test_missing_spec_without_env_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(SPEC_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    # Pretend this file lives somewhere with no spec above it either.
    monkeypatch.setattr("bot.sandbox.spec.__file__", str(tmp_path / "x" / "spec.py"))
    with pytest.raises(FileNotFoundError, match="PARTNERPULSE_SLACK_SPEC"):
        find_spec_path()


def test_spec_is_parsed_once_per_process() -> None:
    path = str(find_spec_path().resolve())
    first = load_spec_methods(path)
    assert load_spec_methods(path) is first
    assert "chat.postMessage" in first
    assert first["chat.postMessage"].required == frozenset({"channel"})
    assert first["chat.postMessage"].scope == "chat:write"
    assert first["views.open"].scope is None  # "Requires scope: `none`"


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

"""The operator's command line: every missing or invalid setting in one line, "cannot reach" told from "rejected"
for Slack and the database, argparse-checked numbers, ``partnerships``, ``--version``, help texts, ``sentiment TEXT``,
and the ``.env.example`` and ``LICENSE`` files at the repository's root.

Nothing here leaves 127.0.0.1: unreachable services are closed local ports, Slack's refusal is a tiny local server.
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import json
import os
import re
import socket
import subprocess
import sys
import threading
import tomllib
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

from bot import cli
from bot.cli import build_parser, main
from bot.operator_checks import OperatorError, check_slack
from bot.services import issue_lifecycle, operator, partnerships
from bot.settings import Settings, SettingsError, env_names
from storage import migrate
from storage.db import make_engine
from tests.factories import issue_input, make_issue_world

ROOT = Path(__file__).resolve().parents[2]
CREATED = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
BOT_TOKEN = "xox" + "b-operator-test-token"
SECRET_KEY = "operator-test-secret-key-0123456789abcdef"
OUR_PREFIXES = ("SLACK_", "PARTNERPULSE_", "DATABASE_URL", "PORT")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No PartnerPulse variable from the machine running the tests, and no ``.env`` file (cwd is empty)."""
    for name in list(os.environ):
        if name.startswith(OUR_PREFIXES):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound to get a free one, then closed)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run_cli(*argv: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """``python -m bot ARGV`` in a fresh process, with only ``env`` as PartnerPulse's settings."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(OUR_PREFIXES)}
    return subprocess.run(
        [sys.executable, "-m", "bot", *argv], env={**base, **env}, cwd=cwd, capture_output=True, text=True, timeout=60
    )


def all_settings(monkeypatch: pytest.MonkeyPatch, **extra: str) -> None:
    """Every setting any command requires, so only the thing a test breaks can fail."""
    values = {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_APP_TOKEN": "xa" + "pp-1-operator-test",
        "SLACK_SIGNING_SECRET": "operator-test-signing-secret",
        "PARTNERPULSE_SECRET_KEY": SECRET_KEY,
        "SLACK_API_URL": f"http://127.0.0.1:{closed_port()}/api/",
        "PARTNERPULSE_LOG_LEVEL": "WARNING",
        **extra,
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)


# --- 1. every missing or invalid setting, in one line ---------------------------------------------------------


def test_serve_with_nothing_configured_names_all_three_missing_settings_at_once(tmp_path: Path) -> None:
    result = run_cli("serve", env={}, cwd=tmp_path)
    assert result.returncode == 2 and result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("partnerpulse: Missing settings: set SLACK_SIGNING_SECRET (")
    assert "SLACK_BOT_TOKEN (" in lines[0] and "PARTNERPULSE_SECRET_KEY (" in lines[0]
    assert "Traceback" not in result.stderr


def test_oauth_mode_needs_no_bot_token_but_its_own_settings_and_serve_not_run(tmp_path: Path) -> None:
    from storage.token_cipher import new_key

    oauth = {"SLACK_CLIENT_ID": "1.2", "SLACK_CLIENT_SECRET": "operator-test-client-secret"}
    result = run_cli(
        "serve", env={**oauth, "SLACK_SIGNING_SECRET": "s" * 32, "PARTNERPULSE_SECRET_KEY": SECRET_KEY}, cwd=tmp_path
    )
    assert result.returncode == 2
    assert result.stderr.startswith("partnerpulse: Missing setting: set PARTNERPULSE_TOKEN_KEYS ("), result.stderr
    assert "SLACK_BOT_TOKEN" not in result.stderr  # each workspace's token comes from its installation
    everything = {**oauth, "PARTNERPULSE_TOKEN_KEYS": new_key(), "SLACK_APP_TOKEN": "xa" + "pp-1-operator-test"}
    result = run_cli("run", env={**everything, "PARTNERPULSE_SECRET_KEY": SECRET_KEY}, cwd=tmp_path)
    assert result.returncode == 2 and result.stderr.startswith("partnerpulse run: installing by OAuth"), result.stderr
    assert "needs `partnerpulse serve`" in result.stderr and "Traceback" not in result.stderr


def test_missing_and_invalid_settings_are_reported_together(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xox" + "p-a-user-token-not-a-bot-token")
    monkeypatch.setenv("PARTNERPULSE_HEARTBEAT_SECONDS", "0")
    monkeypatch.setenv("PORT", "eighty")
    assert main(["tick"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.strip().splitlines()) == 1
    assert err.startswith("partnerpulse: Missing setting: set PARTNERPULSE_SECRET_KEY (")
    assert "Invalid settings: SLACK_BOT_TOKEN (" in err and "must be a bot token starting with xoxb-" in err
    assert "PARTNERPULSE_HEARTBEAT_SECONDS (" in err and "greater than or equal to 1" in err
    assert "PARTNERPULSE_HTTP_PORT or PORT (" in err and "valid integer" in err
    assert "xox" + "p-a-user-token" not in err, "a secret's value is never shown"


def test_settings_load_and_require_list_every_problem() -> None:
    required = ("slack_signing_secret", "slack_bot_token", "secret_key")
    with pytest.raises(SettingsError) as info:
        Settings.load({"log_level": "loud", "secret_key": "short"}, env_file=None, require=required)
    message = str(info.value)
    assert message.startswith("Missing settings: set SLACK_SIGNING_SECRET (") and "SLACK_BOT_TOKEN (" in message
    assert "Invalid settings: PARTNERPULSE_SECRET_KEY (" in message and "at least 32 characters" in message
    assert "PARTNERPULSE_LOG_LEVEL (" in message and "unknown log level 'loud'" in message
    assert (
        "PARTNERPULSE_SECRET_KEY (at least 32 random characters; keys the anonymity hash)" not in message.split("Invalid")[0]
    ), "an invalid setting is not also called missing"
    settings = Settings.load(env_file=None)
    with pytest.raises(SettingsError, match=r"^Missing settings: set SLACK_APP_TOKEN \(.*PARTNERPULSE_SECRET_KEY \("):
        settings.require("slack_app_token", "secret_key")


# --- 2. Slack: cannot reach, or rejected ----------------------------------------------------------------------


class FakeSlack:
    """A tiny Web API on 127.0.0.1 answering every call with one body (JSON, or a web page's text) and status;
    remembers the paths called."""

    def __init__(self, body: dict[str, Any] | str, status: int = 200) -> None:
        calls: list[str] = []
        self.calls = calls

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                calls.append(self.path)
                data = (body if isinstance(body, str) else json.dumps(body)).encode()
                self.send_response(status)
                kind = "text/html" if isinstance(body, str) else "application/json"
                self.send_header("Content-Type", f"{kind}; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.api_url = f"http://127.0.0.1:{self.server.server_address[1]}/api/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture
def rejecting_slack() -> Iterator[FakeSlack]:
    slack = FakeSlack({"ok": False, "error": "invalid_auth"})
    yield slack
    slack.close()


def _tick_env(tmp_path: Path, api_url: str) -> dict[str, str]:
    return {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "PARTNERPULSE_SECRET_KEY": SECRET_KEY,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'pulse.db'}",
        "SLACK_API_URL": api_url,
    }


def test_unreachable_slack_is_one_line_saying_so_without_retry_logs(tmp_path: Path) -> None:
    api_url = f"http://127.0.0.1:{closed_port()}/api/"
    result = run_cli("tick", env=_tick_env(tmp_path, api_url), cwd=tmp_path)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.splitlines() == [f"partnerpulse: cannot reach Slack at {api_url} (connection refused)"]


def test_a_rejected_token_is_one_line_naming_slacks_error(tmp_path: Path, rejecting_slack: FakeSlack) -> None:
    result = run_cli("tick", env=_tick_env(tmp_path, rejecting_slack.api_url), cwd=tmp_path)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.splitlines() == [
        f"partnerpulse: Slack rejected SLACK_BOT_TOKEN (invalid_auth) at {rejecting_slack.api_url}: check the token"
    ]
    assert rejecting_slack.calls == ["/api/auth.test"], "one attempt: a refusal is not retried"
    assert BOT_TOKEN not in result.stderr


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (
            {"ok": False, "error": "team_not_found"},
            200,
            "Slack at {url} answered auth.test with an error (team_not_found, HTTP 200)",
        ),
        ("<html>Not Found</html>", 404, "{url} gave no Slack Web API answer (HTTP 404): check SLACK_API_URL"),
        ("<html>Down</html>", 503, "cannot reach Slack at {url} (it answered HTTP 503; try again later)"),
    ],
)
def test_other_answers_are_told_apart_from_a_refusal(body: dict[str, Any] | str, status: int, message: str) -> None:
    other = FakeSlack(body, status)
    try:
        with pytest.raises(OperatorError) as info:
            check_slack(BOT_TOKEN, other.api_url)
        assert str(info.value) == message.format(url=other.api_url)
        assert other.calls == ["/api/auth.test"], "no retry"
    finally:
        other.close()


# --- 3. the database: missing folder, unreachable server --------------------------------------------------------

DATABASE_COMMANDS = [
    ["tick"],
    ["serve"],
    ["run"],
    ["db", "upgrade"],
    ["export", "--partnership", "1", "--format", "csv"],
    ["partnerships"],
]


@pytest.mark.parametrize("argv", DATABASE_COMMANDS, ids=lambda a: " ".join(a[:2]))
def test_a_missing_sqlite_folder_is_one_line_from_every_database_command(
    argv: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "nonexistent" / "dir"
    url = f"sqlite:///{folder / 'x.db'}"
    all_settings(monkeypatch, DATABASE_URL=url)
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines() == [f"partnerpulse: cannot open the database at {url} (folder {folder} does not exist)"]
    assert not (tmp_path / "nonexistent").exists()


@pytest.mark.parametrize("argv", DATABASE_COMMANDS, ids=lambda a: " ".join(a[:2]))
def test_an_unreachable_postgresql_is_one_line_without_the_password(
    argv: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    port = closed_port()
    all_settings(monkeypatch, DATABASE_URL=f"postgresql://operator:s3cret-pw@127.0.0.1:{port}/pulse")
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines() == [
        f"partnerpulse: cannot reach the database at postgresql://operator:***@127.0.0.1:{port}/pulse (connection refused)"
    ]
    assert "s3cret-pw" not in err


# --- 4. numeric flags --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["demo", "--weeks", "0"], "argument --weeks: must be an integer from 1 to 52 (the demo needs at least 1 week)"),
        (["demo", "--weeks", "53"], "argument --weeks: must be an integer from 1 to 52"),
        (["demo", "--weeks", "two"], "argument --weeks: must be an integer from 1 to 52"),
        (["serve", "--port", "65536"], "argument --port: must be an integer from 0 to 65535, not '65536'"),
        (["serve", "--port", "-1"], "argument --port: must be an integer from 0 to 65535"),
    ],
)
def test_numeric_flags_are_checked_by_argparse(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(f"usage: partnerpulse {argv[0]}") and message in err


def test_numeric_flags_accept_their_bounds() -> None:
    parser = build_parser()
    assert parser.parse_args(["demo", "--weeks", "1"]).weeks == 1
    assert parser.parse_args(["demo", "--weeks", "52"]).weeks == 52
    assert parser.parse_args(["serve", "--port", "0"]).port == 0
    assert parser.parse_args(["serve", "--port", "65535"]).port == 65535


# --- 5. partnerships ---------------------------------------------------------------------------------------------


def _columns(line: str) -> list[str]:
    return re.split(r"\s{2,}", line.strip())


def test_partnerships_lists_each_with_its_next_pulse_and_open_issues(
    uow_factory: Any, database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    first = make_issue_world(uow_factory, now=CREATED, channel_id="C100", name="Northwind desk")
    second = make_issue_world(uow_factory, now=CREATED, channel_id="C200", name="Payroll run")
    logged = [
        issue_lifecycle.log_issue(
            uow_factory(),
            team_id="TCLIENT",
            channel_id="C100",
            actor="UC2",
            data=issue_input(title=f"Issue {n}"),
            request_key=f"k{n}",
            now=CREATED,
        ).issue
        for n in range(3)
    ]
    issue_lifecycle.resolve(uow_factory(), channel_id="C100", issue_id=logged[0].id, actor="UC1", now=CREATED)
    partnerships.set_paused(uow_factory(), team_id="TCLIENT", channel_id="C200", actor="UCL", paused=True, now=CREATED)
    with uow_factory() as uow:
        next_pulse = uow.partnerships.get(first.partnership_id).next_pulse_at
    assert next_pulse is not None
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("PARTNERPULSE_LOG_LEVEL", "WARNING")

    assert main(["partnerships"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    lines = out.splitlines()
    assert [_columns(line) for line in lines] == [
        ["ID", "NAME", "CHANNEL", "CLIENT", "PROVIDER", "NEXT PULSE (UTC)", "OPEN ISSUES"],
        [
            str(first.partnership_id),
            "Northwind desk",
            "C100",
            "Northwind",
            "Contoso",
            next_pulse.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "2",
        ],
        [str(second.partnership_id), "Payroll run", "C200", "Northwind", "Contoso", "paused", "0"],
    ]
    assert next_pulse.strftime("%Y-%m-%dT%H:%M:%SZ") == "2026-11-23T14:00:00Z", "Monday 09:00 New York, in UTC"
    listing = operator.list_partnerships(uow_factory)
    with pytest.raises(dataclasses.FrozenInstanceError):
        listing[0].open_issues = 5  # type: ignore[misc]


def test_partnerships_on_an_empty_database(
    uow_factory: Any, database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    assert main(["partnerships"]) == 0
    assert capsys.readouterr().out == "no partnerships yet\n"


def test_partnerships_never_migrates_a_database_behind_the_schema(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    assert main(["partnerships"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.splitlines()) == 1
    assert err.startswith("partnerpulse partnerships: the database is at schema revision none")
    assert "run `partnerpulse db upgrade` first" in err
    engine = make_engine(url)
    try:
        assert migrate.current_revision(engine) is None, "nothing was migrated"
    finally:
        engine.dispose()


# --- 6. --version --------------------------------------------------------------------------------------------------


def test_version_prints_the_installed_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out == f"partnerpulse {metadata.version('partnerpulse')}\n"


def test_version_is_unknown_when_not_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    def not_installed(name: str) -> str:
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(cli.metadata, "version", not_installed)
    assert cli.package_version() == "unknown"


# --- 7. help and description for every command ---------------------------------------------------------------------


def _subcommands(parser: argparse.ArgumentParser, path: str = "") -> Iterator[tuple[str, str, argparse.ArgumentParser]]:
    """(full name, help, parser) of every subcommand and sub-subcommand."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {choice.dest: choice.help for choice in action._choices_actions}
            for name, sub in action.choices.items():
                full = f"{path} {name}".strip()
                yield full, str(helps.get(name) or ""), sub
                yield from _subcommands(sub, full)


def test_every_command_has_a_help_line_and_a_description(capsys: pytest.CaptureFixture[str]) -> None:
    found = list(_subcommands(build_parser()))
    names = {name for name, _, _ in found}
    assert {
        "run",
        "serve",
        "db",
        "db upgrade",
        "db revision",
        "tick",
        "demo",
        "sentiment",
        "export",
        "partnerships",
    } <= names
    for name, help_text, sub in found:
        assert help_text.strip(), f"{name} has no help"
        assert "\n" not in help_text, f"{name}'s help is one line"
        assert (sub.description or "").strip(), f"{name} has no description"
    with pytest.raises(SystemExit):
        main(["--help"])
    top = capsys.readouterr().out
    for name, help_text, _ in found:
        if " " not in name:
            assert re.search(rf"^\s+{name}\b", top, re.M), f"{name} is listed in --help"
            assert help_text.split()[0] in top


# --- 8. sentiment TEXT... --------------------------------------------------------------------------------------------


def test_sentiment_scores_each_argument(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sentiment", "Great work, thank you!", "This is awful and broken."]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["text"] for r in rows] == ["Great work, thank you!", "This is awful and broken."]
    assert [r["label"] for r in rows] == ["positive", "negative"]


def test_sentiment_without_arguments_still_reads_stdin(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"Great work!\n\nawful\n"), encoding="utf-8"))
    assert main(["sentiment"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["text"] for r in rows] == ["Great work!", "", "awful"]


# --- 9 and 10. .env.example and LICENSE --------------------------------------------------------------------------------


def test_env_example_lists_every_setting_with_a_comment() -> None:
    text = (ROOT / ".env.example").read_text(encoding="utf-8")
    lines = text.splitlines()
    for field in Settings.model_fields:
        for variable in env_names(field):
            at = [i for i, line in enumerate(lines) if re.match(rf"^(# )?{variable}=", line)]
            assert len(at) == 1, f"{variable} ({field}) is in .env.example once"
            assert at[0] > 0 and lines[at[0] - 1].startswith("# ") and "=" not in lines[at[0] - 1].split()[1], (
                f"{variable} has a comment line above it"
            )
    for secret in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET", "PARTNERPULSE_SECRET_KEY"):
        assert f"\n{secret}=\n" in text, f"{secret} is there to fill in, empty"


def test_env_example_copied_as_is_loads_the_defaults_and_asks_for_the_secrets() -> None:
    env_file = str(ROOT / ".env.example")
    settings = Settings.load(env_file=env_file)
    assert settings == Settings.load(env_file=None)
    with pytest.raises(SettingsError, match=r"^Missing settings: set SLACK_SIGNING_SECRET .* PARTNERPULSE_SECRET_KEY \("):
        Settings.load(env_file=env_file, require=("slack_signing_secret", "slack_bot_token", "secret_key"))
    # Only a blank secret means "not set": a blank DATABASE_URL is still an error, never silently SQLite.
    with pytest.raises(SettingsError, match=r"^Invalid setting DATABASE_URL \("):
        Settings.load({"database_url": ""}, env_file=None)


def test_license_is_mit_like_pyproject() -> None:
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License\n\nCopyright (c) 2026 The PartnerPulse authors\n")
    assert 'THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND' in text
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["license"] in ({"text": "MIT"}, "MIT")

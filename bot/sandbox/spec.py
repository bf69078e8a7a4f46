"""The facts of Slack's Web API and the app manifest, as the sandbox checks calls against them.

The package carries ``slack_methods.json``: for every Web API method, the required arguments, the scope its
token needs (and the alternative scopes), and the token type, generated from Slack's published OpenAPI
description plus ``extra_methods.json`` (the few methods newer than that description) by the maintainer's
tool ``python -m bot.sandbox.facts_build`` (see its docstring). Nothing here reads a file outside the package
unless ``PARTNERPULSE_SLACK_SPEC`` names a full OpenAPI description to check against instead.

``app_manifest.yml`` says which bot scopes the app requests; the package carries it too (a link to the
repository's file, copied into wheels). A call that names an unknown method, omits a required argument or
needs a scope the manifest does not request would fail in production, so the sandbox reports it as a
:class:`Violation`.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

SPEC_ENV = "PARTNERPULSE_SLACK_SPEC"
MANIFEST_ENV = "PARTNERPULSE_APP_MANIFEST"
FACTS_NAME = "slack_methods.json"
MANIFEST_NAME = "app_manifest.yml"

# Methods whose text arguments Slack would linkify with link_names/parse=full.
CHAT_METHODS = frozenset(
    {
        "chat.postMessage",
        "chat.postEphemeral",
        "chat.update",
        "chat.scheduleMessage",
        "chat.meMessage",
    }
)

_SCOPE_IN_DESCRIPTION = re.compile(r"Requires scope:\s*`([^`]*)`")


@dataclass(frozen=True)
class MethodSpec:
    """What the sandbox knows about one Web API method."""

    name: str
    required: frozenset[str]
    # The scope named in the token parameter's description ("none" becomes None).
    scope: str | None
    # Alternative scopes from ``security[0].slackAuth`` (legacy names included).
    alternatives: frozenset[str] = frozenset()
    source: str = "spec"
    token_type: str = "bot"

    @property
    def needs_scope(self) -> bool:
        """True when a token needs some scope to call this method."""
        return self.scope is not None or bool(self.alternatives)


@dataclass(frozen=True)
class Manifest:
    """The parts of ``app_manifest.yml`` the sandbox uses."""

    path: Path
    bot_scopes: tuple[str, ...]
    slash_commands: tuple[str, ...] = ()
    bot_events: tuple[str, ...] = ()
    # (type, callback_id) for global and message shortcuts.
    shortcuts: tuple[tuple[str, str], ...] = ()
    app_name: str = "PartnerPulse"
    bot_display_name: str = "PartnerPulse"
    interactivity: bool = True


@dataclass(frozen=True)
class Violation:
    """A call the real Slack would reject (or that breaks a project rule), as the sandbox recorded it."""

    method: str
    reason: str
    # The Slack error code the call gets in strict mode.
    error: str = "invalid_arguments"
    needed: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)


def normalise_scope(scope: str) -> str:
    """Fold a legacy ``X:bot``/``X:user`` scope onto ``X`` (``chat:write:bot`` is ``chat:write`` today)."""
    for suffix in (":bot", ":user"):
        if scope.endswith(suffix) and scope.count(":") >= 2:
            return scope[: -len(suffix)]
    return scope


def find_spec_path() -> Path | None:
    """The full OpenAPI description named by ``$PARTNERPULSE_SLACK_SPEC``, or None to use the packaged facts."""
    configured = os.environ.get(SPEC_ENV)
    if not configured:
        return None
    path = Path(configured).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"{SPEC_ENV} points at {path}, which is not a file")
    return path


def find_manifest_path() -> Path:
    """``$PARTNERPULSE_APP_MANIFEST``, else the ``app_manifest.yml`` the package carries."""
    configured = os.environ.get(MANIFEST_ENV)
    if configured:
        path = Path(configured).expanduser()
        if not path.is_file():
            raise FileNotFoundError(f"{MANIFEST_ENV} points at {path}, which is not a file")
        return path
    packaged = resources.files("bot.sandbox").joinpath(MANIFEST_NAME)
    with resources.as_file(packaged) as path:
        if not path.is_file():
            raise FileNotFoundError(f"the package lacks {MANIFEST_NAME}; reinstall it or set {MANIFEST_ENV}")
        return path


def _method_from_operation(name: str, operation: Mapping[str, Any]) -> MethodSpec:
    parameters = operation.get("parameters", [])
    required = frozenset(p["name"] for p in parameters if p.get("required") and p.get("name") != "token")
    scope: str | None = None
    for parameter in parameters:
        if parameter.get("name") == "token":
            match = _SCOPE_IN_DESCRIPTION.search(parameter.get("description", ""))
            if match:
                scope = match.group(1).strip()
    alternatives: set[str] = set()
    for requirement in operation.get("security", [])[:1]:
        alternatives.update(requirement.get("slackAuth", []))
    alternatives.discard("none")
    if scope == "none":
        # The description is explicit that no scope is needed (views.*, auth.test, ...).
        return MethodSpec(name=name, required=required, scope=None)
    return MethodSpec(name=name, required=required, scope=scope, alternatives=frozenset(alternatives))


@lru_cache(maxsize=4)
def load_spec_methods(spec_path: str) -> Mapping[str, MethodSpec]:
    """Parse the OpenAPI file once per process (it is about 1 MB) into ``{method: MethodSpec}``."""
    with open(spec_path, encoding="utf-8") as handle:
        document = json.load(handle)
    methods: dict[str, MethodSpec] = {}
    for path, operations in document.get("paths", {}).items():
        name = path.lstrip("/")
        for operation in operations.values():
            # Each path has a single verb in Slack's file; the first is the method's description.
            methods[name] = _method_from_operation(name, operation)
            break
    return methods


def _method_from_facts(name: str, entry: Mapping[str, Any], source: str) -> MethodSpec:
    return MethodSpec(
        name=name,
        required=frozenset(entry.get("required", [])),
        scope=entry.get("scope"),
        alternatives=frozenset(entry.get("alternatives", [])),
        source=entry.get("source", source),
        token_type=entry.get("token_type", "bot"),
    )


def method_to_facts(spec: MethodSpec) -> dict[str, Any]:
    """One method as the compact facts file holds it (the inverse of how :func:`load_facts` reads it)."""
    entry: dict[str, Any] = {"required": sorted(spec.required), "scope": spec.scope}
    if spec.alternatives:
        entry["alternatives"] = sorted(spec.alternatives)
    if spec.token_type != "bot":
        entry["token_type"] = spec.token_type
    if spec.source != "spec":
        entry["source"] = spec.source
    return entry


def _read_package_json(name: str) -> Mapping[str, Any]:
    document: Mapping[str, Any] = json.loads(resources.files("bot.sandbox").joinpath(name).read_text(encoding="utf-8"))
    return document


@lru_cache(maxsize=1)
def load_extra_methods() -> Mapping[str, MethodSpec]:
    """The methods newer than the OpenAPI description, from ``extra_methods.json`` shipped with the package."""
    document = _read_package_json("extra_methods.json")
    return {name: _method_from_facts(name, entry, "extra") for name, entry in document["methods"].items()}


@lru_cache(maxsize=1)
def load_facts() -> Mapping[str, MethodSpec]:
    """Every method the sandbox knows, from the compact ``slack_methods.json`` shipped with the package."""
    document = _read_package_json(FACTS_NAME)
    return {name: _method_from_facts(name, entry, "spec") for name, entry in document["methods"].items()}


def load_manifest(path: Path) -> Manifest:
    """Read the scopes, commands, events and shortcuts of an app manifest."""
    with open(path, encoding="utf-8") as handle:
        document = yaml.safe_load(handle) or {}
    features = document.get("features") or {}
    settings = document.get("settings") or {}
    scopes = ((document.get("oauth_config") or {}).get("scopes") or {}).get("bot") or []
    commands = tuple(str(c["command"]) for c in features.get("slash_commands") or [] if "command" in c)
    events = tuple(str(e) for e in (settings.get("event_subscriptions") or {}).get("bot_events") or [])
    shortcuts = tuple(
        (str(s.get("type", "global")), str(s["callback_id"])) for s in features.get("shortcuts") or [] if "callback_id" in s
    )
    display = document.get("display_information") or {}
    bot_user = features.get("bot_user") or {}
    return Manifest(
        path=path,
        bot_scopes=tuple(str(s) for s in scopes),
        slash_commands=commands,
        bot_events=events,
        shortcuts=shortcuts,
        app_name=str(display.get("name", "PartnerPulse")),
        bot_display_name=str(bot_user.get("display_name", display.get("name", "PartnerPulse"))),
        interactivity=bool((settings.get("interactivity") or {}).get("is_enabled", False)),
    )


def is_truthy(value: object) -> bool:
    """Slack's reading of a boolean argument: JSON true, 1, or the strings "1"/"true"."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes"}
    return False


def _present(value: object) -> bool:
    return value is not None and value != ""


class SpecChecker:
    """Checks one Web API call against the spec, the extra list and the manifest's bot scopes."""

    def __init__(self, methods: Mapping[str, MethodSpec], manifest: Manifest) -> None:
        self.methods = methods
        self.manifest = manifest
        self.provided = frozenset(normalise_scope(s) for s in manifest.bot_scopes)

    @classmethod
    def load(cls, spec_path: Path | None = None, manifest_path: Path | None = None) -> SpecChecker:
        """Build a checker: the packaged facts and manifest, unless a path (or its environment variable) names others."""
        spec = spec_path if spec_path is not None else find_spec_path()
        manifest = manifest_path if manifest_path is not None else find_manifest_path()
        if spec is None:
            methods = dict(load_facts())
        else:
            methods = dict(load_spec_methods(str(Path(spec).resolve())))
            methods.update(load_extra_methods())
        return cls(methods, load_manifest(Path(manifest)))

    def method(self, name: str) -> MethodSpec | None:
        """The method's description, or None if Slack has no such method."""
        return self.methods.get(name)

    def accepted_scopes(self, spec: MethodSpec) -> frozenset[str]:
        """Scopes any one of which lets a bot token call the method."""
        accepted = {normalise_scope(s) for s in spec.alternatives}
        if spec.scope is not None:
            accepted.add(normalise_scope(spec.scope))
        if "conversations:read" in accepted:
            # The 2021 file names the old umbrella scope; granular apps get it from either of these.
            accepted.update({"channels:read", "groups:read"})
        if "conversations:write" in accepted:
            accepted.update({"channels:manage", "groups:write"})
        return frozenset(accepted)

    def missing_scope(self, spec: MethodSpec, provided: frozenset[str] | None = None) -> str | None:
        """The scope to report as ``needed`` when the manifest (or ``provided``, an installation's grant) lacks every
        accepted scope, else None."""
        if spec.token_type != "bot" or not spec.needs_scope:
            return None
        accepted = self.accepted_scopes(spec)
        if accepted & (self.provided if provided is None else provided):
            return None
        if spec.scope is not None:
            return normalise_scope(spec.scope)
        return sorted(accepted)[0]

    def check_call(self, method: str, args: Mapping[str, Any], provided: frozenset[str] | None = None) -> Violation | None:
        """Return the first reason this call is wrong, or None when Slack (and the project) would accept it.

        ``provided``: the scopes the calling installation was granted (default: every bot scope of the manifest).
        """
        spec = self.methods.get(method)
        if spec is None:
            return Violation(method, f"{method} is not a Slack Web API method", error="unknown_method")
        missing = sorted(name for name in spec.required if not _present(args.get(name)))
        if missing:
            return Violation(
                method,
                f"missing required argument(s): {', '.join(missing)}",
                details={"missing": missing},
            )
        needed = self.missing_scope(spec, provided)
        if needed is not None:
            in_manifest = self.missing_scope(spec) is None
            granted = (
                "the installation was not granted (a reinstall grants it)"
                if in_manifest
                else "app_manifest.yml does not request"
            )
            return Violation(
                method,
                f"needs scope {needed}, which {granted}",
                error="missing_scope",
                needed=needed,
            )
        if method in CHAT_METHODS:
            if is_truthy(args.get("link_names")):
                return Violation(method, "link_names is set: user text must not be linkified")
            if str(args.get("parse", "")).lower() == "full":
                return Violation(method, "parse=full is set: user text must not be linkified")
        return None

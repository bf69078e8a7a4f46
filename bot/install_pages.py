"""The web pages of the OAuth install: the install page (what PartnerPulse does, what it asks for, its privacy note),
the privacy note itself, and the pages after Slack sends the installer back. Pure HTML renderers; no I/O."""

from __future__ import annotations

import html

PRIVACY_PATH = "/privacy"

_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:42rem;margin:3rem auto;padding:0 1rem;line-height:1.5;color:#1d1c1d}"
    "h1{color:#1f3a5f}a.button{display:inline-block;background:#1f3a5f;color:#fff;padding:.6rem 1.2rem;"
    "border-radius:6px;text-decoration:none}code{background:#f4f4f4;padding:0 .2rem}"
)

#: What each bot scope is used for, shown on the install page (the app's requested scopes, in manifest order).
SCOPE_PURPOSES: dict[str, str] = {
    "commands": "the /partner command and the message shortcut",
    "chat:write": "posting pulse checks, issue cards, digests and reminders",
    "channels:read": "knowing who is in a public partnership channel, and whether it is shared",
    "groups:read": "the same for a private partnership channel",
    "users:read": "each person's organisation and time zone (to keep both sides apart and remind them in working hours)",
    "pins:write": "pinning the partnership's menu in its channel",
    "files:write": "the digest's charts",
    "usergroups:read": "putting a user group on one side of the partnership",
}


def _page(title: str, body: str) -> str:
    return (
        "<!DOCTYPE html><html lang=en><head><meta charset=utf-8>"
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>{body}</body></html>"
    )


def install_page(authorize_url: str, scopes: tuple[str, ...]) -> str:
    """The page behind ``/slack/install``: what the app does, each scope and why, the privacy note, and the button."""
    asked = "".join(
        f"<li><code>{html.escape(scope)}</code>: {html.escape(SCOPE_PURPOSES.get(scope, 'used by PartnerPulse'))}</li>"
        for scope in scopes
    )
    return _page(
        "Install PartnerPulse",
        "<h1>PartnerPulse</h1>"
        "<p>PartnerPulse keeps the relationship between an outsourcing client and its service provider healthy, in the "
        "Slack channel both organisations share: short pulse checks both sides answer, an issue log that escalates "
        "along an agreed path when something stalls, agreed KPIs, and a weekly digest of how each side sees it.</p>"
        "<p>Both organisations of a shared channel can install it; each organisation's people then use "
        "<code>/partner</code>, the shortcut and the Home tab from their own workspace, and the app reaches each "
        "person through their own organisation's installation. There is one partnership and one set of data.</p>"
        f"<h2>What it asks for</h2><ul>{asked}</ul>"
        f'<p>Read the <a href="{PRIVACY_PATH}">privacy note</a> before you install.</p>'
        f'<p><a class=button href="{html.escape(authorize_url)}">Add to Slack</a></p>',
    )


def privacy_page() -> str:
    """The privacy note the install page links to."""
    return _page(
        "PartnerPulse privacy note",
        "<h1>Privacy note</h1>"
        "<p>PartnerPulse stores what people give it in the partnership channel: pulse answers, issues, actions, KPI "
        "figures and comments, with the Slack ids, display names, organisation and time zone of the people taking "
        "part. Anonymous pulse answers are stored under a keyed hash of the person, never their id, and figures are "
        "shown only when at least the partnership's minimum number of people answered.</p>"
        "<p>It does not read the channel's messages. The tokens Slack gives it when you install are encrypted in its "
        "database and never written to its logs.</p>"
        "<p>Whoever runs this PartnerPulse server (your organisation or your partner's) holds this data. Uninstalling "
        "the app from your workspace removes its tokens at once and pauses the partnerships it ran there; ask the "
        "operator to export or delete the partnership's data.</p>",
    )


def installed_page(team_name: str) -> str:
    """After a successful install."""
    return _page(
        "PartnerPulse installed",
        f"<h1>PartnerPulse is installed in {html.escape(team_name or 'your workspace')}</h1>"
        "<p>Invite <code>@PartnerPulse</code> to the channel you share with your partner and run "
        "<code>/partner setup</code> there. If your partner's organisation installs it too, its people can use "
        "<code>/partner</code> from their own workspace.</p>",
    )


def install_failed_page(reason: str) -> str:
    """After an install that did not complete: why, in words, and how to try again."""
    why = {
        "access_denied": "the install was cancelled on Slack's page.",
        "invalid_state": "the install link expired or was already used.",
        "invalid_browser": "the install was started in another browser (or its cookie was lost).",
        "missing_code": "Slack sent no authorisation code back.",
        "invalid_code": "Slack did not accept the authorisation code.",
        "storage_error": "the installation could not be saved.",
    }.get(reason, "Slack answered an error.")
    return _page(
        "PartnerPulse was not installed",
        f"<h1>PartnerPulse was not installed</h1><p>Nothing was installed: {html.escape(why)}</p>"
        '<p><a class=button href="/slack/install">Start again</a></p>',
    )

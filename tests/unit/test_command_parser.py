"""The /partner grammar: each subcommand's text gives its typed command; malformed text gives the usage message."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest

from bot.services.issue_models import ActionFilter, IssueFilter
from bot.services.partnership_models import Side
from bot.services.review_models import ScorecardCadence
from handlers.command_parser import CommandError, parse_command
from handlers.command_types import (
    ActionAdd,
    ActionList,
    CategoriesSet,
    CategoriesShow,
    CategoryAdd,
    CategoryRemove,
    Command,
    DigestCopy,
    DigestNow,
    DigestPreview,
    ExpectationAdd,
    ExpectationsShow,
    GoalAdd,
    GoalsShow,
    Help,
    HolidayAdd,
    HolidayRemove,
    HoursSet,
    HoursShow,
    IssueList,
    IssueLog,
    Menu,
    PolicyReset,
    PolicySet,
    PolicyShow,
    PortfolioHere,
    PortfolioOff,
    PortfolioShow,
    PulseNow,
    PulsePause,
    PulseResume,
    Questions,
    Refused,
    ScorecardCadenceSet,
    ScorecardShow,
    ScorecardStart,
    Setup,
    SideAssign,
    SideGroupAssign,
    Status,
)
from handlers.commands import COMMAND_HANDLERS
from handlers.menu import MENU_COMMANDS

WEEKDAYS = (0, 1, 2, 3, 4)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (None, Help()),
        ("", Help()),
        ("   ", Help()),
        ("help", Help()),
        ("setup", Setup()),
        ("STATUS", Status()),
        ("menu", Menu()),
        ("questions", Questions()),
        ("pulse now", PulseNow()),
        ("Pulse PAUSE", PulsePause()),
        ("  pulse   resume ", PulseResume()),
        ("side <@U123|dana> client", SideAssign("U123", Side.CLIENT)),
        ("side <@W999> auto", SideAssign("W999", None)),
        ("SIDE <@U0ABC> Provider", SideAssign("U0ABC", Side.PROVIDER)),
        # A user group, as Slack escapes it in command text: the id, and the handle as plain text.
        ("side <!subteam^S0123|@ops-team> client", SideGroupAssign("S0123", "@ops-team", Side.CLIENT)),
        ("side  <!subteam^SABC9|@Ops>   AUTO ", SideGroupAssign("SABC9", "@Ops", None)),
        ("side <!subteam^S0123> provider", SideGroupAssign("S0123", "the group S0123", Side.PROVIDER)),
        (
            "side <!subteam^S0123|@a &lt;!channel&gt; &amp; b> provider",
            SideGroupAssign("S0123", "@a <!channel> & b", Side.PROVIDER),
        ),
        # The issue log.
        ("issue", IssueLog(None)),
        ("issue Reports &lt;late&gt; <@U1|dana>", IssueLog("Reports <late> @dana")),
        ("issues", IssueList(IssueFilter.OPEN)),
        ("Issues ALL", IssueList(IssueFilter.ALL)),
        ("issues mine", IssueList(IssueFilter.MINE)),
        ("action   Share  the rota ", ActionAdd("Share  the rota")),
        ("action", ActionAdd(None)),
        ("actions overdue", ActionList(ActionFilter.OVERDUE)),
        ("actions", ActionList(ActionFilter.MINE)),
        ("policy", PolicyShow()),
        ("policy s2 4h 3d", PolicySet("S2", acknowledge=timedelta(hours=4), resolve=timedelta(hours=24))),
        ("policy S4 90min 1d4h", PolicySet("S4", acknowledge=timedelta(minutes=90), resolve=timedelta(hours=12))),
        ("policy S1 default", PolicyReset("S1")),
        ("categories", CategoriesShow()),
        ("categories set Delivery, Timeliness ,Other", CategoriesSet(("Delivery", "Timeliness", "Other"))),
        ("categories add Data &amp; AI", CategoryAdd("Data & AI")),
        ("categories remove Staffing", CategoryRemove("Staffing")),
        ("hours", HoursShow()),
        ("hours client 08:30-17:30", HoursSet(Side.CLIENT, time(8, 30), time(17, 30), WEEKDAYS, None)),
        (
            "hours provider 09:00-18:00 sun-thu Asia/Kolkata",
            HoursSet(Side.PROVIDER, time(9), time(18), (0, 1, 2, 3, 6), "Asia/Kolkata"),
        ),
        ("hours client 9:00-17:00 mon,wed UTC", HoursSet(Side.CLIENT, time(9), time(17), (0, 2), "UTC")),
        ("holiday client 2026-12-25 Christmas Day", HolidayAdd(Side.CLIENT, date(2026, 12, 25), "Christmas Day")),
        ("holiday client 2026-12-25", HolidayAdd(Side.CLIENT, date(2026, 12, 25), "")),
        ("holiday remove provider 2026-12-25", HolidayRemove(Side.PROVIDER, date(2026, 12, 25))),
        # Reviews.
        ("Digest  PREVIEW ", DigestPreview()),
        ("digest now", DigestNow()),
        ("digest subscribe", DigestCopy(subscribe=True)),
        ("digest unsubscribe", DigestCopy(subscribe=False)),
        ("portfolio", PortfolioShow()),
        ("portfolio here", PortfolioHere()),
        ("portfolio OFF", PortfolioOff()),
        ("goals", GoalsShow()),
        # The words after the first one keep their case and spacing, as plain text (Slack escapes decoded).
        ("goal add Ship  v2 to <@U1|dana> &lt;b&gt;", GoalAdd("Ship  v2 to @dana <b>")),
        ("goal add", GoalAdd(None)),
        ("expect", ExpectationAdd(None)),
        ("expect Weekly status by Friday <!channel>", ExpectationAdd("Weekly status by Friday @channel")),
        ("expectations", ExpectationsShow()),
        ("scorecard", ScorecardShow()),
        ("scorecard start", ScorecardStart()),
        ("scorecard quarterly", ScorecardCadenceSet(ScorecardCadence.QUARTERLY)),
        ("scorecard off", ScorecardCadenceSet(ScorecardCadence.OFF)),
    ],
)
def test_each_subcommand_gives_its_typed_command(text: str | None, expected: Command) -> None:
    assert parse_command(text) == expected


def test_values_are_typed() -> None:
    policy = parse_command("policy S3 30m 2d")
    assert isinstance(policy, PolicySet) and policy.resolve == timedelta(hours=16)
    hours = parse_command("hours provider 07:05-15:45 tue-sat")
    assert isinstance(hours, HoursSet) and isinstance(hours.day_start, time) and hours.workdays == (1, 2, 3, 4, 5)
    assert isinstance(hours.side, Side)
    holiday = parse_command("holiday remove client 2027-01-01")
    assert isinstance(holiday, HolidayRemove) and isinstance(holiday.day, date)
    issues = parse_command("issues ALL")
    assert isinstance(issues, IssueList) and issues.filter is IssueFilter.ALL


@pytest.mark.parametrize(
    ("text", "usage"),
    [
        ("pulse", "/partner pulse now"),
        ("pulse later", "/partner pulse now"),
        ("pulse now please", "/partner pulse now"),
        ("side", "/partner side @person"),
        ("side dana client", "/partner side @person"),
        ("side <@U1> both", "/partner side @person"),
        ("side <@U123> both", "/partner side @person"),
        ("side <!channel> client", "/partner side @person"),
        ("side <@U123>", "/partner side @person"),
        ("side <@u123> client", "@group"),
        ("side <@C123> client", "@group"),
        ("side <!subteam^S0123|@ops>", "/partner side @person"),
        ("side <!subteam^S0123|@ops> both", "@group"),
        ("side <!subteam^S0123|@ops> client extra", "@group"),
        ("side <!subteam^s0123|@ops> client", "@group"),
        ("side <!subteam^U0123|@ops> client", "@group"),
        ("side <!subteam^|@ops> client", "@group"),
        ("side <!here> client", "@group"),
        ("side <#C0123|general> client", "@group"),
        ("side @ops client", "@group"),
        ("frobnicate", "/partner help"),
        ("issues later", "/partner issues mine"),
        ("issues mine all", "/partner issues mine"),
        ("actions yours", "/partner actions overdue"),
        ("policy S5 4h 3d", "/partner policy S2 4h 3d"),
        ("policy S2 4h", "/partner policy S2 4h 3d"),
        ("policy S2 soon later", "/partner policy S2 4h 3d"),
        ("policy S2 4x 3d", "/partner policy S2 4h 3d"),
        ("policy S2 4h -1d", "/partner policy S2 4h 3d"),
        ("policy S2 4h 3d 2d", "/partner policy S2 4h 3d"),
        ("categories drop Other", "/partner categories add"),
        ("categories add", "/partner categories add"),
        ("categories set , ,", "/partner categories add"),
        ("hours client 9-5", "/partner hours client 09:00-17:00"),
        ("hours both 09:00-17:00", "/partner hours client 09:00-17:00"),
        ("hours client 09:00-17:00 someday", "/partner hours client 09:00-17:00"),
        ("holiday client christmas", "/partner holiday client 2026-12-25"),
        ("holiday both 2026-12-25", "/partner holiday client 2026-12-25"),
        ("holiday remove client 2026-12-25 extra", "/partner holiday client 2026-12-25"),
    ],
)
def test_malformed_commands_get_the_usage_in_the_ack(text: str, usage: str) -> None:
    with pytest.raises(CommandError) as info:
        parse_command(text)
    assert usage in str(info.value)


@pytest.mark.parametrize(
    ("text", "usage"),
    [
        ("digest", "Usage: `/partner digest preview`"),
        ("digest foo", "Usage: `/partner digest preview`"),
        ("digest now please", "Usage: `/partner digest preview`"),
        ("digest <!channel>", "Usage: `/partner digest preview`"),
        ("portfolio elsewhere", "Usage: `/partner portfolio`"),
        ("portfolio here now", "Usage: `/partner portfolio`"),
        ("goals all", "Usage: `/partner goals`."),
        ("goal", "Usage: `/partner goal add [title]`."),
        ("goal remove 3", "Usage: `/partner goal add [title]`."),
        ("expectations mine", "Usage: `/partner expectations`."),
        ("scorecard weekly", "Usage: `/partner scorecard` to see it"),
        ("scorecard start now", "Usage: `/partner scorecard` to see it"),
        # A window that looks like one but is no time of day: refused after the ack, as the service refuses.
        ("hours client 25:00-17:00", "25:00 is not a time of day; write it like 09:00."),
    ],
)
def test_review_usage_is_refused_after_the_ack(text: str, usage: str) -> None:
    refused = parse_command(text)
    assert isinstance(refused, Refused)
    assert refused.message.startswith(usage)
    assert "<!channel>" not in refused.message


@pytest.mark.parametrize("word", ["<!channel>", "x<!channel>", "<@U123>", "<https://evil|Open>"])
def test_unknown_word_is_escaped_in_the_error(word: str) -> None:
    with pytest.raises(CommandError) as info:
        parse_command(word)
    message = str(info.value)
    assert "<!" not in message and "<@" not in message and "<http" not in message
    assert "&lt;" in message


def test_oversized_command_text_gives_a_short_error() -> None:
    with pytest.raises(CommandError) as info:
        parse_command("x" * 5000)
    assert len(str(info.value)) < 200
    with pytest.raises(CommandError) as info:
        parse_command("<" * 5000)
    assert len(str(info.value)) < 400 and "<" not in str(info.value).replace("`", "")
    with pytest.raises(CommandError) as info:
        parse_command("policy S2 " + "9" * 5000 + "h 3d")
    assert "/partner policy S2 4h 3d" in str(info.value)


def test_oversized_free_text_is_kept_for_the_form_to_cut() -> None:
    """An issue's title longer than a title is kept whole: the form keeps all of it in the details."""
    assert parse_command("issue " + "y" * 5000) == IssueLog("y" * 5000)
    categories = parse_command("categories set " + "z" * 5000)
    assert isinstance(categories, CategoriesSet) and len(categories.names[0]) == 2000


@pytest.mark.parametrize(
    ("text", "clean"),
    [
        ("pulse now\x00", "pulse now"),
        ("issues mine\x07", "issues mine"),
        ("policy S2 4h\x00 3d", "policy S2 4h 3d"),
        ("side <@U123>\x00 client", "side <@U123> client"),
        ("hours client 09:00-17:00\x1b", "hours client 09:00-17:00"),
        ("holiday client 2026-12-25 Boxing\u202e Day\x85", "holiday client 2026-12-25 Boxing Day"),
        ("issue Badge\x00s \u2067expire\u2069\x7f", "issue Badges expire"),
    ],
)
def test_control_and_bidi_characters_are_removed_before_the_text_is_read(text: str, clean: str) -> None:
    assert parse_command(text) == parse_command(clean)
    assert type(parse_command(text)) is not Help


def test_a_word_cleaned_of_control_characters_is_still_checked() -> None:
    with pytest.raises(CommandError) as info:
        parse_command("frob\x00nicate")
    assert "`frobnicate`" in str(info.value) and "/partner help" in str(info.value)


def test_every_command_type_has_a_handler() -> None:
    def subclasses(cls: type[Command]) -> set[type[Command]]:
        found = set(cls.__subclasses__())
        return found.union(*(subclasses(c) for c in found))

    assert subclasses(Command) == set(COMMAND_HANDLERS)


def test_every_menu_button_runs_a_registered_command() -> None:
    assert all(type(command) in COMMAND_HANDLERS for command in MENU_COMMANDS.values())

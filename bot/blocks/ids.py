"""Every Slack identifier PartnerPulse uses: commands, callback ids, action ids and block ids."""

from __future__ import annotations

from enum import StrEnum


class Command(StrEnum):
    PARTNER = "/partner"


class View(StrEnum):
    """Modal ``callback_id``s."""

    SETUP = "setup-submit"
    PULSE_ANSWER = "pulse-answer-submit"
    QUESTION_ADD = "question-add-submit"
    LOADING = "loading"
    ISSUE_LOG = "issue-log-submit"
    ISSUE_UPDATE = "issue-update-submit"
    ISSUE_REASSIGN = "issue-reassign-submit"
    ACTION_ADD = "action-add-submit"
    FOLLOWUP_ADD = "followup-add-submit"
    POLICY = "policy-submit"
    ISSUE_RESOLVE = "issue-resolve-submit"


class Action(StrEnum):
    """Button ``action_id``s."""

    PULSE_ANSWER = "pulse-answer"
    MENU_ANSWER = "menu-answer"
    MENU_STATUS = "menu-status"
    MENU_SETUP = "menu-setup"
    MENU_PULSE_NOW = "menu-pulse-now"
    MENU_PAUSE = "menu-pause"
    MENU_RESUME = "menu-resume"
    MENU_HELP = "menu-help"
    QUESTION_ADD = "question-add"
    # The issue card.
    ISSUE_ACKNOWLEDGE = "issue-acknowledge"
    ISSUE_UPDATE = "issue-update"
    ISSUE_ADD_ACTION = "issue-add-action"
    ISSUE_RESOLVE = "issue-resolve"
    ISSUE_REOPEN = "issue-reopen"
    ISSUE_ESCALATE = "issue-escalate"
    # The blameless follow-up in the card's thread.
    # One per side: action ids must be unique within a block (the value also names the side).
    FOLLOWUP_CONTRIBUTE_CLIENT = "followup-contribute-client"
    FOLLOWUP_CONTRIBUTE_PROVIDER = "followup-contribute-provider"
    FOLLOWUP_TO_ACTION = "followup-to-action"
    # A red KPI's blameless question in the channel: each side's answer is an action (one per side, as above).
    KPI_RED_ANSWER_CLIENT = "kpi-red-answer-client"
    KPI_RED_ANSWER_PROVIDER = "kpi-red-answer-provider"
    # The overdue-actions reminder and the early-warning signal.
    ACTION_DONE = "action-done"
    SIGNAL_LOG_ISSUE = "signal-log-issue"
    # More of the issue log: reassigning from the card, the partnership menu, lists, the policy and Home.
    ISSUE_REASSIGN = "issue-reassign"
    #: The overflow menu of an issue in lists and on the Home tab (the option's value names the verb).
    ISSUE_MENU = "issue-menu"
    #: The overflow menu of an action in lists and on the Home tab (the option's value names the new status).
    ACTION_MENU = "action-menu"
    LIST_MORE = "list-more"
    POLICY_CHANGE = "policy-change"
    MENU_LOG_ISSUE = "menu-log-issue"
    MENU_ISSUES = "menu-issues"
    MENU_ACTIONS = "menu-actions"
    MENU_POLICY = "menu-policy"
    MENU_KPIS = "menu-kpis"


class Shortcut(StrEnum):
    """Message shortcut ``callback_id``s."""

    LOG_ISSUE = "log-partnership-issue"


class Event(StrEnum):
    MEMBER_JOINED = "member_joined_channel"
    MEMBER_LEFT = "member_left_channel"
    APP_HOME_OPENED = "app_home_opened"
    SUBTEAM_MEMBERS_CHANGED = "subteam_members_changed"
    APP_UNINSTALLED = "app_uninstalled"
    TOKENS_REVOKED = "tokens_revoked"


class SetupBlock(StrEnum):
    """Input block ids of the setup modal, one per SetupInput field (``field`` of InvalidInput)."""

    NAME = "name"
    CLIENT_ORG = "client_org"
    PROVIDER_ORG = "provider_org"
    INSTALLING_SIDE = "installing_side"
    CLIENT_LEADS = "client_leads"
    PROVIDER_LEADS = "provider_leads"
    CLIENT_SPONSORS = "client_sponsors"
    PROVIDER_SPONSORS = "provider_sponsors"
    CLIENT_MEMBERS = "client_members"
    PROVIDER_MEMBERS = "provider_members"
    TIMEZONE = "timezone"
    PULSE_WEEKDAY = "pulse_weekday"
    PULSE_TIME = "pulse_time"
    PULSE_EVERY_WEEKS = "pulse_every_weeks"
    DIGEST_WEEKDAY = "digest_weekday"
    DIGEST_TIME = "digest_time"
    ANONYMITY_THRESHOLD = "anonymity_threshold"


class QuestionBlock(StrEnum):
    DIMENSION = "dimension"
    SUBJECT = "subject"
    TEXT_CLIENT = "text_client"
    TEXT_PROVIDER = "text_provider"


#: Answer modal block ids are ``score-<question id>`` and ``comment-<question id>``.
SCORE_PREFIX = "score-"
COMMENT_PREFIX = "comment-"
#: Every input element uses this action id; the block id says which field it is.
VALUE = "value"


class IssueBlock(StrEnum):
    """Input block ids of the issue modal, one per IssueInput field (``field`` of InvalidInput)."""

    TITLE = "title"
    DETAILS = "details"
    SEVERITY = "severity"
    CATEGORY = "category"
    OWNING_SIDE = "owning_side"
    OWNER = "owner_id"
    DUE_ON = "due_on"


class IssueUpdateBlock(StrEnum):
    """The update and reassign modals (``field`` of InvalidInput from update_issue and reassign)."""

    STATUS = "status"
    COMMENT = "comment"
    OWNER = "owner_id"


class ActionBlock(StrEnum):
    """Input block ids of the action modal, one per ActionInput field."""

    TITLE = "title"
    OWNER = "owner_id"
    DUE_ON = "due_on"
    SIDE = "side"
    ISSUE = "issue_id"


class FollowupBlock(StrEnum):
    TEXT = "text"


class PolicyBlock(StrEnum):
    """The policy modal (``field`` of InvalidInput from set_policy)."""

    SEVERITY = "severity"
    ACKNOWLEDGE = "acknowledge"
    RESOLVE = "resolve"
    CATEGORIES = "categories"


def policy_block(field: str, severity: str) -> str:
    """The policy modal's input for one severity's deadline: ``acknowledge-S2``, ``resolve-S2``."""
    return f"{field}-{severity}"


#: Block ids of the buttons on issue messages.
ISSUE_ACTIONS_BLOCK = "issue-actions"
FOLLOWUP_SIDES_BLOCK = "followup-sides"
KPI_RED_SIDES_BLOCK = "kpi-red-sides"


# --- shared goals, the expectations ledger and the bilateral scorecard (issue 4) -------------------------------


class ReviewView(StrEnum):
    """Modal ``callback_id``s of goals, expectations and the scorecard."""

    GOAL_ADD = "goal-add-submit"
    GOAL_STATUS = "goal-status-submit"
    EXPECTATION_ADD = "expectation-add-submit"
    EXPECTATION_DISCUSS = "expectation-discuss-submit"
    SCORECARD = "scorecard-submit"


class ReviewAction(StrEnum):
    """Button ``action_id``s of goals, expectations and the scorecard."""

    GOAL_ADD = "goal-add"
    GOAL_STATUS = "goal-status"
    EXPECTATION_ADD = "expectation-add"
    EXPECTATION_AGREE = "expectation-agree"
    EXPECTATION_DISCUSS = "expectation-discuss"
    EXPECTATION_WITHDRAW = "expectation-withdraw"
    SCORECARD_FILL = "scorecard-fill"
    #: The goals list and the ledger, for a button on any message (people of the other organisation cannot run
    #: ``/partner``); the value is a ChannelRef.
    GOALS_LIST = "goals-list"
    EXPECTATIONS_LIST = "expectations-list"


class GoalBlock(StrEnum):
    """Input block ids of the goal modals (``field`` of InvalidInput from bot.services.goals)."""

    TITLE = "title"
    CLIENT_OWNER = "client_owner_id"
    PROVIDER_OWNER = "provider_owner_id"
    DUE_ON = "due_on"
    STATUS = "status"
    NOTE = "note"


class ExpectationBlock(StrEnum):
    TEXT = "text"
    REASON = "reason"


#: Scorecard modal block ids are ``self-<dimension>`` and ``other-<dimension>``, plus the comment.
SCORECARD_COMMENT = "comment"
EXPECTATION_ACTIONS_BLOCK = "expectation-actions"


# --- agreed KPIs: recording figures (issue 14) ------------------------------------------------------------------


class KpiFigureView(StrEnum):
    """Modal ``callback_id`` of the form for a KPI's figure."""

    RECORD = "kpi-record-submit"


class KpiFigureAction(StrEnum):
    """Button ``action_id`` of the owner's request: opens the form (the value is a KpiFormRef)."""

    RECORD = "kpi-record"


class KpiFigureBlock(StrEnum):
    """Input block ids of the form (``field`` of InvalidInput)."""

    PERIOD_END = "period_end"
    VALUE = "value"
    NOTE = "note"


# --- the KPI ledger (issue 14) ----------------------------------------------------------------------------------


class KpiModal(StrEnum):
    """Modal ``callback_id``s of the KPI ledger (the proposal form also proposes a change to a KPI)."""

    PROPOSE = "kpi-propose-submit"
    DISCUSS = "kpi-discuss-submit"


class KpiAction(StrEnum):
    """Button ``action_id``s of the KPI ledger; they work for people of both organisations."""

    PROPOSE = "kpi-propose"
    AGREE = "kpi-agree"
    DISCUSS = "kpi-discuss"
    WITHDRAW = "kpi-withdraw"
    LEDGER = "kpi-ledger"
    SHOW = "kpi-show"
    CHANGE = "kpi-change"


class KpiBlock(StrEnum):
    """Input block ids of the KPI forms (``field`` of InvalidInput from bot.services.kpis)."""

    NAME = "name"
    KEY = "key"
    MEASURE = "measure"
    UNIT = "unit"
    DIRECTION = "direction"
    TARGET = "target"
    AMBER = "amber"
    RED = "red"
    PERIOD = "period"
    DIMENSION = "dimension"
    DELIVERED_BY = "delivered_by"
    OWNER = "owner_id"
    REASON = "reason"


KPI_ACTIONS_BLOCK = "kpi-actions"

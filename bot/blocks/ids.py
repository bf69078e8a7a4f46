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


class Event(StrEnum):
    MEMBER_JOINED = "member_joined_channel"
    MEMBER_LEFT = "member_left_channel"


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
    TEXT_CLIENT = "text_client"
    TEXT_PROVIDER = "text_provider"


#: Answer modal block ids are ``score-<question id>`` and ``comment-<question id>``.
SCORE_PREFIX = "score-"
COMMENT_PREFIX = "comment-"
#: Every input element uses this action id; the block id says which field it is.
VALUE = "value"

"""A local fake of the Slack Web API, plus users who send signed requests to the bot.

The bot's real code runs unchanged against it: ``WebClient(token=sb.bot_token, base_url=sb.api_url)``.
"""

from .actors import SandboxActor
from .block_input import build_view_state
from .installations import Installation
from .models import (
    ActorError,
    ActorResponse,
    Delivery,
    RecordedCall,
    ResponseUrlPost,
    SandboxError,
    SlackError,
    StoredFile,
)
from .oauth import OAuthSettings
from .ratelimit import RateLimiter, TokenBucket
from .server import SlackSandbox
from .spec import SpecChecker, Violation
from .world import DemoWorld, build_demo_world

__all__ = [
    "ActorError",
    "ActorResponse",
    "Delivery",
    "DemoWorld",
    "Installation",
    "RateLimiter",
    "RecordedCall",
    "OAuthSettings",
    "ResponseUrlPost",
    "SandboxActor",
    "SandboxError",
    "SlackError",
    "SlackSandbox",
    "SpecChecker",
    "StoredFile",
    "TokenBucket",
    "Violation",
    "build_demo_world",
    "build_view_state",
]

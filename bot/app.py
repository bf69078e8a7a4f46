"""The Bolt app factory. No module-level App; nothing read from the environment here."""

from __future__ import annotations

import logging
import re
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

from slack_bolt import Ack, App, BoltRequest, BoltResponse
from slack_bolt.lazy_listener.internals import build_runnable_function
from slack_bolt.lazy_listener.thread_runner import ThreadLazyListenerRunner
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

import handlers
from bot.after_ack import MODAL_THREADS, runs_first
from bot.blocks.common import build_error
from bot.container import Services
from bot.settings import Settings

logger = logging.getLogger(__name__)
T = TypeVar("T")

#: What a person is told when their workspace has no usable installation (OAuth mode): never installed, uninstalled,
#: or a token Slack will not refresh.
NOT_INSTALLED = (
    "PartnerPulse is not installed in your workspace, or needs to be installed again. Ask a Slack admin of your "
    "organisation to install it from PartnerPulse's install page; your partnerships' data is kept."
)


class AfterAckExecutor(ThreadPoolExecutor):
    """Bolt's listener pool, with a lane of its own for opening modals, which can also say when every piece of
    post-ack work handed to it has finished.

    A trigger id is valid for 3 seconds: a click that opens a modal must not wait for a thread behind slow post-ack
    work (a message to a slow Slack), so ``submit_first`` runs it on ``MODAL_THREADS`` threads that nothing else
    uses. A graceful stop, the demo and the tests wait on the idle condition instead of sleeping for a guessed time.
    """

    def __init__(self, max_workers: int, thread_name_prefix: str, modal_threads: int = MODAL_THREADS) -> None:
        super().__init__(max_workers=max_workers, thread_name_prefix=thread_name_prefix)
        self._modal_lane = ThreadPoolExecutor(max_workers=modal_threads, thread_name_prefix=f"{thread_name_prefix}-modal")
        self._pending = 0
        self._idle = threading.Condition()

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        return self._counted(super().submit, fn, *args, **kwargs)

    def submit_first(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        """Run ``fn`` on the modal lane, ahead of whatever waits for the main pool."""
        return self._counted(self._modal_lane.submit, fn, *args, **kwargs)

    def _counted(self, submit: Callable[..., Future[T]], fn: Callable[..., T], *args: Any, **kwargs: Any) -> Future[T]:
        with self._idle:
            self._pending += 1
        try:
            future = submit(fn, *args, **kwargs)
        except BaseException:
            self._finished(None)
            raise
        future.add_done_callback(self._finished)
        return future

    def _finished(self, _future: object) -> None:
        with self._idle:
            self._pending -= 1
            if self._pending == 0:
                self._idle.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """Wait until nothing submitted is queued or running; False if that did not happen within ``timeout`` s."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._modal_lane.shutdown(wait=wait, cancel_futures=cancel_futures)
        super().shutdown(wait=wait, cancel_futures=cancel_futures)


class LaneLazyListenerRunner(ThreadLazyListenerRunner):
    """Bolt's lazy-listener hook for threads in this process: a function marked ``opens_modal`` goes first."""

    executor: AfterAckExecutor

    def start(self, function: Callable[..., None], request: BoltRequest) -> None:
        runnable = build_runnable_function(func=function, logger=self.logger, request=request)
        if runs_first(function, request.body):
            self.executor.submit_first(runnable)
        else:
            self.executor.submit(runnable)


def create_app(
    settings: Settings,
    services: Services,
    *,
    client: WebClient | None = None,
    socket_mode: bool = False,
    worker: bool = False,
) -> App:
    """Build the Bolt app with every listener.

    HTTP mode verifies Slack's signatures with Bolt's RequestVerification (the signing secret is required);
    Socket Mode authenticates with the app-level token instead. A ``worker`` app (bot/workers.py) only runs
    lazy functions for requests the serving process has already verified and acknowledged.

    Lazy listener functions run on a pool of ``settings.worker_threads`` threads unless the caller hands them
    to worker processes (``bot.workers.use_worker_pool``).
    """
    verify = not socket_mode and not worker
    if verify:
        settings.require("slack_signing_secret")
    executor = AfterAckExecutor(max_workers=settings.worker_threads, thread_name_prefix="after-ack")
    oauth: dict[str, Any] = {}
    if services.oauth is not None:
        from bot.oauth_app import oauth_flow

        # Each request is authorized with its workspace's installation; /slack/install and /slack/oauth_redirect
        # are Bolt's OAuth flow (bot/http.py routes them).
        oauth = {
            "authorize": services.oauth.authorize,
            "user_facing_authorize_error_message": NOT_INSTALLED,
            "oauth_flow": oauth_flow(settings, services.oauth, services.uow_factory, services.clock),
        }
    app = App(
        client=client or services.client,
        signing_secret=settings.secret("slack_signing_secret") if settings.slack_signing_secret else "",
        request_verification_enabled=verify,
        token_verification_enabled=False,  # build_services already ran auth.test
        raise_error_for_unhandled_request=False,
        # Every ack function returns at once and leaves the rest to lazy functions: acknowledging on the request
        # thread skips Bolt's hand-off to a listener thread and its 10 ms polling for the ack.
        process_before_response=True,
        listener_executor=executor,
        **oauth,
    )
    app.listener_runner.lazy_listener_runner = LaneLazyListenerRunner(logging.getLogger("slack_bolt.App"), executor)

    # Bolt logs the whole body of a request whose signature fails, at INFO (tokens, response_urls, megabytes);
    # bot/http.py refuses such requests first with one short line, so nothing of Bolt's is lost here.
    logging.getLogger("slack_bolt.RequestVerification").setLevel(logging.WARNING)

    @app.middleware
    def inject_services(context: Any, next: Any) -> None:  # noqa: A002 - Bolt's middleware signature
        context["services"] = services
        next()

    @app.middleware
    def acknowledge_rate_limit_notice(body: dict[str, Any], next: Any) -> BoltResponse | None:  # noqa: A002
        """Slack's notice that it is dropping events (not an event_callback): log it, answer 200, not Bolt's 404."""
        if body.get("type") != "app_rate_limited":
            next()
            return None
        logger.warning(
            "Slack is dropping this app's events: app_rate_limited since minute %s", body.get("minute_rate_limited")
        )
        return BoltResponse(status=200, body="")

    @app.error
    def on_error(
        error: Exception, body: dict[str, Any], client: WebClient, context: Any, respond: Any = None
    ) -> BoltResponse | None:
        """Log unexpected failures with a correlation id and tell the user that id, briefly."""
        correlation = uuid.uuid4().hex[:8]
        logger.error("unhandled error %s: %r", correlation, error, exc_info=error)
        if context.get("authorize_result") is None:
            # The request never passed signature verification and authorisation (e.g. a malformed timestamp):
            # never contact Slack on behalf of an unverified request.
            return None
        message = build_error(f"Something went wrong on our side (reference `{correlation}`). Please try again in a minute.")
        try:
            if body.get("response_url") and respond is not None:
                respond(text=message.text, blocks=message.blocks, response_type="ephemeral", replace_original=False)
            elif (user := (body.get("user") or {}).get("id") or body.get("user_id")) and (
                channel := (body.get("channel") or {}).get("id") or body.get("channel_id")
            ):
                client.chat_postEphemeral(channel=channel, user=user, text=message.text, blocks=message.blocks)
        except (SlackApiError, OSError) as exc:
            logger.warning("could not tell the user about error %s: %s", correlation, exc)
        return None

    handlers.register_all(app)

    # Registered last, so it only matches what no handler did: a button from an older version of a message.
    @app.action(re.compile(".*"))
    def acknowledge_unknown_action(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        action = (body.get("actions") or [{}])[0]
        logger.info("no listener for action %r; acknowledged", str(action.get("action_id") or body.get("callback_id")))

    return app

"""``POST /api/v1/kpis/values`` on ``partnerpulse serve`` (DESIGN 3.6): a ticketing or monitoring system pushes
a partnership's KPI figures with that partnership's bearer token (``bot.services.api_tokens``).

The request is checked in this order, each refusal a JSON answer with nothing saved: another method 405; a
missing, unknown or revoked token 401 (the token names the partnership, so another partnership's KPI keys are
simply unknown); a body that is not ``application/json`` 415; a body over ``MAX_API_BODY_BYTES`` 413, refused from
its Content-Length before any of it is read; a body that is not ``{"values": [...]}`` with well-formed entries, or
entries the service refuses, 400 with every bad entry. A good batch is saved whole (``kpi_values.record_values``)
and answered 200 with how many figures were new and how many replaced a stored one. The log gets one line per
request, never the body or the token.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from slack_bolt.adapter.wsgi.http_response import WsgiHttpResponse

from bot.http import Refused, StartResponse, WsgiApp, read_body
from bot.kpi_entries import ParsedBatch, bad_date, period_end_from
from bot.services import api_tokens
from bot.services.errors import NotFound
from bot.services.kpi_models import KpiSource, KpiValueInput
from bot.services.kpi_value_models import ValueProblem
from bot.services.kpi_values import FiguresRefused
from storage.uow import UowFactory

logger = logging.getLogger(__name__)

VALUES_PATH = "/api/v1/kpis/values"
#: The largest body taken: about 500 figures with short notes, far more than one push needs.
MAX_API_BODY_BYTES = 64 * 1024
_SHAPE = 'Send a JSON object {"values": [{"kpi": KEY, "period_end": "YYYY-MM-DD", "value": NUMBER, "note": TEXT}]}.'


class _BadRequest(Exception):
    def __init__(self, status: int, error: str, problems: Iterable[ValueProblem] = ()) -> None:
        super().__init__(error)
        self.status, self.error, self.problems = status, error, tuple(problems)


def _answer(start_response: StartResponse, status: int, payload: dict[str, Any], **headers: str) -> Iterable[bytes]:
    all_headers: dict[str, Sequence[str]] = {"content-type": ["application/json"]}
    all_headers.update((name.replace("_", "-"), [value]) for name, value in headers.items())
    response = WsgiHttpResponse(status=status, headers=all_headers, body=json.dumps(payload))
    start_response(response.status, response.get_headers())
    return response.get_body()


def _problem_json(problem: ValueProblem) -> dict[str, Any]:
    return {
        "index": problem.index,
        "kpi": problem.kpi_key or None,
        "period_end": problem.period_end.isoformat() if problem.period_end else None,
        "error": problem.reason,
        **({"same_as_index": problem.same_as} if problem.same_as is not None else {}),
    }


def _entry(index: int, item: object) -> KpiValueInput | ValueProblem:
    """One entry of ``values`` as an input, or why it is not one."""

    def problem(key: str, reason: str) -> ValueProblem:
        return ValueProblem(index=index, kpi_key=key, period_end=None, reason=reason)

    if not isinstance(item, dict):
        return problem("", 'Each entry must be an object with "kpi", "period_end" and "value".')
    key, end, value, note = item.get("kpi"), item.get("period_end"), item.get("value"), item.get("note")
    if not isinstance(key, str) or not key:
        return problem("", '"kpi" must be the KPI\'s key, as text.')
    if not isinstance(end, str):
        return problem(key, '"period_end" must be a date written as YYYY-MM-DD.')
    period_end = period_end_from(end)
    if period_end is None:
        return bad_date(index, key, end)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return ValueProblem(index=index, kpi_key=key, period_end=period_end, reason='"value" must be a number.')
    if note is not None and not isinstance(note, str):
        return ValueProblem(index=index, kpi_key=key, period_end=period_end, reason='"note" must be text or null.')
    return KpiValueInput(kpi_key=key, period_end=period_end, value=float(value), note=note)


def parse_values(body: bytes) -> ParsedBatch:
    """The entries of a request body, each well-formed or not; :class:`_BadRequest` (400) for a body that is not
    ``{"values": [...]}``."""
    try:
        document = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise _BadRequest(400, "The body is not valid JSON. " + _SHAPE) from None
    values = document.get("values") if isinstance(document, dict) else None
    if not isinstance(values, list) or not values:
        raise _BadRequest(400, _SHAPE)
    batch = ParsedBatch()
    for index, item in enumerate(values):
        batch.add(index, _entry(index, item))
    return batch


def _bearer(environ: dict[str, Any]) -> str:
    scheme, _, token = str(environ.get("HTTP_AUTHORIZATION") or "").strip().partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def make_kpi_api(uow_factory: UowFactory, clock: Callable[[], datetime]) -> WsgiApp:
    """The WSGI app answering ``VALUES_PATH``."""

    def handle(environ: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if environ.get("REQUEST_METHOD") != "POST":
            raise _BadRequest(405, "Use POST.")
        token = _bearer(environ)
        caller = api_tokens.authenticate(uow_factory, token, now=clock()) if token else None
        if caller is None:
            raise _BadRequest(401, "Send a valid token of the partnership: Authorization: Bearer <token>.")
        content_type = str(environ.get("CONTENT_TYPE") or "").partition(";")[0].strip().lower()
        if content_type != "application/json":
            raise _BadRequest(415, "Send the figures as JSON (Content-Type: application/json).")
        try:
            body = read_body(environ, MAX_API_BODY_BYTES)
        except Refused as refused:
            raise _BadRequest(refused.status, f"The body can be at most {MAX_API_BODY_BYTES:,} bytes.") from None
        batch = parse_values(body)
        try:
            result = batch.save(
                uow_factory, caller.partnership_id, source=KpiSource.API, recorded_by=caller.label, now=clock()
            )
        except FiguresRefused as refused:
            raise _BadRequest(400, str(refused), refused.problems) from None
        except NotFound:
            raise _BadRequest(401, "This token's partnership no longer exists.") from None
        return 200, {"ok": True, "new": result.new, "replaced": result.replaced}

    def api(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        try:
            status, payload = handle(environ)
        except _BadRequest as bad:
            logger.info(
                "refused %s %s: HTTP %s, %s (%s bytes)",
                environ.get("REQUEST_METHOD"),
                environ.get("PATH_INFO"),
                bad.status,
                bad.error,
                environ.get("CONTENT_LENGTH") or "unknown",
            )
            payload = {"ok": False, "error": bad.error}
            if bad.problems:
                payload["errors"] = [_problem_json(p) for p in bad.problems]
            extra = {"WWW_Authenticate": "Bearer"} if bad.status == 401 else {"Allow": "POST"} if bad.status == 405 else {}
            return _answer(start_response, bad.status, payload, **extra)
        logger.info("kpi figures pushed: %s new, %s replaced", payload["new"], payload["replaced"])
        return _answer(start_response, status, payload)

    return api


def api_routes(uow_factory: UowFactory, clock: Callable[[], datetime]) -> dict[str, WsgiApp]:
    """The HTTP API's paths and their apps, for ``bot.http.make_server``."""
    return {VALUES_PATH: make_kpi_api(uow_factory, clock)}

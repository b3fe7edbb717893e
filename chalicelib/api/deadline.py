"""The request deadline: every API request runs inside one `deadline_scope(REQUEST_DEADLINE_SECONDS)`.

Registered through its blueprint in app.py, so it wraps every route's view; the employer authorizer opens
its own scope (it runs before the view, as its own Lambda when deployed). See `chalicelib/deadline.py`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalice import Blueprint, Response

from chalicelib.deadline import deadline_scope
from chalicelib.settings import get_settings

deadline_blueprint = Blueprint(__name__)


@deadline_blueprint.middleware("http")
def request_deadline(event: Any, get_response: Callable[[Any], Response]) -> Response:
    with deadline_scope(get_settings().request_deadline_seconds):
        return get_response(event)

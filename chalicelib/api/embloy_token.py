"""Routes of this area (to be filled in)."""

from __future__ import annotations

from chalice import Blueprint

embloy_token_blueprint = Blueprint(__name__)

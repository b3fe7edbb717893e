"""Routes of this area (to be filled in)."""

from __future__ import annotations

from chalice import Blueprint

frontend_blueprint = Blueprint(__name__)

"""Event handlers of this area (to be filled in)."""

from __future__ import annotations

from chalice import Blueprint

sync_worker_blueprint = Blueprint(__name__)

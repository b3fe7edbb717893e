"""CORS for browser frontends on another origin, restricted to the configured origins.

Use it on the routes a cross-origin frontend calls:

    @board_blueprint.route("/jobs", methods=["GET"], cors=cors_config())

With `CORS_ORIGINS` unset (the default: the board's own frontend is served from the same origin) it returns
None and the route gets no CORS headers. API Gateway answers the preflight `OPTIONS` with one static origin,
so only the first configured origin is allowed; list the frontend's origin first. The value is read when
the app is imported, so `chalice package` bakes the stage's `CORS_ORIGINS` into the API definition.
"""

from __future__ import annotations

from chalice import CORSConfig

from chalicelib.settings import get_settings

# Request headers a frontend sends: employer routes (Authorization), JSON bodies, native applications.
ALLOWED_HEADERS = ("Authorization", "Content-Type", "Idempotency-Key")
# Response headers a frontend may read (throttling and upstream-unavailable answers carry Retry-After).
EXPOSED_HEADERS = ("Retry-After",)
PREFLIGHT_MAX_AGE_SECONDS = 600


def cors_config() -> CORSConfig | None:
    """A CORSConfig for the first configured origin, or None when no origin is configured."""
    origins = get_settings().cors_origins
    if not origins:
        return None
    return CORSConfig(
        allow_origin=origins[0],
        allow_headers=list(ALLOWED_HEADERS),
        expose_headers=list(EXPOSED_HEADERS),
        max_age=PREFLIGHT_MAX_AGE_SECONDS,
    )

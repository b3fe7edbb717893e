"""The digest schedule is registered on the app at the rate its setting names."""

from __future__ import annotations

from chalice.app import ScheduledEventConfig

from chalicelib.settings import get_settings


def test_send_alert_digests_runs_on_the_configured_rate() -> None:
    import app
    from chalicelib.jobs import alert_digests

    schedules = {
        source.name: source.schedule_expression
        for source in app.app.event_sources
        if isinstance(source, ScheduledEventConfig)
    }
    minutes = get_settings().alert_digest_schedule_minutes
    assert alert_digests.ALERT_DIGEST_RATE_MINUTES == minutes == 14
    # Instant alerts: one interval plus the settle margin stays under 15 minutes.
    assert minutes * 60 + get_settings().alert_digest_settle_seconds < 15 * 60
    expression = schedules["send_alert_digests"]
    assert not isinstance(expression, str)
    assert expression.to_string() == f"rate({minutes} minutes)"
    assert app.send_alert_digests is alert_digests.send_alert_digests

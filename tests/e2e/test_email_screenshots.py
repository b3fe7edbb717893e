"""Every email template, rendered as sent, in Chromium at phone width: a screenshot each, no sideways
scrolling, and only absolute http(s) links.

Templates are discovered from chalicelib/emails/ (every `<name>.html` not starting with `_`); their sample
contexts live in tests/e2e/email_samples.py, and a template without one fails here by name.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from chalicelib.services.email import TEMPLATE_DIR, EmailRenderer
from tests.e2e.conftest import ARTIFACTS, PHONE, open_page
from tests.e2e.email_samples import BOARD, SAMPLES, Sample

SCREENSHOTS = ARTIFACTS / "emails"


def templates() -> list[str]:
    return sorted(path.stem for path in TEMPLATE_DIR.glob("*.html") if not path.name.startswith("_"))


def test_every_template_has_a_sample_and_every_sample_a_template() -> None:
    missing = [name for name in templates() if not SAMPLES.get(name)]
    assert not missing, f"email templates without a sample in tests/e2e/email_samples.py: {missing}"
    orphans = sorted(set(SAMPLES) - set(templates()))
    assert not orphans, f"samples in tests/e2e/email_samples.py for no template: {orphans}"
    for name in templates():
        assert (TEMPLATE_DIR / f"{name}.txt").exists(), f"{name} has no plain-text part ({name}.txt)"


def render(name: str, sample: Sample) -> tuple[str, str]:
    renderer = EmailRenderer(board_name="Unified Job Board", public_base_url=BOARD)
    rendered = renderer.render(
        name, to="reader@example.org", subject=sample.subject, context=sample.context, headers=sample.headers
    )
    return rendered.html, rendered.text


@pytest.mark.parametrize("name", templates())
def test_each_email_reads_on_a_phone_without_sideways_scrolling(browser: Any, name: str) -> None:
    samples = SAMPLES.get(name)
    if not samples:
        pytest.fail(
            f"no sample context for the email template {name!r}: add one to tests/e2e/email_samples.py"
        )
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for sample in samples:
        html, text = render(name, sample)
        assert text.strip()
        # Mail clients run no scripts: neither does this page.
        context, page = open_page(browser, PHONE, javascript=False)
        try:
            page.set_content(html, wait_until="load")
            shot_name = f"{name}-{sample.variant}" if sample.variant else name
            path: Path = SCREENSHOTS / f"{shot_name}.png"
            page.screenshot(path=str(path), full_page=True)
            assert path.stat().st_size > 0
            widths = page.evaluate(
                "() => ({scroll: document.documentElement.scrollWidth, view: window.innerWidth})"
            )
            assert widths["scroll"] <= widths["view"], (
                f"{shot_name} scrolls sideways at phone width: {widths}"
            )
            wide = page.evaluate(
                "() => [...document.body.querySelectorAll('*')]"
                ".filter((el) => el.getBoundingClientRect().right > window.innerWidth + 0.5)"
                ".map((el) => el.tagName + '.' + el.className)"
            )
            assert wide == [], f"{shot_name}: elements overflow the phone's width: {wide}"
            hrefs = page.evaluate(
                "() => [...document.querySelectorAll('a')].map((a) => a.getAttribute('href'))"
            )
            assert hrefs, f"{shot_name} has no links"
            for href in hrefs:
                assert href and href.startswith(("https://", "http://")), (
                    f"{shot_name}: relative link {href!r}"
                )
        finally:
            context.close()

"""RSS 2.0 and sitemap documents for the live board (plain string building, escaped)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from email.utils import format_datetime
from xml.sax.saxutils import escape

from chalicelib.services.board import shaping
from chalicelib.services.board.engine import Hit
from chalicelib.services.board.markup import xml_chars

SITEMAP_MAX_URLS = 50_000  # the sitemap protocol's per-file limit
# The largest `GET /sitemap.xml?page=N` the API takes (far past any board's size).
MAX_SITEMAP_PAGE = 100_000


def _text(value: str) -> str:
    # XML 1.0 forbids some characters even when escaped (controls, U+FFFE/U+FFFF, lone surrogates).
    return escape(xml_chars(value))


def _attr(value: str) -> str:
    return escape(xml_chars(value), {'"': "&quot;"})


def _rfc822(moment: datetime) -> str:
    return format_datetime(moment.astimezone(UTC), usegmt=True)


def rss(hits: Iterable[Hit], *, board_name: str, public_base_url: str, self_url: str) -> str:
    """An RSS 2.0 channel with one item per posting, newest first (same board, same bytes)."""
    items: list[str] = []
    newest: datetime | None = None
    for hit in hits:
        summary = hit.summary
        url = shaping.job_url(public_base_url, hit.job_id)
        posted = (
            datetime.fromisoformat(summary["posted_at"].replace("Z", "+00:00"))
            if summary["posted_at"]
            else None
        )
        if posted and (newest is None or posted > newest):
            newest = posted
        title = f"{summary['title']} at {summary['company']}"
        items.append(
            "<item>"
            f"<title>{_text(title)}</title>"
            f"<link>{_text(url)}</link>"
            f'<guid isPermaLink="true">{_text(url)}</guid>'
            + (f"<pubDate>{_rfc822(posted)}</pubDate>" if posted else "")
            + f"<description>{_text(hit.excerpt)}</description>"
            + (f"<category>{_text(summary['department'])}</category>" if summary["department"] else "")
            + "</item>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel>'
        f"<title>{_text(board_name)}</title>"
        f"<link>{_text(public_base_url)}</link>"
        f"<description>{_text(f'Newest jobs on {board_name}')}</description>"
        f'<atom:link href="{_attr(self_url)}" rel="self" type="application/rss+xml"/>'
        + (f"<lastBuildDate>{_rfc822(newest)}</lastBuildDate>" if newest else "")
        + "".join(items)
        + "</channel></rss>\n"
    )


def sitemap(hits: Iterable[Hit], *, public_base_url: str) -> str:
    """A sitemap with one <url> per live posting and its last modification date."""
    urls: list[str] = []
    for hit in hits:
        url = shaping.job_url(public_base_url, hit.job_id)
        lastmod = ""
        if hit.lastmod:
            modified = datetime.fromisoformat(hit.lastmod.replace("Z", "+00:00"))
            lastmod = f"<lastmod>{modified.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%SZ')}</lastmod>"
        urls.append(f"<url><loc>{_text(url)}</loc>{lastmod}</url>")
        if len(urls) >= SITEMAP_MAX_URLS:
            break
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">' + "".join(urls) + "</urlset>\n"
    )


def sitemap_index(sitemap_urls: Iterable[str]) -> str:
    """A sitemap index listing the board's sitemaps (used past SITEMAP_MAX_URLS postings)."""
    entries = "".join(f"<sitemap><loc>{_text(url)}</loc></sitemap>" for url in sitemap_urls)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">' + entries + "</sitemapindex>\n"
    )

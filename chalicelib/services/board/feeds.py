"""RSS 2.0 and sitemap documents for the live board (plain string building, escaped)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from email.utils import format_datetime
from xml.sax.saxutils import escape

from chalicelib.services.board import shaping
from chalicelib.services.board.index import Entry

_EXCERPT_CHARS = 300
SITEMAP_MAX_URLS = 50_000  # the sitemap protocol's per-file limit


def _text(value: str) -> str:
    # XML 1.0 forbids most control characters even when escaped.
    cleaned = "".join(char for char in value if char >= " " or char in "\t\n\r")
    return escape(cleaned)


def _attr(value: str) -> str:
    return escape(value, {'"': "&quot;"})


def _excerpt(entry: Entry) -> str:
    plain = " ".join(entry.posting.content_plain.split())
    if len(plain) > _EXCERPT_CHARS:
        plain = plain[:_EXCERPT_CHARS].rsplit(" ", 1)[0] + "…"
    where = ", ".join(entry.summary["locations"]) or ("Remote" if entry.posting.remote else "")
    head = " · ".join(part for part in (entry.posting.company, where) if part)
    return f"{head}. {plain}" if plain else head


def _rfc822(moment: datetime) -> str:
    return format_datetime(moment.astimezone(UTC), usegmt=True)


def rss(entries: Iterable[Entry], *, board_name: str, public_base_url: str, self_url: str) -> str:
    """An RSS 2.0 channel with one item per posting, newest first (same board, same bytes)."""
    items: list[str] = []
    newest: datetime | None = None
    for entry in entries:
        posting = entry.posting
        url = shaping.job_url(public_base_url, posting.job_id)
        posted = shaping.posted_at(posting)
        if posted and (newest is None or posted > newest):
            newest = posted
        items.append(
            "<item>"
            f"<title>{_text(f'{posting.title} at {posting.company}')}</title>"
            f"<link>{_text(url)}</link>"
            f'<guid isPermaLink="true">{_text(url)}</guid>'
            + (f"<pubDate>{_rfc822(posted)}</pubDate>" if posted else "")
            + f"<description>{_text(_excerpt(entry))}</description>"
            + (f"<category>{_text(posting.department)}</category>" if posting.department else "")
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


def sitemap(entries: Iterable[Entry], *, public_base_url: str) -> str:
    """A sitemap with one <url> per live posting and its last modification date."""
    urls: list[str] = []
    for entry in entries:
        posting = entry.posting
        url = shaping.job_url(public_base_url, posting.job_id)
        modified = posting.updated_at or posting.changed_at or shaping.posted_at(posting)
        lastmod = (
            f"<lastmod>{modified.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%SZ')}</lastmod>"
            if modified
            else ""
        )
        urls.append(f"<url><loc>{_text(url)}</loc>{lastmod}</url>")
        if len(urls) >= SITEMAP_MAX_URLS:
            break
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">' + "".join(urls) + "</urlset>\n"
    )

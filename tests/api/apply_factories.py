"""Factories for the apply and applications tests: postings, tokens, files and request bodies."""

from __future__ import annotations

import base64
import io
import json
import zipfile
from datetime import UTC, datetime
from typing import Any

from chalicelib import deps
from chalicelib.aws.posting_items import posting_to_item
from chalicelib.models.posting import (
    Posting,
    Question,
    QuestionCondition,
    Questionnaire,
    QuestionOption,
    make_job_id,
)
from chalicelib.settings import get_settings

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def make_questionnaire() -> Questionnaire:
    """A questionnaire with every question type, one condition and one required question."""
    return Questionnaire(
        id="qn1",
        name="Screening",
        questions=[
            Question(id="q_text", text="Why us?", type="short_text", required=True),
            Question(id="q_long", text="Tell us more", type="long_text"),
            Question(id="q_num", text="Years of experience", type="number"),
            Question(id="q_date", text="Start date", type="date"),
            Question(id="q_bool", text="Right to work?", type="boolean", required=True),
            Question(id="q_url", text="Portfolio", type="url"),
            Question(
                id="q_single",
                text="Relocate?",
                type="single_select",
                options=[QuestionOption(id="yes", text="Yes"), QuestionOption(id="no", text="No")],
            ),
            Question(
                id="q_multi",
                text="Languages",
                type="multi_select",
                options=[QuestionOption(id="py", text="Python"), QuestionOption(id="go", text="Go")],
            ),
            Question(id="q_file", text="Cover letter", type="attachment"),
            Question(
                id="q_where",
                text="Where to?",
                type="short_text",
                required=True,
                condition=QuestionCondition(parent_question_id="q_single", option_ids=["yes"]),
            ),
        ],
    )


def make_posting(**overrides: Any) -> Posting:
    account_id = overrides.pop("account_id", "acct-ashby-1")
    posting_id = overrides.pop("posting_id", "post-1")
    fields: dict[str, Any] = {
        "job_id": make_job_id(account_id, posting_id),
        "account_id": account_id,
        "posting_id": posting_id,
        "remote_id": "0a1b2c3d-ashby-posting",
        "stackone_job_id": "job-1",
        "employer_id": "emp-a",
        "company": "Acme Robotics",
        "provider": "ashby",
        "title": "Robot Whisperer",
        "external_apply_url": "https://jobs.ashbyhq.com/acme/0a1b2c3d/application",
        "questionnaires": [],
        "changed_at": NOW,
        "status": "live",
    }
    fields.update(overrides)
    return Posting.model_validate(fields)


def store_posting(posting: Posting) -> Posting:
    deps.get_table().put_item(Item=posting_to_item(posting))
    return posting


def store_stackone_key(value: str = "v1.eu1.test-stackone-key") -> None:
    deps.get_secrets_client().create_secret(
        Name=get_settings().stackone_api_key_secret_name, SecretString=value
    )


def store_sync_state(account_id: str, employer_id: str = "emp-a") -> None:
    deps.get_table().put_item(
        Item={
            "PK": f"ACCOUNT#{account_id}",
            "SK": "SYNC",
            "doc": json.dumps({"account_id": account_id}),
            "employer_id": employer_id,
        }
    )


def make_client_token(*, exp: float = 4102444800, sub: int = 7, marker: str = "") -> str:
    """An Embloy-shaped client token (HS256 JWT; the signature is opaque to the board)."""

    def segment(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    payload = {"sub": sub, "typ": "enterprise_3", "iat": 1700000000, "exp": exp, "iss": "api.embloy.com"}
    if marker:
        payload["marker"] = marker
    return f"{segment({'alg': 'HS256', 'typ': 'JWT'})}.{segment(payload)}.c2lnbmF0dXJlLXNlY3JldA"


def b64(content: bytes) -> str:
    return base64.b64encode(content).decode()


def zip_bytes(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


DOCX = zip_bytes({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"})
ODT = zip_bytes({"mimetype": b"application/vnd.oasis.opendocument.text", "content.xml": b"<office/>"})
DOC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504
RTF = b"{\\rtf1\\ansi Hello}"
TXT = "Ada Lovelace\nAnalyst — engines\u00a0and\ttables\n".encode()


def application_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "candidate": {
            "first_name": "Ada",
            "last_name": "Lovelace",
            "email": "ada@example.com",
            "phone": "+44 7700 900123",
            "links": [{"type": "linkedin", "url": "https://www.linkedin.com/in/ada"}],
        },
        "answers": {},
        "resume": {"filename": "cv.pdf", "content_base64": b64(PDF)},
    }
    body.update(overrides)
    return body


def json_headers(**extra: str) -> dict[str, str]:
    return {"Content-Type": "application/json", **extra}

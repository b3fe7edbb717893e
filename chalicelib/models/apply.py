"""Request and response models of the apply routes (API models; stored records live elsewhere)."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, StringConstraints, Tag, field_validator
from pydantic.config import JsonDict

# Pragmatic address check (RFC 5321 lengths, one @, a dotted domain); deliverability is the ATS's business.
# The field's 254-character limit keeps the domain within RFC 1035's 253.
_EMAIL_PATTERN = (
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)
_EMAIL = re.compile(_EMAIL_PATTERN)
# Digits, spaces and + ( ) . / -, at least three digits (the field's max_length bounds the whole).
_PHONE_PATTERN = r"^\+?[ ()./-]*[0-9][ ()./-]*[0-9][ ()./-]*[0-9][0-9 ()./-]*$"
_PHONE = re.compile(_PHONE_PATTERN)


def is_email_address(value: str) -> bool:
    """The board's one check of an email address (candidates, alerts, employers' notification addresses)."""
    return len(value) <= 254 and _EMAIL.match(value) is not None


_URL = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)


# The characters `str_strip_whitespace` trims (Unicode White_Space, as pydantic-core's Rust `trim`), not
# `\s`: in Python's regular expressions that also covers \x1c-\x1f, in ECMAScript's \ufeff.
WHITESPACE = r"[\t\n\x0b\f\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
NOT_WHITESPACE = "[^" + WHITESPACE[1:]
# Python's own `\s` (str.isspace()), spelled out: the document's readers (JSON Schema tools, ECMAScript)
# give `\s` a smaller set, so a pattern our Python regexes check with `\s` states it like this.
PYTHON_WHITESPACE = r"[\t\n\x0b\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
_PY_WS = PYTHON_WHITESPACE[1:-1]
# _URL for the document: no inline flags, and its `\s` as Python reads it.
_URL_PATTERN = f"^[hH][tT][tT][pP][sS]?://[^{_PY_WS}/$.?#][^{_PY_WS}]*$"


def _padded(pattern: str) -> str:
    """`pattern` as the document states it: request strings are stripped of surrounding whitespace first."""
    body = pattern.removeprefix("^").removesuffix("$")
    return f"^{WHITESPACE}*(?:{body}){WHITESPACE}*$"


# An email address as the document states it (surrounding whitespace is stripped before the check).
EMAIL_PATTERN = _padded(_EMAIL_PATTERN)


# What the validators below check, stated in the API document (JSON Schema) so clients and generated
# tests know which strings are accepted; the validators keep their own error messages.
_NOT_BLANK: JsonDict = {"pattern": NOT_WHITESPACE}
_PLAIN_FILE_NAME: JsonDict = {
    "pattern": r"^[^/\\\x00]*$",
    "not": {"pattern": _padded(r"^\.{1,2}$")},
}


def any_case(word: str) -> str:
    """`word` as a case-insensitive regular expression (JSON Schema patterns have no flags)."""
    return "".join(f"[{char.lower()}{char.upper()}]" if char.isalpha() else re.escape(char) for char in word)


# File types a resume or attachment may have, by extension (any case); the content must match it.
ALLOWED_FORMATS = ("pdf", "doc", "docx", "odt", "rtf", "txt")
# A plain file name with one of those extensions (422 unsupported_file_type otherwise).
_DOCUMENT_FILE_NAME: JsonDict = {
    **_PLAIN_FILE_NAME,
    "pattern": _padded(r"^[^/\\\x00]*\.(?:" + "|".join(map(any_case, ALLOWED_FORMATS)) + r")$"),
}


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def plain_file_name(value: str) -> str:
    """A file name without directories (it becomes the document's name in the ATS)."""
    if any(char in value for char in "/\\\x00") or value in (".", ".."):
        raise ValueError("must be a plain file name")
    return value


class DocumentIn(_Request):
    """A file sent inline: name plus standard base64 content (size and type are checked by content)."""

    filename: str = Field(min_length=1, max_length=255, json_schema_extra={**_DOCUMENT_FILE_NAME})
    content_base64: str = Field(min_length=1, json_schema_extra={**_NOT_BLANK})

    @field_validator("filename")
    @classmethod
    def _plain_name(cls, value: str) -> str:
        return plain_file_name(value)


_UPLOAD_ID = r"^[0-9a-f]{32}$"


class UploadedDocumentIn(_Request):
    """A resume already uploaded to S3 through POST /jobs/{job_id}/resume-uploads (for files of any
    allowed size; inline base64 is limited by Lambda's 6 MB request payload)."""

    filename: str = Field(min_length=1, max_length=255, json_schema_extra={**_DOCUMENT_FILE_NAME})
    upload_id: str = Field(pattern=_UPLOAD_ID)

    @field_validator("filename")
    @classmethod
    def _plain_name(cls, value: str) -> str:
        return plain_file_name(value)


class ResumeUploadRequest(_Request):
    """Body of POST /jobs/{job_id}/resume-uploads: the file's name (its extension picks the type)."""

    filename: str = Field(min_length=1, max_length=255, json_schema_extra={**_DOCUMENT_FILE_NAME})

    @field_validator("filename")
    @classmethod
    def _plain_name(cls, value: str) -> str:
        return plain_file_name(value)


class ResumeUploadResponse(BaseModel):
    """A presigned POST: send `fields` then the file as `file` in one multipart form to `url`."""

    upload_id: str
    url: str
    fields: dict[str, str]
    max_bytes: int
    expires_in: int


class LinkIn(_Request):
    type: str | None = Field(None, max_length=40)  # e.g. linkedin, github, portfolio
    url: str = Field(max_length=2000, json_schema_extra={"pattern": _padded(_URL_PATTERN)})

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not _URL.match(value):
            raise ValueError("must be an http(s) URL")
        return value


class CandidateIn(_Request):
    first_name: str = Field(min_length=1, max_length=100, json_schema_extra={**_NOT_BLANK})
    last_name: str = Field(min_length=1, max_length=100, json_schema_extra={**_NOT_BLANK})
    email: str = Field(max_length=254, json_schema_extra={"pattern": EMAIL_PATTERN})
    phone: str | None = Field(None, max_length=40, json_schema_extra={"pattern": _padded(_PHONE_PATTERN)})
    links: list[LinkIn] = Field(default_factory=list, max_length=10)

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        if not _EMAIL.match(value):
            raise ValueError("must be a valid email address")
        return value

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        if value is not None and (not _PHONE.match(value) or sum(c.isdigit() for c in value) < 3):
            raise ValueError("must be a phone number (digits, spaces, + ( ) . / -)")
        return value or None


class AnswerIn(_Request):
    """One answer in list form; `questionnaire_id` is needed only when question ids repeat across them."""

    question_id: str = Field(min_length=1, max_length=200, json_schema_extra={**_NOT_BLANK})
    questionnaire_id: str | None = Field(None, max_length=200)
    value: Any = None


MAX_ANSWERS = 200
# A question id as a key of `answers` (the map form): what AnswerIn.question_id accepts, checked here at
# the edge so a blank or over-long key is a 400 like any other bad field.
QuestionId = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"\S")]


def _question_id_keys(schema: JsonDict) -> None:
    """State QuestionId's keys as `propertyNames` (pydantic renders a key pattern as patternProperties,
    which constrains values, not keys)."""
    schema.pop("patternProperties", None)
    schema["propertyNames"] = {"minLength": 1, "maxLength": 200, "pattern": NOT_WHITESPACE}


def _resume_kind(value: Any) -> str:
    """Which resume shape was sent, so a bad resume is reported against that shape alone."""
    uploaded = (isinstance(value, dict) and "upload_id" in value) or isinstance(value, UploadedDocumentIn)
    return "UploadedDocumentIn" if uploaded else "DocumentIn"


class NativeApplicationRequest(_Request):
    """Body of POST /jobs/{job_id}/applications.

    `answers` is either `{question_id: value}` or `[{"questionnaire_id"?, "question_id", "value"}]`.
    Values: text/url/date as strings, number as a number, boolean as true/false, single_select as an
    option id, multi_select as a list of option ids, attachment as `{filename, content_base64}`.
    `resume` is either inline (`{filename, content_base64}`) or an upload (`{filename, upload_id}`).
    """

    candidate: CandidateIn
    answers: (
        Annotated[dict[QuestionId, Any], Field(max_length=MAX_ANSWERS, json_schema_extra=_question_id_keys)]
        | Annotated[list[AnswerIn], Field(max_length=MAX_ANSWERS)]
    ) = Field(default_factory=dict)
    resume: Annotated[
        Annotated[DocumentIn, Tag("DocumentIn")] | Annotated[UploadedDocumentIn, Tag("UploadedDocumentIn")],
        Discriminator(_resume_kind),
    ]


class EmbloyApplyRequest(_Request):
    """Body of POST /jobs/{job_id}/apply/embloy: optional and empty (`{}`, an empty form or nothing).

    The posting in the path says everything Embloy needs; a field here is a client mistake, refused (400)
    before Embloy is called or a click is counted.
    """


class EmbloyRedirectResponse(BaseModel):
    url: str


class ApplicationCreatedResponse(BaseModel):
    # null when the ATS accepted the application but StackOne did not say its id.
    application_id: str | None


class ApplicationPendingResponse(BaseModel):
    """StackOne gave up after its 60 s lifetime (408): the application may or may not exist in the ATS."""

    status: Literal["pending_confirmation"] = "pending_confirmation"
    message: str = (
        "The employer's system is slow to confirm this application. It may already have been received; "
        "please do not submit it again."
    )
    reference: str

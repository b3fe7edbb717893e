"""Validation of a native application against its posting, and the StackOne body it becomes.

Failures raise InvalidRequestError/UnprocessableError/PayloadTooLargeError with `fields` naming the
offending field, so the frontend can show each message next to its input.
"""

from __future__ import annotations

import base64
import binascii
import io
import math
import re
import zipfile
from dataclasses import dataclass
from datetime import date
from typing import Any

from pydantic import ValidationError

from chalicelib.errors import PayloadTooLargeError, UnprocessableError
from chalicelib.models.apply import ALLOWED_FORMATS, AnswerIn, DocumentIn, NativeApplicationRequest
from chalicelib.models.posting import Posting, Question, Questionnaire

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ODT_MIME = b"application/vnd.oasis.opendocument.text"
# Control characters other than tab, line feed, form feed and carriage return never occur in plain text.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_URL = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)
MAX_TEXT = {"short_text": 1000, "long_text": 20000}


def _unprocessable(field: str, message: str, code: str = "invalid_application") -> UnprocessableError:
    return UnprocessableError(f"{field}: {message}", code=code, fields={field: message})


class Problems:
    """Every field error of one application, so the candidate sees them all at once (one 422)."""

    def __init__(self) -> None:
        self.errors: list[UnprocessableError] = []

    def add(self, error: UnprocessableError) -> None:
        self.errors.append(error)

    def raise_if_any(self) -> None:
        if not self.errors:
            return
        if len(self.errors) == 1:
            raise self.errors[0]
        fields: dict[str, str] = {}
        for error in self.errors:
            for field, message in error.fields.items():
                fields.setdefault(field, message)
        codes = {error.code for error in self.errors}
        code = codes.pop() if len(codes) == 1 else "invalid_application"
        listed = "; ".join(f"{field}: {message}" for field, message in fields.items())
        raise UnprocessableError(f"{len(fields)} answers need attention: {listed}", code=code, fields=fields)


def _too_large(field: str, limit: int) -> PayloadTooLargeError:
    size = f"{limit / (1024 * 1024):g} MB" if limit >= 1024 * 1024 else f"{limit} bytes"
    message = f"must be at most {size}"
    error = PayloadTooLargeError(f"{field}: {message}", code="file_too_large")
    error.details = {"fields": {field: message}}  # type: ignore[attr-defined]
    return error


def _detect_format(content: bytes) -> str | None:
    """The file's real format from its first bytes (and, for zip containers, their entries)."""
    if content.startswith(b"%PDF-"):
        return "pdf"
    if content.startswith(_OLE_MAGIC):
        return "doc"
    if content.startswith(b"{\\rtf"):
        return "rtf"
    if content.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(content)) as archive:
                names = set(archive.namelist())
                if "[Content_Types].xml" in names and "word/document.xml" in names:
                    return "docx"
                if (
                    "mimetype" in names
                    and archive.getinfo("mimetype").file_size < 100
                    and archive.read("mimetype").strip() == _ODT_MIME
                ):
                    return "odt"
        except (zipfile.BadZipFile, KeyError, OSError, RuntimeError):
            return None
        return None
    try:
        text = content.removeprefix(b"\xef\xbb\xbf").decode("utf-8")
    except UnicodeDecodeError:
        return None
    if text and not _CONTROL.search(text):
        return "txt"
    return None


@dataclass(frozen=True)
class CheckedDocument:
    filename: str
    file_format: str
    content_base64: str  # normalised (no whitespace)
    size: int


# The Content-Type an upload of each format is bound to (the POST policy requires exactly this value).
CONTENT_TYPES = {
    "pdf": "application/pdf",
    "doc": "application/msword",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "odt": "application/vnd.oasis.opendocument.text",
    "rtf": "application/rtf",
    "txt": "text/plain",
}


def file_extension(filename: str, field: str) -> str:
    """The file's allowed extension (lower case), or UnprocessableError(unsupported_file_type)."""
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if extension not in ALLOWED_FORMATS:
        raise _unprocessable(
            f"{field}.filename",
            f"must end in one of: {', '.join('.' + f for f in ALLOWED_FORMATS)}",
            code="unsupported_file_type",
        )
    return extension


def check_content(filename: str, content: bytes, field: str, *, max_bytes: int) -> CheckedDocument:
    """Check a file's bytes (an upload): allowed extension, size limit, content matching the extension."""
    extension = file_extension(filename, field)
    if not content:
        raise _unprocessable(field, "must not be empty")
    if len(content) > max_bytes:
        raise _too_large(field, max_bytes)
    _check_format(content, extension, field)
    return CheckedDocument(filename, extension, base64.b64encode(content).decode("ascii"), len(content))


def _check_format(content: bytes, extension: str, field: str) -> None:
    detected = _detect_format(content)
    if detected != extension:
        found = f"a {detected.upper()} file" if detected else "not a PDF, DOC, DOCX, ODT, RTF or TXT file"
        raise _unprocessable(field, f"content is {found}, not .{extension}", code="unsupported_file_type")


def check_document(document: DocumentIn, field: str, *, max_bytes: int) -> CheckedDocument:
    """Decode and check one file: allowed extension, size limit, and content matching the extension."""
    extension = file_extension(document.filename, field)
    encoded = "".join(document.content_base64.split())
    if len(encoded) > 4 * math.ceil(max_bytes / 3):
        raise _too_large(f"{field}.content_base64", max_bytes)
    try:
        content = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise _unprocessable(f"{field}.content_base64", "must be standard base64") from exc
    if not content:
        raise _unprocessable(f"{field}.content_base64", "must not be empty")
    if len(content) > max_bytes:
        raise _too_large(f"{field}.content_base64", max_bytes)
    _check_format(content, extension, f"{field}.content_base64")
    return CheckedDocument(document.filename, extension, encoded, len(content))


@dataclass(frozen=True)
class CheckedAnswer:
    questionnaire_id: str
    question: Question
    values: list[str]
    attachment: CheckedDocument | None = None


def _answers_by_question(
    request: NativeApplicationRequest, posting: Posting, problems: Problems
) -> dict[tuple[str, str], Any]:
    """Answers keyed by (questionnaire id, question id); unknown or ambiguous ids are problems."""
    owners: dict[str, list[str]] = {}
    for questionnaire in posting.questionnaires:
        for question in questionnaire.questions:
            owners.setdefault(question.id, []).append(questionnaire.id)
    items: list[AnswerIn]
    if isinstance(request.answers, dict):
        items = [AnswerIn(question_id=key, value=value) for key, value in request.answers.items()]
    else:
        items = request.answers
    answers: dict[tuple[str, str], Any] = {}
    for item in items:
        field = f"answers.{item.question_id}"
        candidates = owners.get(item.question_id, [])
        if item.questionnaire_id is not None:
            candidates = [q for q in candidates if q == item.questionnaire_id]
        if not candidates:
            problems.add(_unprocessable(field, "is not a question of this job", code="unknown_question"))
        elif len(candidates) > 1:
            problems.add(_unprocessable(field, "appears in several questionnaires; give questionnaire_id"))
        elif (candidates[0], item.question_id) in answers:
            problems.add(_unprocessable(field, "is answered twice"))
        else:
            answers[(candidates[0], item.question_id)] = item.value
    return answers


def _is_blank(value: Any) -> bool:
    if isinstance(value, str):
        return not value.strip()
    return value is None or (isinstance(value, list | dict) and not value)


def _condition_holds(question: Question, chosen: dict[str, list[str]]) -> bool:
    condition = question.condition
    if condition is None:
        return True
    parent = chosen.get(condition.parent_question_id)
    if not parent:
        return False
    if condition.condition == "contains":
        return any(option in condition.option_ids for option in parent)
    # equals_to (and unknown condition types): the parent's answer is one of the listed options.
    return len(parent) == 1 and parent[0] in condition.option_ids


def _check_value(question: Question, value: Any, field: str, max_file_bytes: int) -> CheckedAnswer:
    kind = question.type
    option_ids = {option.id for option in question.options}
    if kind in ("short_text", "long_text"):
        if not isinstance(value, str):
            raise _unprocessable(field, "must be text")
        if len(value) > MAX_TEXT[kind]:
            raise _unprocessable(field, f"must be at most {MAX_TEXT[kind]} characters")
        values = [value.strip()]
    elif kind == "number":
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise _unprocessable(field, "must be a number")
        try:
            number = float(value)
        except ValueError as exc:
            raise _unprocessable(field, "must be a number") from exc
        if not math.isfinite(number):
            raise _unprocessable(field, "must be a number")
        values = [str(value).strip()]
    elif kind == "date":
        try:
            values = [date.fromisoformat(str(value)).isoformat()] if isinstance(value, str) else []
        except ValueError:
            values = []
        if not values:
            raise _unprocessable(field, "must be a date (YYYY-MM-DD)")
    elif kind == "boolean":
        if isinstance(value, bool):
            values = ["true" if value else "false"]
        elif isinstance(value, str) and value.lower() in ("true", "false"):
            values = [value.lower()]
        else:
            raise _unprocessable(field, "must be true or false")
    elif kind == "url":
        if not isinstance(value, str) or len(value) > 2000 or not _URL.match(value):
            raise _unprocessable(field, "must be an http(s) URL")
        values = [value]
    elif kind == "single_select":
        chosen = value[0] if isinstance(value, list) and len(value) == 1 else value
        if not isinstance(chosen, str) or chosen not in option_ids:
            raise _unprocessable(field, "must be one of the question's option ids", code="invalid_option")
        values = [chosen]
    elif kind == "multi_select":
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise _unprocessable(field, "must be a list of option ids")
        if len(set(value)) != len(value) or not set(value) <= option_ids:
            raise _unprocessable(
                field, "must list distinct option ids of the question", code="invalid_option"
            )
        values = list(value)
    elif kind == "attachment":
        try:
            document = DocumentIn.model_validate(value)
        except ValidationError as exc:
            raise _unprocessable(field, "must be {filename, content_base64}") from exc
        checked = check_document(document, field, max_bytes=max_file_bytes)
        return CheckedAnswer("", question, [checked.filename], checked)
    else:
        # video, reference_check, unmapped_value ...: forwarded as text, as the ATS described them.
        if not isinstance(value, str) or len(value) > MAX_TEXT["long_text"]:
            raise _unprocessable(field, "must be text")
        values = [value]
    return CheckedAnswer("", question, values)


def check_answers(
    request: NativeApplicationRequest,
    posting: Posting,
    *,
    max_file_bytes: int,
    problems: Problems | None = None,
) -> list[CheckedAnswer]:
    """Answers validated against the posting's questionnaires, in questionnaire order.

    A conditional question counts (and must be answered when required) only when its condition holds;
    answers to questions whose condition does not hold are dropped, not forwarded. Every problem is
    reported in one UnprocessableError (`fields` has one entry per bad answer), together with any already
    in `problems` (e.g. the resume's).
    """
    problems = problems if problems is not None else Problems()
    answers = _answers_by_question(request, posting, problems)
    # Question id -> the option ids chosen for it, so conditions hold whatever the question order.
    chosen: dict[str, list[str]] = {}
    for (_, question_id), value in answers.items():
        raw = [value] if isinstance(value, str) else value
        if isinstance(raw, list):
            chosen[question_id] = [item for item in raw if isinstance(item, str)]
    checked: list[CheckedAnswer] = []
    for questionnaire in posting.questionnaires:
        for question in questionnaire.questions:
            if not _condition_holds(question, chosen):
                continue
            field = f"answers.{question.id}"
            value = answers.get((questionnaire.id, question.id))
            if _is_blank(value):
                if question.required:
                    problems.add(_unprocessable(field, "is required", code="answer_required"))
                continue
            try:
                answer = _check_value(question, value, field, max_file_bytes)
            except UnprocessableError as exc:
                problems.add(exc)
                continue
            checked.append(CheckedAnswer(questionnaire.id, question, answer.values, answer.attachment))
    problems.raise_if_any()
    return checked


def questionnaires_body(
    answers: list[CheckedAnswer], questionnaires: list[Questionnaire]
) -> list[dict[str, Any]]:
    """StackOne's `questionnaires[]`: `{id, answers: [{id, type: {value}, values: [str]}]}`."""
    body: list[dict[str, Any]] = []
    for questionnaire in questionnaires:
        mine = [answer for answer in answers if answer.questionnaire_id == questionnaire.id]
        if mine:
            body.append(
                {
                    "id": questionnaire.id,
                    "answers": [
                        {"id": a.question.id, "type": {"value": a.question.type}, "values": a.values}
                        for a in mine
                    ],
                }
            )
    return body

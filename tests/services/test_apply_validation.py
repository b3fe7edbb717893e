"""Native application validation against the posting's questionnaires, and resume type/size checks."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.errors import InvalidRequestError, PayloadTooLargeError, UnprocessableError
from chalicelib.models.apply import DocumentIn, NativeApplicationRequest
from chalicelib.models.posting import Question, QuestionCondition, Questionnaire, QuestionOption
from chalicelib.services.application_form import check_answers, check_document
from tests.api.apply_factories import (
    DOC,
    DOCX,
    ODT,
    PDF,
    RTF,
    TXT,
    application_body,
    b64,
    make_posting,
    make_questionnaire,
    zip_bytes,
)

LIMIT = 5 * 1024 * 1024
VALID = {"q_text": "Robots", "q_bool": False}


def answers_for(answers: Any, questionnaires: list[Questionnaire] | None = None) -> list[Any]:
    posting = make_posting(questionnaires=questionnaires or [make_questionnaire()])
    request = NativeApplicationRequest.model_validate(application_body(answers=answers))
    return check_answers(request, posting, max_file_bytes=LIMIT)


def field_error(answers: Any) -> tuple[str, str]:
    with pytest.raises(UnprocessableError) as caught:
        answers_for(answers)
    ((field, message),) = caught.value.fields.items()
    return field, message


def test_valid_answers_become_string_values() -> None:
    checked = answers_for({**VALID, "q_num": 3.5, "q_multi": ["go"]})
    assert {a.question.id: a.values for a in checked} == {
        "q_text": ["Robots"],
        "q_bool": ["false"],
        "q_num": ["3.5"],
        "q_multi": ["go"],
    }


@pytest.mark.parametrize("missing", ["q_text", "q_bool"])
def test_required_questions_must_be_answered(missing: str) -> None:
    answers = {k: v for k, v in VALID.items() if k != missing}
    assert field_error(answers) == (f"answers.{missing}", "is required")


def test_blank_text_counts_as_missing() -> None:
    assert field_error({**VALID, "q_text": "   "})[0] == "answers.q_text"


@pytest.mark.parametrize(
    ("question", "value"),
    [
        ("q_num", "seven"),
        ("q_num", True),
        ("q_num", "nan"),
        ("q_date", "15/01/2027"),
        ("q_date", 20270115),
        ("q_bool", "maybe"),
        ("q_url", "ftp://files"),
        ("q_url", "not a url"),
        ("q_text", 12),
        ("q_text", "x" * 1001),
        ("q_single", "maybe"),
        ("q_single", ["yes", "no"]),
        ("q_multi", ["py", "rust"]),
        ("q_multi", ["py", "py"]),
        ("q_multi", "py"),
        ("q_file", "cv.pdf"),
    ],
)
def test_values_of_the_wrong_type_or_option_are_refused(question: str, value: Any) -> None:
    assert field_error({**VALID, question: value})[0] == f"answers.{question}"


def test_conditional_question_is_required_only_when_its_condition_holds() -> None:
    assert field_error({**VALID, "q_single": "yes"}) == ("answers.q_where", "is required")
    checked = answers_for({**VALID, "q_single": "no", "q_where": "ignored"})
    assert "q_where" not in {a.question.id for a in checked}  # hidden answers are not forwarded
    checked = answers_for({**VALID, "q_single": "yes", "q_where": "Berlin"})
    assert "q_where" in {a.question.id for a in checked}


def test_contains_condition_on_a_multi_select() -> None:
    questionnaire = Questionnaire(
        id="qn",
        questions=[
            Question(
                id="child",
                text="Which Go version?",
                type="short_text",
                required=True,
                condition=QuestionCondition(
                    parent_question_id="langs", option_ids=["go"], condition="contains"
                ),
            ),
            Question(
                id="langs",
                text="Languages",
                type="multi_select",
                options=[QuestionOption(id="py", text="Py"), QuestionOption(id="go", text="Go")],
            ),
        ],
    )
    with pytest.raises(UnprocessableError):
        answers_for({"langs": ["py", "go"]}, [questionnaire])
    assert [a.question.id for a in answers_for({"langs": ["py"]}, [questionnaire])] == ["langs"]


def test_list_form_answers_and_questionnaire_disambiguation() -> None:
    first = Questionnaire(id="a", questions=[Question(id="same", text="?", type="short_text")])
    second = Questionnaire(id="b", questions=[Question(id="same", text="?", type="short_text")])
    with pytest.raises(UnprocessableError) as caught:
        answers_for({"same": "x"}, [first, second])
    assert "questionnaire_id" in caught.value.fields["answers.same"]
    checked = answers_for([{"questionnaire_id": "b", "question_id": "same", "value": "x"}], [first, second])
    assert [(a.questionnaire_id, a.values) for a in checked] == [("b", ["x"])]


def test_answering_twice_is_refused() -> None:
    with pytest.raises(UnprocessableError):
        answers_for([{"question_id": "q_text", "value": "a"}, {"question_id": "q_text", "value": "b"}])


def test_attachment_answer_is_checked_like_a_resume() -> None:
    checked = answers_for({**VALID, "q_file": {"filename": "letter.txt", "content_base64": b64(TXT)}})
    attachment = next(a for a in checked if a.question.id == "q_file")
    assert attachment.values == ["letter.txt"] and attachment.attachment is not None
    bad = {"filename": "letter.pdf", "content_base64": b64(TXT)}
    assert field_error({**VALID, "q_file": bad})[0] == "answers.q_file.content_base64"


@pytest.mark.parametrize(
    ("filename", "content", "file_format"),
    [
        ("cv.pdf", PDF, "pdf"),
        ("CV.DOCX", DOCX, "docx"),
        ("cv.doc", DOC, "doc"),
        ("cv.odt", ODT, "odt"),
        ("cv.rtf", RTF, "rtf"),
        ("cv.txt", TXT, "txt"),
    ],
)
def test_each_allowed_resume_type_is_recognised_by_content(
    filename: str, content: bytes, file_format: str
) -> None:
    checked = check_document(
        DocumentIn(filename=filename, content_base64=b64(content)), "resume", max_bytes=LIMIT
    )
    assert checked.file_format == file_format
    assert checked.size == len(content)


@pytest.mark.parametrize(
    ("filename", "content", "field"),
    [
        ("cv.docx", PDF, "resume.content_base64"),  # renamed PDF
        ("cv.pdf", DOCX, "resume.content_base64"),
        ("cv.docx", zip_bytes({"evil.exe": b"MZ"}), "resume.content_base64"),  # a zip, but not a document
        ("cv.odt", zip_bytes({"mimetype": b"application/zip"}), "resume.content_base64"),
        ("cv.txt", b"MZ\x90\x00\x03\x00binary", "resume.content_base64"),
        ("cv.txt", b"\xff\xfe\x00bad utf8", "resume.content_base64"),
        ("cv.exe", PDF, "resume.filename"),
        ("resume", PDF, "resume.filename"),
    ],
)
def test_resume_content_must_match_an_allowed_type(filename: str, content: bytes, field: str) -> None:
    with pytest.raises(UnprocessableError) as caught:
        check_document(DocumentIn(filename=filename, content_base64=b64(content)), "resume", max_bytes=LIMIT)
    assert field in caught.value.fields


def test_resume_size_limit_applies_to_decoded_bytes() -> None:
    at_limit = PDF + b"0" * (1000 - len(PDF))
    check_document(DocumentIn(filename="cv.pdf", content_base64=b64(at_limit)), "resume", max_bytes=1000)
    with pytest.raises(PayloadTooLargeError) as caught:
        check_document(
            DocumentIn(filename="cv.pdf", content_base64=b64(at_limit + b"0")), "resume", max_bytes=1000
        )
    assert caught.value.details == {"fields": {"resume.content_base64": "must be at most 1000 bytes"}}  # type: ignore[attr-defined]
    assert caught.value.code == "file_too_large"


def test_base64_with_line_breaks_is_accepted_and_normalised() -> None:
    encoded = b64(PDF)
    wrapped = "\n".join(encoded[i : i + 8] for i in range(0, len(encoded), 8))
    checked = check_document(DocumentIn(filename="cv.pdf", content_base64=wrapped), "resume", max_bytes=LIMIT)
    assert checked.content_base64 == encoded


@pytest.mark.parametrize(
    "candidate",
    [
        {"first_name": "A", "last_name": "B", "email": "a@b"},
        {"first_name": "A", "last_name": "B", "email": "a@b.co", "phone": "call me"},
        {"first_name": "A", "last_name": "B", "email": "a@b.co", "links": [{"url": "javascript:alert(1)"}]},
        {"first_name": "", "last_name": "B", "email": "a@b.co"},
        {"first_name": "A", "last_name": "B", "email": "a@b.co", "admin": True},
    ],
)
def test_candidate_fields_are_validated(candidate: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        NativeApplicationRequest.model_validate(application_body(candidate=candidate))


def test_unknown_question_ids_are_refused() -> None:
    with pytest.raises(InvalidRequestError) as caught:
        answers_for({**VALID, "q_other": "x"})
    assert "answers.q_other" in caught.value.fields


def test_every_bad_answer_is_reported_at_once() -> None:
    with pytest.raises(UnprocessableError) as caught:
        answers_for({"q_bool": "maybe", "q_num": "many", "q_nope": "x"})
    assert caught.value.fields == {
        "answers.q_nope": "is not a question of this job",
        "answers.q_text": "is required",
        "answers.q_num": "must be a number",
        "answers.q_bool": "must be true or false",
    }
    assert caught.value.code == "invalid_application"
    assert caught.value.message.startswith("4 answers need attention")


def test_resume_and_answer_problems_are_reported_together() -> None:
    from chalicelib.services.apply import NativeApplyPolicy, NativeApplyService, RecordPolicy

    service = NativeApplyService(
        None,  # type: ignore[arg-type]  # stackone_body reads no collaborator
        None,  # type: ignore[arg-type]
        None,  # type: ignore[arg-type]
        None,  # type: ignore[arg-type]
        None,  # type: ignore[arg-type]
        NativeApplyPolicy("Board", LIMIT, 60, RecordPolicy(retention_days=1)),
    )
    body = application_body(answers={"q_bool": "maybe"})
    body["resume"]["content_base64"] = "not base64!"
    request = NativeApplicationRequest.model_validate(body)
    with pytest.raises(UnprocessableError) as caught:
        service.stackone_body(make_posting(questionnaires=[make_questionnaire()]), request)
    assert set(caught.value.fields) == {"resume.content_base64", "answers.q_text", "answers.q_bool"}

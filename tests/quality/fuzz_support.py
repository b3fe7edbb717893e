"""Property-based fuzzing of the HTTP API through `chalice.test.Client`, driven by our OpenAPI document.

For each documented operation, hypothesis draws requests that mix valid inputs (generated from the
operation's own JSON Schemas with hypothesis-jsonschema, plus ids that exist in the fuzz world) with
invalid ones (wrong types, junk JSON, junk ids, missing or bad credentials). Every response must:
- not be a 5xx;
- have a status the document declares for the operation;
- carry a body that validates against the declared schema (errors: the shared error shape);
and a rejected request (4xx) must leave the stored data and StackOne's write log unchanged.
"""

from __future__ import annotations

import json
import string
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote, urlencode

import jsonschema
from hypothesis import strategies as st

# Responses produced by the local API Gateway emulation itself (not our handlers) carry this header. In
# AWS the stack's gateway responses (deploy/resources.yaml) rewrite them into our error shape, so only
# their status is checked here.
GATEWAY_ERROR_HEADER = "x-amzn-ErrorType"

# Strings that broke something once: lone surrogates (cannot be encoded), characters XML 1.0 forbids
# (break feeds), markup that closes a <script>, non-http URL schemes, path tricks, separators.
HOSTILE_TEXT = st.sampled_from(
    [
        "\ud800",
        "a\udfffb",
        "\ufffe",
        "\uffff",
        "\x00",
        "\x1b[31m",
        "\u2028\u2029",
        "</script><script>alert(1)</script><!--",
        "javascript:alert(1)",
        "data:text/html,<b>x</b>",
        "../../accounts",
        "acc1/../acc2",
        "%2e%2e%2f",
        "x" * 5000,
    ]
)
TEXT = (
    st.text(max_size=20) | st.text(alphabet=st.characters(exclude_categories=()), max_size=8) | HOSTILE_TEXT
)
# Numbers past int64, float and the decoder's 4300-digit limit (as Python values; raw tokens below).
HUGE_NUMBERS = st.sampled_from([2**63, -(2**63) - 1, 10**30, 1.7976931348623157e308, -5e-324, 10**4200])
JSON_TEXT = st.recursive(
    st.none() | st.booleans() | st.integers() | HUGE_NUMBERS | st.floats(allow_nan=False) | TEXT,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(TEXT, children, max_size=5),
    max_leaves=40,
)
# Raw bodies no JSON encoder produces: deep nesting (RecursionError in a recursive parser), number tokens
# that overflow or exceed the digit limit, NaN/Infinity, invalid UTF-8, truncated documents.
DEEP_NESTING = [b"[" * depth + b"]" * depth for depth in (33, 2000, 20000)] + [
    b'{"a": ' + b'{"a": ' * 2000 + b"1" + b"}" * 2001,
    b'{"candidate": ' + b"[" * 5000 + b"]" * 5000 + b"}",
]
RAW_JUNK = [
    b"{",
    b"not json",
    b"\xff\xfe",
    b"[]",
    b"null",
    b'{"a":',
    b'{"a": 1e999}',
    b'{"a": -1e400}',
    b'{"a": NaN}',
    b'{"a": Infinity}',
    b'{"a": ' + b"9" * 5000 + b"}",
    b'{"a": "\\ud800"}',
    b'{"\\udfff": 1}',
    b'{"a": "\xed\xa0\x80"}',
    *DEEP_NESTING,
]
ID_ALPHABET = string.ascii_letters + string.digits + "-_.~%:=+ /\\'\"<>{}"


@dataclass
class FuzzWorld:
    """What the fuzz run knows about its data: valid ids per path parameter and credentials."""

    path_values: dict[str, list[str]]
    api_keys: list[str]
    snapshot: Callable[[], Any]
    counts: dict[str, int] = field(default_factory=dict)
    # Header name -> how to compute a valid value from the raw body (e.g. a webhook signature).
    signers: dict[str, Callable[[bytes], str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Case:
    method: str
    path: str
    url: str
    headers: dict[str, str]
    body: bytes | None
    valid_body: bool

    def describe(self) -> str:
        shown = (self.body or b"")[:300]
        return f"{self.method} {self.url} headers={self.headers} body={shown!r}"


def body_media(request_body: dict[str, Any]) -> dict[str, Any]:
    """The JSON media of a request body, else its only one (the alert manage page takes a form alone)."""
    content: dict[str, Any] = request_body["content"]
    media: dict[str, Any] = content.get("application/json") or next(iter(content.values()))
    return media


def inline_refs(schema: Any, components: dict[str, Any], seen: tuple[str, ...] = ()) -> Any:
    """`schema` with every `#/components/schemas/...` reference replaced by its definition."""
    if isinstance(schema, dict):
        if "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[-1]
            if name in seen:  # recursive model: stop expanding
                return {}
            rest = {k: v for k, v in schema.items() if k != "$ref"}
            return inline_refs({**components[name], **rest}, components, (*seen, name))
        return {key: inline_refs(value, components, seen) for key, value in schema.items()}
    if isinstance(schema, list):
        return [inline_refs(item, components, seen) for item in schema]
    return schema


def _merged(rest: dict[str, Any], option: dict[str, Any]) -> dict[str, Any]:
    """One `anyOf` option together with the keywords beside the `anyOf` (both apply to the value)."""
    merged = {**rest, **option}
    if "properties" in rest and "properties" in option:
        # An option's property schema narrows the outer one (e.g. "sent_at is a string" inside
        # "sent_at is a date-time or null"); generating from the narrower one satisfies both.
        merged["properties"] = {**rest["properties"], **option["properties"]}
    if "required" in rest or "required" in option:
        merged["required"] = sorted({*rest.get("required", ()), *option.get("required", ())})
    return merged


def from_schema(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values valid for the JSON Schema subset pydantic emits (refs already inlined).

    Small on purpose: objects, arrays, strings (length, pattern), numbers (bounds), booleans, null, enum,
    const and anyOf/oneOf. Unknown keywords widen to any JSON value.
    """
    if not schema:
        return JSON_TEXT
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    for combinator in ("anyOf", "oneOf"):
        if combinator in schema:
            rest = {key: value for key, value in schema.items() if key != combinator}
            return st.one_of([from_schema(_merged(rest, option)) for option in schema[combinator]])
    kind = schema.get("type")
    if isinstance(kind, list):
        return st.one_of([from_schema({**schema, "type": one}) for one in kind])
    if kind == "null":
        return st.none()
    if kind == "boolean":
        return st.booleans()
    if kind == "integer":
        return st.integers(schema.get("minimum"), schema.get("maximum"))
    if kind == "number":
        return st.floats(schema.get("minimum"), schema.get("maximum"), allow_nan=False, allow_infinity=False)
    if kind == "string":
        formatted = _format_values(schema)
        if formatted is not None:
            return formatted
        if "pattern" in schema:
            return st.from_regex(schema["pattern"], fullmatch=True).filter(
                lambda text: schema.get("minLength", 0) <= len(text) <= schema.get("maxLength", 10**6)
            )
        return st.text(min_size=schema.get("minLength", 0), max_size=min(schema.get("maxLength", 40), 40))
    if kind == "array":
        return st.lists(
            from_schema(schema.get("items", {})),
            min_size=schema.get("minItems", 0),
            max_size=min(schema.get("maxItems", 4), 4),
        )
    if kind == "object" or "properties" in schema:
        properties = schema.get("properties", {})
        required = set(schema.get("required", ()))
        fixed = {name: from_schema(prop) for name, prop in properties.items() if name in required}
        optional = {name: from_schema(prop) for name, prop in properties.items() if name not in required}
        if not properties and isinstance(schema.get("additionalProperties"), dict):
            return st.dictionaries(
                st.text(min_size=1, max_size=10), from_schema(schema["additionalProperties"]), max_size=3
            )
        return st.fixed_dictionaries(fixed, optional=optional)
    return JSON_TEXT


def _aware_datetime(seconds_from_now: int, offset_minutes: int) -> str:
    zone = timezone(timedelta(minutes=offset_minutes))
    return (datetime.now(UTC) + timedelta(seconds=seconds_from_now)).astimezone(zone).isoformat()


# Values for a string `format`: valid ones (mostly near now, so time windows such as a webhook's
# freshness check are passed) and the malformed ones a client may send.
FORMAT_VALUES: dict[str, st.SearchStrategy[str]] = {
    "date-time": st.one_of(
        st.builds(_aware_datetime, st.integers(-60, 60), st.sampled_from([0, 60, -300, 330])),
        st.builds(_aware_datetime, st.integers(-(10**9), 10**9), st.just(0)),
        # naive (no time zone) and malformed date-times
        st.datetimes().map(lambda moment: moment.isoformat()),
        st.sampled_from(
            ["2026-13-45T25:61:00Z", "2026-02-30T00:00:00Z", "yesterday", "", "0000-00-00T00:00:00",
             "2026-01-01T00:00:00+25:00", "9999-12-31T23:59:59-23:59", "1e20", "NaN"]
        ),
    ),
    "date": st.dates().map(lambda day: day.isoformat()) | st.sampled_from(["2026-02-30", "2026/01/01", "x"]),
    "uri": st.sampled_from(
        ["https://example.com/a?b=c", "http://127.0.0.1:1/", "javascript:alert(1)", "/relative", "https://"]
    ),
    "email": st.sampled_from(["ada@example.com", "a@b", "not-an-email", "x" * 300 + "@example.com"]),
}  # fmt: skip


def _format_values(schema: dict[str, Any]) -> st.SearchStrategy[Any] | None:
    strategy = FORMAT_VALUES.get(str(schema.get("format")))
    if strategy is None or schema.get("type") not in (None, "string"):
        return None
    return strategy


def path_value(name: str, world: FuzzWorld) -> st.SearchStrategy[str]:
    known = world.path_values.get(name, [])
    junk = st.text(alphabet=ID_ALPHABET, min_size=1, max_size=80)
    return (st.sampled_from(known) | junk) if known else junk


def query_strategy(parameters: list[dict[str, Any]]) -> st.SearchStrategy[list[tuple[str, str]]]:
    """Pairs for a query string: schema-valid values, junk strings and unknown names."""
    per_parameter: list[st.SearchStrategy[list[tuple[str, str]]]] = []
    for parameter in parameters:
        if parameter["in"] != "query":
            continue
        schema = parameter["schema"]
        name = parameter["name"]
        items = schema.get("items", schema) if schema.get("type") == "array" else schema
        scalar = _scalar_values(items)
        values = st.lists(scalar, min_size=1, max_size=3 if schema.get("type") == "array" else 1)

        def pairs(vs: list[str], n: str = name) -> list[tuple[str, str]]:
            return [(n, v) for v in vs]

        per_parameter.append(st.one_of(st.just([]), values.map(pairs)))
    unknown = st.lists(
        st.tuples(st.sampled_from(["x", "page", "utm_source"]), st.text(max_size=8)), max_size=1
    )
    return st.tuples(*per_parameter, unknown).map(lambda groups: [pair for group in groups for pair in group])


def _scalar_values(schema: dict[str, Any]) -> st.SearchStrategy[str]:
    def text_of(value: Any) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        return value if isinstance(value, str) else json.dumps(value)

    valid = from_schema(schema).map(text_of) if schema else st.text(max_size=20)
    junk = st.text(max_size=30) | st.sampled_from(["", "-1", "0", "101", "true", "yes", "null", "x" * 3000])
    return valid | junk


def body_strategy(schema: dict[str, Any] | None) -> st.SearchStrategy[tuple[bytes | None, bool]]:
    """(raw body, drawn from the schema?) for an operation with or without a JSON request body."""
    junk_json = JSON_TEXT.map(lambda value: (json.dumps(value).encode(), False))
    junk_bytes = st.sampled_from(RAW_JUNK).map(lambda raw: (raw, False))
    if schema is None:
        return st.one_of(st.just((None, False)), junk_json, junk_bytes)
    drawn = from_schema(schema)
    valid = drawn.map(lambda value: (json.dumps(value).encode(), True))
    # A schema-shaped body with a hostile value (deep, huge, odd text) in one of its fields.
    spiked = st.tuples(drawn, JSON_TEXT | st.sampled_from(DEEP_NESTING)).map(_spike)
    return st.one_of(valid, valid, spiked, junk_json, junk_bytes, st.just((None, False)))


def _spike(pair: tuple[Any, Any]) -> tuple[bytes, bool]:
    value, hostile = pair
    raw_hostile = hostile if isinstance(hostile, bytes) else json.dumps(hostile).encode()
    if isinstance(value, dict) and value:
        key = sorted(value)[len(raw_hostile) % len(value)]
        rest = {k: v for k, v in value.items() if k != key}
        prefix = json.dumps(rest).encode()[:-1] + (b", " if rest else b"")
        return prefix + json.dumps(key).encode() + b": " + raw_hostile + b"}", False
    return raw_hostile, False


def case_strategy(
    document: dict[str, Any], method: str, path: str, world: FuzzWorld
) -> st.SearchStrategy[Case]:
    operation = document["paths"][path][method.lower()]
    components = document["components"]["schemas"]
    parameters = operation.get("parameters", [])
    path_names = [p["name"] for p in parameters if p["in"] == "path"]
    request_body = operation.get("requestBody")
    body_schema = None
    if request_body:
        body_schema = inline_refs(body_media(request_body)["schema"], components)
    secured = bool(operation.get("security"))
    credentials = (
        st.sampled_from(["valid", "valid", "missing", "wrong", "malformed"]) if secured else st.just("none")
    )
    extra_headers = [p for p in parameters if p["in"] == "header" and p["name"] != "If-None-Match"]

    @st.composite
    def build(draw: st.DrawFn) -> Case:
        url_path = path
        for name in path_names:
            value = draw(path_value(name, world))
            url_path = url_path.replace("{" + name + "}", quote(value, safe=""))
        query = draw(query_strategy(parameters))
        url = url_path + (("?" + urlencode(query)) if query else "")
        headers: dict[str, str] = {}
        body, valid_body = (
            draw(body_strategy(body_schema)) if method in ("POST", "PUT", "PATCH") else (None, False)
        )
        if body is not None:
            # Mostly JSON; sometimes a media type the route may not take (must still be our error shape).
            headers["Content-Type"] = draw(
                st.sampled_from(
                    ["application/json"] * 6 + ["text/plain", "application/x-www-form-urlencoded"]
                )
            )
        mode = draw(credentials)
        if mode == "valid":
            headers["Authorization"] = f"Bearer {draw(st.sampled_from(world.api_keys))}"
        elif mode == "wrong":
            headers["Authorization"] = "Bearer " + draw(st.text(alphabet=string.ascii_letters, max_size=40))
        elif mode == "malformed":
            headers["Authorization"] = draw(st.sampled_from(["Basic abc", "Bearer", "token x", "bearer  "]))
        for header in extra_headers:
            signer = world.signers.get(header["name"])
            if signer is not None and draw(st.booleans()):
                headers[header["name"]] = signer(body or b"")
            elif draw(st.booleans()):
                headers[header["name"]] = draw(
                    st.text(alphabet=string.printable.strip(), min_size=0, max_size=40)
                    | st.text(alphabet=string.ascii_letters + string.digits, min_size=1, max_size=20)
                )
        if draw(st.booleans()) and any(p["name"] == "If-None-Match" for p in parameters):
            headers["If-None-Match"] = draw(st.sampled_from(['"x"', "*", 'W/"abc"']))
        return Case(method, path, url, headers, body, valid_body)

    return build()


def schema_for(document: dict[str, Any], method: str, path: str, status: int) -> tuple[bool, Any]:
    """(declared?, JSON schema or None) of a response status."""
    responses = document["paths"][path][method.lower()]["responses"]
    response = responses.get(str(status))
    if response is None:
        return False, None
    content = response.get("content") or {}
    media = content.get("application/json")
    if media is None:
        return True, None
    return True, inline_refs(media["schema"], document["components"]["schemas"])


def check_response(
    document: dict[str, Any], case: Case, status: int, headers: dict[str, str], body: bytes
) -> None:
    """Assert the response is declared, conforms to its schema and is never a 5xx."""
    assert status < 500, f"{status} for {case.describe()}: {body[:500]!r}"
    declared, schema = schema_for(document, case.method, case.path, status)
    assert declared, f"undeclared status {status} for {case.describe()}: {body[:300]!r}"
    lowered = {key.lower(): value for key, value in headers.items()}
    if GATEWAY_ERROR_HEADER.lower() in lowered:
        assert status in (401, 403), f"gateway {status} for {case.describe()}"
        return
    if schema is None:
        return
    content_type = lowered.get("content-type", "application/json")  # API Gateway's default
    assert content_type.startswith("application/json"), (status, case.describe(), headers)
    try:
        payload = json.loads(body)
    except ValueError as exc:
        raise AssertionError(f"{status} body is not JSON for {case.describe()}: {body[:300]!r}") from exc
    try:
        jsonschema.Draft202012Validator(schema).validate(payload)
    except jsonschema.ValidationError as exc:
        raise AssertionError(
            f"{status} body violates the document for {case.describe()}: {exc.message} at {list(exc.path)}"
        ) from exc


def documented_operations(document: dict[str, Any]) -> Iterable[tuple[str, str]]:
    for path, item in sorted(document["paths"].items()):
        for method in sorted(item):
            yield method.upper(), path

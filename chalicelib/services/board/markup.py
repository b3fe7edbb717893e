"""Text that goes into XML documents or `<script>` elements: cleaned so it can neither break nor escape them.

XML 1.0 forbids most C0 controls, lone surrogates and U+FFFE/U+FFFF even when escaped: one such character
in one title makes a whole feed unparseable. Inside `<script type="application/ld+json">` an HTML parser
ends the element at the first `</script`, whatever the JSON around it says; `<!--` can also change how
it looks for the end. Escaping `<`, `>` and `&` as JSON `\\u` escapes keeps the JSON value identical and
the markup inert.
"""

from __future__ import annotations

import json
import re
from typing import Any

# Everything outside XML 1.0's Char production: #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] |
# [#x10000-#x10FFFF].
_XML_FORBIDDEN = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_SCRIPT_ESCAPES = {
    ord("<"): "\\u003c",
    ord(">"): "\\u003e",
    ord("&"): "\\u0026",
    0x2028: "\\u2028",
    0x2029: "\\u2029",
}


def xml_chars(value: str) -> str:
    """`value` without the characters XML 1.0 cannot carry (escaping does not make them legal)."""
    return _XML_FORBIDDEN.sub("", value)


def clean_strings(value: Any) -> Any:
    """A copy of a JSON-like value with `xml_chars` applied to every string (keys included)."""
    if isinstance(value, str):
        return xml_chars(value)
    if isinstance(value, dict):
        return {clean_strings(key): clean_strings(item) for key, item in value.items()}
    if isinstance(value, list):
        return [clean_strings(item) for item in value]
    return value


def script_json(value: Any) -> str:
    """JSON for inside an HTML `<script>` element (or any HTML context): no `<`, `>` or `&` in the text.

    `json.loads(script_json(v)) == v`; the output can never contain `</script` or `<!--`.
    """
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).translate(_SCRIPT_ESCAPES)

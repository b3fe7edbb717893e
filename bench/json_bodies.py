"""Bounded JSON parsing (`chalicelib.json_input.load_json_object`) against plain `json.loads`.

The bound (size, nesting depth on the raw bytes, finite numbers, valid Unicode) runs before and after the
parse on every request body; this prints what it costs for the bodies the API sees, as the best of N
runs of each, measured in the same process, and the ratio to `json.loads` alone.

    python -m bench.json_bodies [--runs 7]

Prints a human summary, then one JSON line.
"""

from __future__ import annotations

import argparse
import base64
import functools
import json
import os
import time
from collections.abc import Callable

from chalicelib.json_input import load_json_object

MAX_BYTES = 8 * 1024 * 1024


def _best_ms(action: Callable[[], object], runs: int) -> float:
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        action()
        best = min(best, time.perf_counter() - started)
    return best * 1000


def bodies() -> dict[str, bytes]:
    resume = base64.b64encode(os.urandom(5 * 1024 * 1024)).decode()
    application = {
        "candidate": {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com"},
        "answers": {f"q{index}": "an answer" for index in range(20)},
        "resume": {"filename": "cv.pdf", "content_base64": resume},
    }
    return {
        "employer body (60 B)": json.dumps({"provider": "greenhouse", "label": "Main ATS"}).encode(),
        "application with a 5 MB resume": json.dumps(application).encode(),
        "7 MB of nested pairs (worst case)": b'{"a": [' + b"[]," * 2_300_000 + b"[]]}",
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    results = []
    for name, raw in bodies().items():
        baseline = _best_ms(functools.partial(json.loads, raw), args.runs)
        bounded = _best_ms(functools.partial(load_json_object, raw, max_bytes=MAX_BYTES), args.runs)
        results.append(
            {"body": name, "json_loads_ms": baseline, "bounded_ms": bounded, "ratio": bounded / baseline}
        )
        print(
            f"{name}: json.loads {baseline:.3f} ms, bounded {bounded:.3f} ms, ratio {bounded / baseline:.2f}"
        )
    deep = b"[" * 2000 + b"]" * 2000
    refused = _best_ms(lambda: _refuse(deep), args.runs)
    print(f"2,000-level body refused in {refused:.3f} ms (json.loads would raise RecursionError)")
    print(json.dumps({"bodies": results, "deep_refused_ms": refused}))


def _refuse(raw: bytes) -> None:
    try:
        load_json_object(raw, max_bytes=MAX_BYTES)
    except Exception:
        return
    raise AssertionError("a 2,000-level body was accepted")


if __name__ == "__main__":
    main()

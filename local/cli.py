"""`make cli ARGS="employers list"`: the operator CLI (`python -m chalicelib.cli`) against the running
`make run` stack on the default or LOCAL_* ports (moto, the StackOne sandbox), with the local stage's
names. Ends in one `error: ...` line when no stack answers.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from local.scheduler import local_stack_problem
from local.stack import LOCAL_STAGE


def main(argv: Sequence[str] | None = None) -> int:
    problem = local_stack_problem(LOCAL_STAGE)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    from chalicelib.cli.__main__ import main as cli_main

    return cli_main(["--stage", LOCAL_STAGE, *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())

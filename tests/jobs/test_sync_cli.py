"""`python -m chalicelib.cli sync`: in-process sync with a printed summary."""

from __future__ import annotations

import pytest

from chalicelib import deps
from chalicelib.cli.__main__ import main
from tests.sync_support import StackOneStub


def test_cli_syncs_every_active_account_and_prints_a_summary(
    queue_url: str, stackone: StackOneStub, capsys: pytest.CaptureFixture[str]
) -> None:
    stackone.add_account("acc1", postings=4)
    stackone.add_account("acc2", postings=2)
    stackone.add_account("expired", postings=1)
    stackone.status_for_account["expired"] = 401
    code = main(["sync", "--full"])
    out = capsys.readouterr().out
    assert code == 1  # one account needs attention
    assert "acc1" in out and "needs_attention" in out
    assert "total: 3 account(s), 1 not succeeded; upserted 6, unchanged 0, closed 0, live 6" in out
    assert len(deps.get_postings_repository().load_account("acc1")) == 4


def test_cli_syncs_one_account(
    queue_url: str, stackone: StackOneStub, capsys: pytest.CaptureFixture[str]
) -> None:
    stackone.add_account("acc1", postings=2)
    stackone.add_account("acc2", postings=2)
    assert main(["sync", "--account", "acc2"]) == 0
    out = capsys.readouterr().out
    assert "syncing 1 account(s)" in out and "acc2" in out
    assert deps.get_postings_repository().load_account("acc1") == {}

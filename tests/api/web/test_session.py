"""The web session keeper: the secret file, sealing and opening, agreement between workers."""

from __future__ import annotations

import datetime as dt
import os
import stat
import threading
from pathlib import Path

import pytest

from api.settings import Settings
from api.web.session import SessionKeeper
from rules.errors import NotConfigured


def test_the_session_secret_file_is_made_once_private_and_shared(tmp_path: Path) -> None:
    """Without a configured secret one is made (0600), reused, and agreed by racing workers."""
    path = tmp_path / "data" / "session-secret"
    settings = Settings(session_secret_file=path)
    keepers = [SessionKeeper(settings, lambda: dt.datetime.now(dt.UTC)) for _ in range(8)]
    sealed: list[str] = []
    barrier = threading.Barrier(len(keepers))

    def seal(keeper: SessionKeeper) -> None:
        barrier.wait()
        sealed.append(keeper.new_session("sck_key")[1])

    threads = [threading.Thread(target=seal, args=(k,)) for k in keepers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert len(path.read_text().strip()) >= 32
    assert [p.name for p in path.parent.iterdir()] == ["session-secret"]
    for keeper in keepers:  # every worker opens every other worker's cookie
        assert all(keeper.open_session(value) is not None for value in sealed)


def test_a_secret_that_cannot_be_made_says_where(tmp_path: Path) -> None:
    """A secret file that cannot be written (its folder is a file) is NotConfigured, naming it."""
    blocker = tmp_path / "file"
    blocker.write_text("x")
    keeper = SessionKeeper(Settings(session_secret_file=blocker / "secret"),
                           lambda: dt.datetime.now(dt.UTC))
    with pytest.raises(NotConfigured, match=r"cannot be read or made at .*file/secret"):
        keeper.new_signin()

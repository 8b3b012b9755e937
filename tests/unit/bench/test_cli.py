"""The benchmark's command line (bench/cli.py): which Headwater backends a run starts."""

from __future__ import annotations

import pytest
from bench.cli import parse_args


def test_sqlite_alone_by_default() -> None:
    assert parse_args([]).storage_list == ["sqlite"]


def test_backends_in_the_order_given_the_first_one_is_compared() -> None:
    args = parse_args(["--storage", "postgres, sqlite", "--pg-setting", "wal_compression=on"])
    assert args.storage_list == ["postgres", "sqlite"]
    assert args.pg_setting == ["wal_compression=on"]


@pytest.mark.parametrize(
    "argv",
    [
        ["--storage", "mysql"],
        ["--storage", ""],
        ["--storage", "postgres,postgres"],
        ["--storage", "postgres", "--endpoint", "http://127.0.0.1:8000"],
        ["--storage", "postgres", "--server-cmd", "java -jar x.jar -port {port}"],
    ],
)
def test_a_wrong_storage_list_is_refused(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        parse_args(argv)
    assert exited.value.code == 2
    assert "--storage" in capsys.readouterr().err

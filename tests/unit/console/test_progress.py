"""The table page's work-in-progress bars: shown for a GSI backfilling and an export in progress, with
the labels progress.js looks up in /metrics; nothing when no work is under way."""

from __future__ import annotations

from headwater.console.tables import progress_section


def test_a_backfilling_index_and_an_export_in_progress_get_a_bar_each() -> None:
    info = {
        "GlobalSecondaryIndexes": [
            {"IndexName": "byColor", "IndexStatus": "CREATING", "Backfilling": True},
            {"IndexName": "done", "IndexStatus": "ACTIVE"},
        ]
    }
    arn = "arn:aws:dynamodb:us-east-1:000000000000:table/t<1>/export/01234"
    html = progress_section("t<1>", info, [arn])
    assert html.count('class="progress"') == 2
    assert 'data-kind="backfill" data-table="t&lt;1&gt;" data-index="byColor"' in html
    assert f'data-kind="export" data-export="{arn.replace("<", "&lt;").replace(">", "&gt;")}"' in html
    assert "done" not in html


def test_no_work_no_section() -> None:
    info = {"GlobalSecondaryIndexes": [{"IndexName": "i", "IndexStatus": "ACTIVE", "Backfilling": False}]}
    assert progress_section("t", info, []) == ""

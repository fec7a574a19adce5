"""The talk's Tables 1-2 beside ours (humanlib.experiments.smplifyx_tables.talk_table_markdown)."""

import json
from pathlib import Path

import pytest

from humanlib.experiments import smplifyx_tables as T

RESULTS = Path(__file__).resolve().parents[2] / "results" / "smplifyx" / "smplifyx_tables.json"


def _row_line(md: str, name: str) -> str:
    lines = [line for line in md.splitlines() if line.startswith(f"| {name} |")]
    assert len(lines) == 1, f"row {name!r} appears {len(lines)} times"
    return lines[0]


@pytest.mark.parametrize("table", [1, 2])
def test_rendered_table_holds_our_number_and_the_talks_for_each_row(table):
    rows = [{"name": name, "v2v": 100.0 + i, "v2v_pa": 70.0 + i, "body_joints": 80.0 + i, "hand_joints": 50.0 + i}
            for i, name in enumerate(T.TALK_ROW_OF)]
    results = {"table1": rows[:4], "table2": rows[4:]}
    md = T.talk_table_markdown(results, table)
    for r in results[f"table{table}"]:
        line = _row_line(md, r["name"])
        talk = T.TALK_ROW_OF[r["name"]]
        published = T.PUBLISHED_TABLE1[talk][0] if table == 1 else T.PUBLISHED_TABLE2[talk]
        cells = [c.strip() for c in line.strip("|").split("|")]
        assert f"{r['v2v_pa']:.1f}" in cells and f"{r['v2v']:.1f}" in cells
        assert f"{published:.1f}" in cells
    assert "Procrustes" in md and "known camera" in md and "EHF" in md


def test_rendered_committed_results_beside_the_talk():
    results = json.loads(RESULTS.read_text())
    for table in (1, 2):
        md = T.talk_table_markdown(results, table)
        for r in results[f"table{table}"]:
            line = _row_line(md, r["name"])
            if "v2v_pa" in r:
                assert f"| {r['v2v_pa']:.1f} |" in line
            talk = T.TALK_ROW_OF.get(r["name"])
            if talk is not None and "skipped" not in r:
                published = T.PUBLISHED_TABLE1[talk][0] if table == 1 else T.PUBLISHED_TABLE2[talk]
                assert f"| {published:.1f} |" in line

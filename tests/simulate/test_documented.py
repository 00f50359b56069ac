"""CloudWatch's own examples of M-of-N evaluation and missing-data treatment, one test per cell:
``cases/documented.yaml`` transcribes the page and cites it."""

from __future__ import annotations

import pytest

from rootwatch.simulate import Rule, State, Treatment, evaluate, points
from tests.simulate.documented import CASES, cells



@pytest.mark.parametrize(("table", "row", "treatment"), list(cells()))
def test_documented_state(table, row, treatment):
    rule = Rule.of(table["evaluation_periods"], table["datapoints_to_alarm"], treatment, span=table["range"])
    window = points(row["points"])
    expected = row[treatment.value]
    for previous in (State.OK, State.ALARM, State.INSUFFICIENT_DATA):
        state = evaluate(window, rule, previous).state
        if expected == "retain":
            assert state is previous, f"{row['points']} from {previous.value}: {state.value}"
        elif expected == "not ALARM":
            assert state is not State.ALARM
        else:
            assert state is State(expected), f"{row['points']} from {previous.value}: {state.value}"


@pytest.mark.parametrize("row", [pytest.param(row, id=f"{t}-{row['points']}") for t, table in enumerate(CASES)
                                 for row in table["rows"] if "filled" in row])
def test_documented_count_of_filled_datapoints(row):
    table = next(t for t in CASES if row in t["rows"])
    rule = Rule.of(table["evaluation_periods"], table["datapoints_to_alarm"], Treatment.MISSING, span=table["range"])
    assert evaluate(points(row["points"]), rule, State.OK).filled == row["filled"]


def test_every_documented_table_cell_is_a_case():
    """Both tables have 5 rows x 4 treatments; the premature-alarm section 6 examples."""
    every = [cell.values for cell in cells()]
    assert sum(1 for _, row, _ in every if "filled" in row) == 2 * 5 * 4
    assert len(every) == 2 * 5 * 4 + 6

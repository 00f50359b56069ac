"""CloudWatch's documented M-of-N and missing-data examples (``cases/documented.yaml``), one pytest
parameter per cell: the simulator's test and the sandbox's both walk the same cells."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from rootwatch.simulate import Treatment

CASES = yaml.safe_load((Path(__file__).parent / "cases" / "documented.yaml").read_text())


def cells():
    for t, table in enumerate(CASES):
        for row in table["rows"]:
            for treatment in Treatment:
                if treatment.value in row:
                    yield pytest.param(table, row, treatment, id=f"{t}-{row['points']}-{treatment.value}")

"""The report's charts on the sandbox, read from what each figure draws: every transition to ALARM
of the alarm the chain judged (and no other alarm's), ALARM spans wide enough to see at any window
length, the uncovered root events marked, the organization's heat map, and alt text that states
the numbers — in the report's HTML and in the PDF's figure tags."""

from __future__ import annotations

import base64
import dataclasses
import io
import re
import zlib
from datetime import UTC, datetime, timedelta

import matplotlib.colors
import nbformat
import numpy as np
import pandas as pd
import pytest
from matplotlib.dates import date2num
from matplotlib.image import imread

from rootwatch.evidence_run import EvidenceRun, judged
from rootwatch.frames import tables as frames
from rootwatch.notebook import workbook
from rootwatch.report import charts
from rootwatch.models import Window
from rootwatch.params import RunParams
from tests.conftest import SANDBOX_NOW

HEALTHY, DRIFTED = "111111111111", "222222222222"


@pytest.fixture(scope="module")
def run(evidence, window, catalog):
    controls = [catalog.control("4.3")]
    accounts = list(evidence.values())
    params = RunParams.from_mapping({"source": "sandbox", "regions": ["us-east-1"], "window": "last-90-days"},
                                    now=SANDBOX_NOW)
    built, findings = judged(accounts, controls, catalog)
    now = datetime.now(UTC)
    return EvidenceRun(dataclasses.replace(params, window=window), controls, accounts, built, findings, now,
                                now, {}, [])


def _fired(run: EvidenceRun, account: str, alarm: str) -> pd.Series:
    """Straight from the frame: the alarm's transitions to ALARM inside the window."""
    h, w = run.frames["alarm_history"], run.params.window
    return h[(h.account_id == account) & (h.alarm_name == alarm) & (h.item_type == "StateUpdate")
             & (h.new_state == "ALARM") & (h.time >= w.start) & (h.time < w.end)].time.sort_values()


def _markers(chart: charts.Chart) -> np.ndarray:
    [line] = [line for line in chart.figure.axes[0].lines if line.get_gid() == charts.TRANSITIONS]
    return np.asarray(line.get_xdata(), dtype=float)


def _bars(chart: charts.Chart, gid: str) -> list:
    return [patch for patch in chart.figure.axes[0].patches if patch.get_gid() == gid]


def _uncovered(run: EvidenceRun, account: str) -> int:
    cov = run.frames["alarm_coverage"]
    return int(((cov.account_id == account) & ~cov.covered).sum())


@pytest.mark.parametrize(("account", "alarm"), [(HEALTHY, "cis-4.3-root-account-usage"), (DRIFTED, "root-usage")])
def test_the_alarm_chart_marks_every_transition_to_alarm_of_the_judged_alarm(run, account, alarm):
    fired = _fired(run, account, alarm)
    [chart] = run.chart_alarm_states(account)
    assert len(fired) >= 20  # the sandbox's root alarms fire a few times a week
    assert np.allclose(_markers(chart), date2num(fired.dt.tz_localize(None).to_numpy()))
    assert len(_bars(chart, "state-ALARM")) == len(fired)  # each went back to OK: one red span per transition
    uncovered = _uncovered(run, account)
    assert chart.figure.axes[0].get_title("left") == \
        f"Alarm {alarm}: {len(fired)} × ALARM; {uncovered} root event{'s' * (uncovered != 1)} uncovered"


def test_the_drifted_account_reads_as_the_issue_asks(run):
    [chart] = run.chart_alarm_states(DRIFTED)  # its root alarm fires, but its actions are disabled
    # the history disabled its actions on day 30: the root events after it are the uncovered ones
    assert chart.figure.axes[0].get_title("left") == "Alarm root-usage: 31 × ALARM; 13 root events uncovered"


def test_only_the_judged_alarm_is_drawn_not_the_accounts_other_alarms(run):
    h = run.frames["alarm_history"]
    others = h[(h.account_id == DRIFTED) & (h.alarm_name != "root-usage") & (h.new_state == "ALARM")]
    assert len(others) > 500  # route-table changes, CMK deletions ...: not about root
    assert set(run.judged_alarm_history(DRIFTED).alarm_name) == {"root-usage"}
    per_day = run.chart_root_per_day(DRIFTED)
    assert len(_markers(per_day)) == len(_fired(run, DRIFTED, "root-usage"))
    assert [c.figure.axes[0].get_title("left").split(":")[0] for c in run.chart_alarm_states(DRIFTED)] == \
        ["Alarm root-usage"]


def test_a_chain_without_an_alarm_draws_no_alarm(run, evidence, catalog):
    controls = [catalog.control("4.3")]
    bare = dataclasses.replace(evidence[HEALTHY], alarms=[])
    built, findings = judged([bare], controls, catalog)
    alone = dataclasses.replace(run, evidence=[bare], frames=built, findings=findings)
    assert alone.judged_alarm(HEALTHY) is None and alone.chart_alarm_states(HEALTHY) == []
    chart = alone.chart_root_per_day(HEALTHY)
    assert not [line for line in chart.figure.axes[0].lines if line.get_gid() == charts.TRANSITIONS]
    assert chart.figure.axes[0].get_title("left") == "Root events per day (the chain reached no alarm)"
    assert "The chain reached no alarm." in chart.alt


def _history(*spans: tuple[datetime, timedelta]) -> pd.DataFrame:
    rows = []
    for start, length in spans:
        rows += [{"account_id": HEALTHY, "region": "us-east-1", "alarm_name": "a", "time": start,
                  "item_type": "StateUpdate", "old_state": "OK", "new_state": "ALARM"},
                 {"account_id": HEALTHY, "region": "us-east-1", "alarm_name": "a", "time": start + length,
                  "item_type": "StateUpdate", "old_state": "ALARM", "new_state": "OK"}]
    return frames.frame("alarm_history", rows)


@pytest.mark.parametrize("days", [1, 90, 455])
def test_a_five_minute_alarm_is_visible_at_any_window_length(days):
    end = datetime(2026, 10, 1, tzinfo=UTC)
    window = Window(end - timedelta(days=days), end)
    chart = charts.alarm_timeline(_history((end - timedelta(hours=12), timedelta(minutes=5))), "a", window, "OK", 0)
    [bar] = _bars(chart, "state-ALARM")
    assert bar.get_width() == pytest.approx(max(5 / 1440, charts.ALARM_MIN_WIDTH * days))
    assert bar.get_x() + bar.get_width() <= date2num(end) + 1e-9  # widened inside the window, not cut off at its end
    png = io.BytesIO()
    chart.figure.savefig(png, format="png")
    pixels = imread(io.BytesIO(png.getvalue()))[..., :3]

    def coloured(hex_colour: str) -> np.ndarray:
        return np.all(np.abs(pixels - np.array(list(bytes.fromhex(hex_colour[1:]))) / 255) < 0.1, axis=-1)

    band = coloured(charts.STATE_COLOURS["OK"]).mean(axis=1) > 0.5  # the state band's rows (not the legend's)
    assert coloured(charts.STATE_COLOURS["ALARM"])[band].any(axis=0).sum() >= 3  # three pixels of the report's image


def test_a_long_alarm_keeps_its_real_width():
    end = datetime(2026, 10, 1, tzinfo=UTC)
    window = Window(end - timedelta(days=90), end)
    chart = charts.alarm_timeline(_history((end - timedelta(days=10), timedelta(days=3))), "a", window, "OK", 0)
    [bar] = _bars(chart, "state-ALARM")
    assert bar.get_width() == pytest.approx(3)
    assert "in ALARM for 3 days in all, the longest 3 days" in chart.alt


def test_an_unread_history_is_unknown_not_always_ok():
    end = datetime(2026, 10, 1, tzinfo=UTC)
    chart = charts.alarm_timeline(_history(), "a", Window(end - timedelta(days=90), end), "OK", 0, unread=True)
    assert not _bars(chart, "state-OK") and len(_bars(chart, f"state-{charts.UNKNOWN}")) == 1
    assert "history not read" in chart.figure.axes[0].get_title("left")
    assert "could not be read" in chart.alt


@pytest.mark.parametrize("account", [HEALTHY, DRIFTED])
def test_root_events_per_day_mark_the_uncovered_events(run, account):
    chart = run.chart_root_per_day(account)
    events = run.frame("root_events", account)
    heights = {kind: sum(bar.get_height() for bar in _bars(chart, f"events-{kind}"))
               for kind in ("covered", "uncovered", "not counted")}
    uncovered = _uncovered(run, account)
    assert uncovered > 0 and heights["uncovered"] == uncovered
    assert heights["not counted"] == int((~events.counted).sum())
    assert sum(heights.values()) == len(events)
    assert all(bar.get_hatch() for bar in _bars(chart, "events-uncovered"))  # distinct: hatched
    assert f"{uncovered} counted but uncovered" in chart.alt and f"{len(events)} root events on" in chart.alt


def test_root_events_per_day_keep_each_kind_in_the_legend_in_its_colour_when_it_has_no_events(run):
    """Bars are drawn for the days with events only; a kind without any (here: nothing counted, so
    nothing covered or uncovered) still has its legend entry, in its colour and hatch, with its zero."""
    events = run.frame("root_events", DRIFTED).assign(counted=False)
    chart = charts.root_events_per_day(events, run.frame("alarm_coverage", DRIFTED).iloc[:0],
                                       run.judged_alarm_history(DRIFTED), None, run.params.window)
    assert len(_bars(chart, "events-not counted")) == events.time.dt.floor("D").nunique()
    assert sum(bar.get_height() for bar in _bars(chart, "events-not counted")) == len(events)
    entries = dict(zip((t.get_text() for t in chart.figure.legends[0].get_texts()), chart.figure.legends[0].legend_handles))
    covered = entries["counted, alarm fired and notified (0)"]
    uncovered = entries["counted, uncovered: no notified alarm in time (0)"]
    assert covered.get_facecolor()[:3] == pytest.approx(matplotlib.colors.to_rgb(charts.COUNTED))
    assert uncovered.get_facecolor()[:3] == pytest.approx(matplotlib.colors.to_rgb(charts.UNCOVERED))
    assert uncovered.get_hatch() == "////"


def test_the_organization_heat_map_counts_every_root_event_and_frames_the_uncovered(run):
    chart = run.chart_organization()
    ax = chart.figure.axes[0]
    assert ax.images[0].get_array().sum() == len(run.frames["root_events"])
    framed = [p for p in ax.patches if p.get_gid() == charts.UNCOVERED_CELL]
    cov = run.frames["alarm_coverage"]
    missed = cov[~cov.covered]
    weeks = missed.time.dt.floor("D") - pd.to_timedelta(missed.time.dt.day_of_week, unit="D")
    assert len(framed) == len(set(zip(missed.account_id, weeks.dt.floor("D")))) > 1
    for account, label in ((HEALTHY, "healthy (111111111111)"), (DRIFTED, "drifted (222222222222)")):
        n = int((run.frames["root_events"].account_id == account).sum())
        assert f"{label}: {n} root events in " in chart.alt and f"{_uncovered(run, account)} uncovered" in chart.alt


def _shown(run: EvidenceRun, monkeypatch) -> list[charts.Chart]:
    shown: list[charts.Chart] = []
    monkeypatch.setattr(workbook, "show_chart", shown.append)
    monkeypatch.setattr(workbook, "heading", lambda text: None)
    workbook.show_charts(run)
    return shown


def test_the_heat_map_opens_the_charts_of_a_multi_account_run_only(run, evidence, monkeypatch):
    assert _shown(run, monkeypatch)[0].alt.startswith("Root events per account and week")
    single = dataclasses.replace(run, evidence=[evidence[HEALTHY]])
    assert not any(c.alt.startswith("Root events per account") for c in _shown(single, monkeypatch))


def test_a_chart_drawn_once_is_the_png_matplotlib_draws_twice(run, monkeypatch):
    """show_chart lays a figure out and draws it once (half of savefig's work): the pixels are what
    savefig alone makes of a fresh copy of the same chart, opaque, so the PNG carries no alpha channel
    (which the PDF would embed as a second image under each chart)."""
    from PIL import Image

    from rootwatch.notebook import display

    displayed = []
    monkeypatch.setattr("IPython.display.display", displayed.append)
    first, again = _shown(run, monkeypatch), _shown(run, monkeypatch)
    for chart, twin in zip(first, again):
        display.show_chart(chart)
        buffer = io.BytesIO()
        twin.figure.savefig(buffer, format="png", metadata={"Software": None})
        shown, saved = Image.open(io.BytesIO(displayed.pop().data)), Image.open(buffer)
        assert shown.mode == "RGB" and shown.info["dpi"] == saved.info["dpi"], chart.alt[:60]
        assert saved.getchannel("A").getextrema() == (255, 255), chart.alt[:60]  # nothing lost with the alpha
        assert shown.tobytes() == saved.convert("RGB").tobytes(), chart.alt[:60]


def test_every_chart_reaches_the_report_with_its_alt_text(run, monkeypatch, tmp_path):
    from IPython.core.formatters import format_display_data

    from rootwatch.notebook import display
    from rootwatch.report import html as report

    displayed = []
    monkeypatch.setattr("IPython.display.display", displayed.append)
    for chart in _shown(run, monkeypatch):
        display.show_chart(chart)
    outputs = [nbformat.v4.new_output("display_data", data=data, metadata=metadata)
               for data, metadata in map(format_display_data, displayed)]
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(outputs=outputs)])
    nbformat.write(notebook, tmp_path / "nb.ipynb")
    html = report.notebook_html(tmp_path / "nb.ipynb", report.Cover("t", "r", [], [], []))
    alts = re.findall(r'<img [^>]*?\balt="([^"]*)"', html)
    # the organization's, then three accounts' four charts (eventbridge-only has no alarm, so no alarm chart)
    assert len(alts) == len(displayed) == 1 + 3 * 4 - 1
    assert "No description" not in html
    assert any(a.startswith("Alarm root-usage, ") and "went to ALARM 31 times" in a
               and "13 counted root events raised no notified alarm in time." in a for a in alts)


def test_the_pdf_tags_each_chart_with_its_alt_text(tmp_path):
    pytest.importorskip("weasyprint")
    from rootwatch.report import pdf

    png = io.BytesIO()
    charts.hour_weekday(frames.frame("root_events", [])).figure.savefig(png, format="png")
    src = base64.b64encode(png.getvalue()).decode()
    (tmp_path / "r.html").write_text(f'<img alt="Root events by hour: 7 events" src="data:image/png;base64,{src}">')
    outcome = pdf.render(tmp_path / "r.html", tmp_path / "r.pdf", "weasyprint")
    if not outcome.produced:
        pytest.skip(outcome.message)
    data = (tmp_path / "r.pdf").read_bytes()
    streams = [data] + [zlib.decompressobj().decompress(m) for m in re.findall(rb"stream\r?\n(.*?)endstream", data,
                                                                                re.S) if m[:1] == b"x"]
    assert any(b"/Alt (Root events by hour: 7 events)" in s for s in streams)


def test_the_chain_over_the_window_draws_each_link_and_says_its_numbers():
    """Issue 19: a row per link (and the whole chain) of operated, broken and unknown spans; root events
    as ticks, those inside a break apart; the alt text gives each row's shares."""
    window = Window(datetime(2026, 7, 1, tzinfo=UTC), datetime(2026, 7, 11, tzinfo=UTC))
    day = timedelta(days=1)
    rows = [("logging", "PASS", 0, 2), ("logging", "FAIL", 2, 3), ("logging", "PASS", 3, 10),
            ("whole chain", "GAP", 0, 1), ("whole chain", "PASS", 1, 2), ("whole chain", "FAIL", 2, 3),
            ("whole chain", "PASS", 3, 10)]
    intervals = pd.DataFrame([(link, status, window.start + a * day, window.start + b * day)
                              for link, status, a, b in rows], columns=["link", "status", "start", "end"])
    roots = pd.DataFrame({"time": [window.start + 2.5 * day, window.start + 5 * day], "in_break": [True, False]})
    chart = charts.chain_operation(intervals, roots, window, "healthy (111111111111)")
    assert chart.alt == ("The chain of healthy (111111111111) over 2026-07-01 to 2026-07-11, link by link: logging "
                         "operated 90.0 %, broken 1 time (10.0 %), not known 0.0 %; whole chain operated 80.0 %, "
                         "broken 1 time (10.0 %), not known 10.0 %. 2 root events the benchmark counts, 1 of them "
                         "while the chain was broken (red ticks).")
    ax = chart.figure.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["whole chain", "logging"]
    ticks = [line for line in ax.get_lines() if line.get_gid() == charts.ROOT_TICKS]
    assert [len(line.get_xdata()) for line in ticks] == [1, 1]
    broken = [p for p in ax.patches if p.get_gid() == "operation-FAIL"]
    assert len(broken) == 2


def test_root_activity_opens_with_counts_by_event_name_source_ip_and_mfa(run):
    """Section 5's summary adds up to the account's root events under each heading, most frequent
    first, with what the filter counts: the reader sees the pattern before the event-by-event tables."""
    events = run.frame("root_events", DRIFTED)
    summary = run.root_activity_summary(DRIFTED)
    assert list(summary["by"].unique()) == ["event name", "source IP", "MFA used"]
    for by in ("event name", "source IP", "MFA used"):
        part = summary[summary["by"] == by]
        assert part["root events"].sum() == len(events)
        assert part["counted by the filter"].sum() == int(events["counted"].astype(bool).sum())
        assert list(part["root events"]) == sorted(part["root events"], reverse=True)
    assert set(summary[summary["by"] == "MFA used"]["value"]) <= {"yes", "no", "(not recorded)"}  # words, not Python

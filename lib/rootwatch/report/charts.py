"""Matplotlib figures from the frames, each with its alt text: the judged alarm's states over the
window, root events per day with that alarm's transitions and the uncovered events, root events per
account and week (the organization), by name and by source IP.

Object-oriented API only (no pyplot state), one pinned style, and labels from CloudTrail drawn as
plain text: math rendering is off because ``$`` in attacker-controlled text must not be parsed.
Every chart comes with a sentence stating what it shows in numbers (``Chart.alt``): the report's
``<img alt>`` and the PDF's figure tag, for a reader who cannot see the image and for an auditor
who searches the text.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")  # before pyplot is ever imported anywhere: charts render headless

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter, date2num
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from rootwatch.models import Window
from rootwatch.words import duration, plural

STYLE = {"text.parse_math": False, "font.size": 9, "axes.spines.top": False, "axes.spines.right": False,
         "figure.dpi": 110, "axes.titleweight": "bold"}
UNKNOWN = "unknown"  # the state of an alarm whose history could not be read
STATE_COLOURS = {"OK": "#3a923a", "ALARM": "#d62728", "INSUFFICIENT_DATA": "#9e9e9e", UNKNOWN: "#d9d9d9"}
COUNTED, UNCOVERED, NOT_COUNTED = "#1f77b4", "#6a3d9a", "#ff7f0e"
LABEL_LIMIT = 40
# The narrowest an ALARM span is drawn, as a share of the window: five minutes are 0.004 % of a
# 90-day axis, less than a pixel at any resolution; 0.4 % is some four pixels of the report's chart.
ALARM_MIN_WIDTH = 0.004
TRANSITIONS = "alarm-transitions"  # gid of the markers: one per transition to ALARM
UNCOVERED_CELL = "uncovered-cell"  # gid of the heat map's frames around cells holding uncovered events
DAY = pd.Timedelta(days=1)


@dataclass(frozen=True)
class Chart:
    """A figure and what it shows in words and numbers (its alt text)."""

    figure: Figure
    alt: str


@contextmanager
def style() -> Iterator[None]:
    with matplotlib.rc_context(STYLE):
        yield


def _figure(height: float = 2.6) -> tuple[Figure, object]:
    """A figure on the Agg canvas from the start: laying it out and saving it as PNG then share one
    renderer, which measures each label once (a bare figure is laid out by one renderer and drawn by
    another, and each measures every text: half the text measuring, the same PNG)."""
    fig = Figure(figsize=(9, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig, fig.add_subplot()


def _short(text: object) -> str:
    value = "(none)" if text is None or (isinstance(text, float) and pd.isna(text)) or text is pd.NA else str(text)
    return value if len(value) <= LABEL_LIMIT else value[: LABEL_LIMIT - 1] + "…"


def _num(times: object) -> np.ndarray:
    """UTC times as matplotlib date numbers (days): widths and minimums are then plain arithmetic."""
    index = pd.DatetimeIndex(pd.Series(times, dtype="datetime64[ns, UTC]"))
    return date2num(index.tz_convert("UTC").tz_localize(None).to_numpy())


def _time_axis(ax: object, window: Window) -> None:
    ax.set_xlim(_num([window.start, window.end]))
    locator = AutoDateLocator()
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))


def _day(time: object) -> str:
    return f"{pd.Timestamp(time):%Y-%m-%d}"


def _window(window: Window) -> str:
    return f"{window.start:%Y-%m-%d} to {window.end:%Y-%m-%d}"


# --- the judged alarm --------------------------------------------------------------------------
def state_updates(history: pd.DataFrame, window: Window) -> pd.DataFrame:
    """An alarm's StateUpdate items inside the window, oldest first (unreadable states as ``unknown``)."""
    updates = history[(history.item_type == "StateUpdate") & (history.time >= window.start)
                      & (history.time < window.end)].sort_values("time", kind="stable")
    return updates.assign(old_state=updates.old_state.fillna(UNKNOWN), new_state=updates.new_state.fillna(UNKNOWN))


def _spans(updates: pd.DataFrame, window: Window, initial: str) -> list[tuple[pd.Timestamp, pd.Timestamp, str]]:
    edges = [pd.Timestamp(window.start), *updates.time, pd.Timestamp(window.end)]
    return list(zip(edges, edges[1:], [initial, *updates.new_state]))


def _drawn(begin: pd.Timestamp, end: pd.Timestamp, floor: pd.Timedelta,
           window: Window) -> tuple[pd.Timestamp, pd.Timedelta]:
    """Where a span is drawn (left, width): at least ``floor`` wide, and moved left by what it grew
    past the window's end (a short ALARM in the last hours would otherwise be cut off)."""
    width = max(end - begin, floor)
    return max(min(begin, pd.Timestamp(window.end) - width), pd.Timestamp(window.start)), width


def alarm_timeline(history: pd.DataFrame, alarm: str, window: Window, state_now: str | None, uncovered: int,
                   unread: bool = False) -> Chart:
    """One alarm's states across the window from its StateUpdate history. ``history`` is that
    alarm's alone (the alarm the chain judged: another alarm's transitions would read as this one
    firing for no reason). Each transition to ALARM is a marker and each ALARM span is drawn at
    least ``ALARM_MIN_WIDTH`` of the window wide: a five-minute ALARM shows on a 90-day axis.
    ``state_now``: the alarm's current state, its state throughout when nothing changed;
    ``uncovered``: the account's counted root events that raised no notified alarm in time;
    ``unread``: the history could not be read (its states are then unknown, not "always OK")."""
    updates = state_updates(history, window)
    initial = updates.old_state.iloc[0] if len(updates) else UNKNOWN if unread else (state_now or UNKNOWN)
    spans = _spans(updates, window, initial)
    fired = updates[updates.new_state == "ALARM"].time
    floor = ALARM_MIN_WIDTH * (pd.Timestamp(window.end) - pd.Timestamp(window.start))
    in_alarm = [end - begin for begin, end, state in spans if state == "ALARM"]
    name = _short(alarm)
    with style():
        fig, ax = _figure(1.9)
        for state in dict.fromkeys(state for _, _, state in sorted(spans, key=lambda s: s[2] == "ALARM")):
            part = [_drawn(begin, end, floor if state == "ALARM" else pd.Timedelta(0), window)
                    for begin, end, s in spans if s == state]
            label = f"ALARM (drawn at least {duration(floor, largest=2)} wide)" if state == "ALARM" else \
                "history not read" if state == UNKNOWN and unread else state
            ax.barh(0.5, [w / DAY for _, w in part], left=_num([b for b, _ in part]), height=1, lw=0, label=label,
                    color=STATE_COLOURS.get(state, STATE_COLOURS[UNKNOWN]), gid=f"state-{state}")
        ax.plot(_num(fired), np.full(len(fired), 1.3), ls="none", marker="v", ms=6, color=STATE_COLOURS["ALARM"],
                gid=TRANSITIONS, label=f"went to ALARM ({len(fired)})", clip_on=False)
        ax.set_ylim(0, 1.6)
        ax.set_yticks([])
        _time_axis(ax, window)
        said = "history not read" if unread else f"{len(fired)} × ALARM"
        ax.set_title(f"Alarm {name}: {said}; {plural(uncovered, 'root event')} uncovered", loc="left")
        fig.legend(loc="outside lower center", ncols=4, frameon=False, fontsize=8)
    if unread:
        alt = f"Alarm {name}, {_window(window)}: its history could not be read, so its states are unknown."
    else:
        spent = (f"in ALARM for {duration(sum(in_alarm, pd.Timedelta(0)), largest=2)} in all, the longest "
                 f"{duration(max(in_alarm), largest=2)}" if in_alarm else "never in ALARM")
        alt = (f"Alarm {name}, {_window(window)}: went to ALARM {plural(len(fired), 'time')}, {spent}; "
               f"state at the start {initial}, "
               f"at the end {spans[-1][2]}. Each transition to ALARM is a red marker; every ALARM span is drawn at "
               f"least {duration(floor, largest=2)} wide.")
    return Chart(fig, f"{alt} {plural(uncovered, 'counted root event')} raised no notified alarm in time.")


# --- root events ---------------------------------------------------------------------------------
def _kinds(events: pd.DataFrame, coverage: pd.DataFrame) -> pd.Series:
    """Each root event as counted and covered, counted but uncovered (no notified alarm in time), or not counted."""
    missed = events.event_id.isin(coverage.loc[~coverage.covered.astype(bool), "event_id"].dropna())
    counted = events.counted.fillna(False).astype(bool)
    return pd.Series(np.where(~counted, "not counted", np.where(missed, "uncovered", "covered")), index=events.index)


def root_events_per_day(events: pd.DataFrame, coverage: pd.DataFrame, history: pd.DataFrame, alarm: str | None,
                        window: Window) -> Chart:
    """Root events per day — counted and alarmed, counted but uncovered, not counted — with the
    judged alarm's transitions to ALARM (``history``: that alarm's alone; ``alarm`` None when the
    chain reached no alarm) as markers along the top."""
    days = pd.date_range(pd.Timestamp(window.start).floor("D"), pd.Timestamp(window.end).floor("D"), freq="D")
    kinds = _kinds(events, coverage)
    per_day = pd.crosstab(events.time.dt.floor("D"), kinds).reindex(index=days, columns=["covered", "uncovered",
                                                                                        "not counted"], fill_value=0)
    totals = per_day.sum()
    fired = state_updates(history, window).query("new_state == 'ALARM'").time
    with style():
        fig, ax = _figure(2.9)
        bottom = np.zeros(len(days))
        bars = (("covered", COUNTED, "", f"counted, alarm fired and notified ({totals['covered']})"),
                ("uncovered", UNCOVERED, "////",
                 f"counted, uncovered: no notified alarm in time ({totals['uncovered']})"),
                ("not counted", NOT_COUNTED, "", f"not counted by the metric filter ({totals['not counted']})"))
        for kind, colour, hatch, label in bars:
            # Bars of the days with events only (a 90-day window is mostly days of none, and each bar is
            # an artist to lay out and draw); a kind with none keeps one empty bar, whose colour and
            # hatch its legend entry takes.
            heights = per_day[kind].to_numpy()
            drawn = heights > 0 if heights.any() else np.arange(len(days)) == 0
            ax.bar(_num(days[drawn]) + 0.5, heights[drawn], width=0.8, bottom=bottom[drawn], color=colour,
                   hatch=hatch, edgecolor="white", lw=0, label=label, gid=f"events-{kind}")
            bottom = bottom + heights
        ax.set_ylim(0, max(1, bottom.max()) * 1.3 + 0.4)  # room for the markers above the highest bar
        if alarm:
            ax.plot(_num(fired), np.full(len(fired), 0.97), transform=ax.get_xaxis_transform(), ls="none",
                    marker="v", ms=6, color=STATE_COLOURS["ALARM"], gid=TRANSITIONS, clip_on=False,
                    label=f"alarm {_short(alarm)} went to ALARM ({len(fired)})")
        _time_axis(ax, window)
        ax.set_ylabel("root events")
        ax.set_title(f"Root events per day, and the transitions to ALARM of alarm {_short(alarm)}" if alarm else
                     "Root events per day (the chain reached no alarm)", loc="left")
        fig.legend(loc="outside lower center", ncols=2, frameon=False, fontsize=8)
    busiest = per_day.sum(axis=1)
    peak = f"; the busiest day {_day(busiest.idxmax())} with {busiest.max()}" if busiest.max() else ""
    alt = (f"Root events per day, {_window(window)}: {plural(int(busiest.sum()), 'root event')} on "
           f"{plural(int((busiest > 0).sum()), 'day')}{peak}. {totals['covered']} counted by the metric filter and "
           f"alarmed, {totals['uncovered']} counted but uncovered (no notified alarm in time, hatched purple), "
           f"{totals['not counted']} not counted. "
           + (f"Alarm {_short(alarm)} went to ALARM {plural(len(fired), 'time')} (red markers)." if alarm else
              "The chain reached no alarm."))
    return Chart(fig, alt)


def periods(window: Window) -> tuple[str, pd.DatetimeIndex]:
    """The organization charts' columns: weeks starting on Monday (the first holding the window's
    start), or days for a window of four weeks or less."""
    weekly = window.days > 28
    day = pd.Timestamp(window.start).floor("D")
    first = day - pd.Timedelta(days=day.day_of_week) if weekly else day
    return ("week" if weekly else "day"), pd.date_range(first, pd.Timestamp(window.end) - pd.Timedelta(1),
                                                        freq="7D" if weekly else "D")


def root_events_heatmap(events: pd.DataFrame, coverage: pd.DataFrame, accounts: dict[str, str],
                        window: Window) -> Chart:
    """Accounts × weeks (days for a window of four weeks or less): root events per cell, uncovered
    events (no notified alarm in time) in brackets and framed red. ``accounts``: account id → label,
    in the report's order."""
    unit, columns = periods(window)
    weekly = unit == "week"

    def bins(times: pd.Series) -> pd.Series:
        day = times.dt.floor("D")
        return day - pd.to_timedelta(day.dt.day_of_week, unit="D") if weekly else day

    missed = coverage[~coverage.covered.astype(bool)]
    counts, uncovered = (pd.crosstab(df.account_id, bins(df.time)).reindex(index=list(accounts), columns=columns,
                                                                            fill_value=0)
                         for df in (events, missed))
    grid = counts.to_numpy()
    with style():
        fig, ax = _figure(max(1.8, 0.4 * len(accounts) + 1.3))
        image = ax.imshow(grid, cmap="Blues", aspect="auto", interpolation="nearest", vmin=0, vmax=max(1, grid.max()))
        for y, x in zip(*np.nonzero(grid)):
            n, u = int(grid[y, x]), int(uncovered.iat[y, x])
            ax.text(x, y, f"{n} ({u})" if u else str(n), ha="center", va="center", fontsize=7,
                    color="white" if n > 0.6 * grid.max() else "black")
            if u:
                ax.add_patch(Rectangle((x - 0.45, y - 0.45), 0.9, 0.9, fill=False, edgecolor=STATE_COLOURS["ALARM"],
                                       lw=1.5, gid=UNCOVERED_CELL))
        step = max(1, len(columns) // 14)
        ax.set_xticks(range(0, len(columns), step), [f"{c:%m-%d}" for c in columns[::step]])
        ax.set_yticks(range(len(accounts)), [_short(label) for label in accounts.values()])
        ax.tick_params(length=0)
        fig.colorbar(image, ax=ax, label="root events", shrink=0.9)
        ax.set_title(f"Root events per account and {unit}", loc="left")
        ax.set_xlabel(f"{'week starting' if weekly else 'day'} (UTC); in brackets and framed red: uncovered events "
                      "(no notified alarm in time)")
    per_account = "; ".join(f"{label}: {plural(int(counts.loc[a].sum()), 'root event')} in "
                            f"{int((counts.loc[a] > 0).sum())} of {plural(len(columns), unit)}, "
                            f"{int(uncovered.loc[a].sum())} uncovered" for a, label in accounts.items())
    top = np.unravel_index(grid.argmax(), grid.shape) if grid.size else None
    when = f"{'week of' if weekly else 'on'} {_day(columns[top[1]])}" if top is not None else ""
    busiest = (f" The busiest cell: {list(accounts.values())[top[0]]}, {when}, {int(grid[top])} events."
               if top is not None and grid[top] else "")
    alt = f"Root events per account and {unit}, {_window(window)}, {plural(len(accounts), 'account')}: {per_account}."
    return Chart(fig, alt + busiest)


def root_events_by(events: pd.DataFrame, column: str, title: str, top: int = 12) -> Chart:
    """Horizontal bars of the most frequent values of ``column`` (event name, source IP)."""
    everything = events[column].map(_short).value_counts()
    counts = everything.head(top).sort_values()
    with style():
        fig, ax = _figure(max(1.6, 0.28 * len(counts) + 0.8))
        ax.barh(counts.index.astype(str), counts.values, color=COUNTED)
        ax.set_xlabel("events")
        ax.set_title(title, loc="left")
    listed = ", ".join(f"{value} {n}" for value, n in everything.head(top).items())
    alt = (f"{title}: {plural(len(events), 'root event')}, {plural(len(everything), 'distinct value')}"
           + (f"; the {min(top, len(everything))} most frequent: {listed}." if listed else "."))
    return Chart(fig, alt)


def status_heatmap(matrix: pd.DataFrame) -> Chart:
    """Accounts × controls, coloured PASS / FAIL / GAP: the organization at a glance."""
    from matplotlib.colors import ListedColormap

    codes = {"PASS": 0, "GAP": 1, "FAIL": 2}
    colours = ListedColormap(["#3a923a", "#e0b000", "#d62728"])
    with style():
        fig, ax = _figure(max(1.4, 0.3 * len(matrix) + 1.0))
        values = matrix.apply(lambda col: col.map(codes)).to_numpy(dtype=float)
        ax.imshow(values, cmap=colours, vmin=0, vmax=2, aspect="auto", interpolation="nearest")
        # a rootwatch test by its id ("RW-2"): its full name is in the verdict table beside the chart
        ax.set_xticks(range(len(matrix.columns)), [str(c).split(" ")[0] for c in matrix.columns])
        ax.set_yticks(range(len(matrix.index)), [_short(i) for i in matrix.index])
        ax.tick_params(length=0)
        for y, row in enumerate(matrix.itertuples(index=False)):
            for x, status in enumerate(row):
                if status in codes:
                    ax.text(x, y, status, ha="center", va="center", fontsize=7, color="white")
        ax.set_title(f"Accounts × {_checks(matrix.columns)}\ngreen PASS, amber GAP, red FAIL; blank: no such "
                     "finding (RW-3: no EventBridge rule on root use)", loc="left", fontsize=9)
    cells = matrix.stack()
    tally = ", ".join(f"{int((cells == s).sum())} {s}" for s in codes)
    blank = int(matrix.size - cells.isin(list(codes)).sum())
    tally += f", {blank} without a finding (blank)" if blank else ""
    failing = [f"{account} {control}" for (account, control), status in cells.items() if status == "FAIL"]
    named = f"; FAIL: {', '.join(failing[:10])}" + (f" and {len(failing) - 10} more" if len(failing) > 10 else "")
    alt = (f"Verdicts of {plural(len(matrix), 'account')} × {len(matrix.columns)} {_checks(matrix.columns)}: {tally}"
           + (named if failing else "") + ".")
    return Chart(fig, alt)


def _checks(columns: pd.Index) -> str:
    """What the columns are: CIS controls, and rootwatch's own tests (``RW-…``) when there are any."""
    return "CIS controls and rootwatch tests" if any(str(c).startswith("RW-") for c in columns) else "CIS controls"


def root_timeline(events: pd.DataFrame, window: Window) -> Chart:
    """Every root event as a mark on its account's row: counted by a metric filter or not."""
    with style():
        accounts = sorted(events.account_id.dropna().unique().tolist()) or ["(no root events)"]
        fig, ax = _figure(max(1.6, 0.45 * len(accounts) + 1.0))
        rows = {a: i for i, a in enumerate(accounts)}
        for counted, colour, label in ((True, COUNTED, "counted by a metric filter"),
                                       (False, NOT_COUNTED, "not counted")):
            part = events[events.counted == counted]
            ax.scatter(_num(part.time), part.account_id.map(rows), s=18, marker="|" if counted else "x",
                       color=colour, label=label, linewidths=1.2)
        ax.set_yticks(range(len(accounts)), [_short(a) for a in accounts])
        ax.set_ylim(-0.6, len(accounts) - 0.4)
        _time_axis(ax, window)
        ax.legend(loc="upper left", frameon=False, fontsize=8, ncols=2)
        ax.set_title("Root events over time, per account", loc="left")
    per_account = "; ".join(f"{_short(a)}: {plural(len(own), 'root event')}, {int(own.counted.sum())} counted by a "
                            f"metric filter" for a, own in events.groupby("account_id"))
    return Chart(fig, f"Root events over time, {_window(window)}: {per_account or 'none'}.")


def hour_weekday(events: pd.DataFrame) -> Chart:
    """Root events by UTC hour and weekday: use at night or at weekends stands out."""
    days = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    grid = (pd.crosstab(events.time.dt.day_of_week, events.time.dt.hour)
            .reindex(index=range(7), columns=range(24), fill_value=0))
    with style():
        fig, ax = _figure(2.4)
        image = ax.imshow(grid.to_numpy(), cmap="Reds", aspect="auto", interpolation="nearest", vmin=0)
        ax.set_yticks(range(7), days)
        ax.set_xticks(range(0, 24, 2), [f"{h:02d}" for h in range(0, 24, 2)])
        ax.set_xlabel("hour (UTC)")
        fig.colorbar(image, ax=ax, label="root events", shrink=0.9)
        ax.set_title("Root events by hour and weekday", loc="left")
    night = int(grid[[h for h in range(24) if h < 6 or h >= 22]].to_numpy().sum())
    weekend = int(grid.loc[[5, 6]].to_numpy().sum())
    day, hour = np.unravel_index(grid.to_numpy().argmax(), grid.shape)
    peak = f"; the busiest: {days[day]} {hour:02d}:00 with {grid.iat[day, hour]}" if grid.to_numpy().any() else ""
    return Chart(fig, f"Root events by UTC hour and weekday: {plural(int(grid.to_numpy().sum()), 'event')}, "
                      f"{night} between 22:00 and 06:00, {weekend} at weekends{peak}.")


# --- the chain over the window (issue 19) ---------------------------------------------------------
OPERATION_COLOURS = {"PASS": "#3a923a", "FAIL": "#d62728", "GAP": "#d9d9d9"}
ROOT_TICKS = "root-in-window"  # gid of the root events' ticks


def chain_operation(intervals: pd.DataFrame, roots: pd.DataFrame, window: Window, account: str) -> Chart:
    """Each link of the chain (and the whole chain, the bottom row) as a row of intervals across the
    window: operated (PASS), broken (FAIL) or not known (GAP); the root events the benchmark counts
    as ticks above, red where they fell while the chain was broken. ``intervals``: ``link`` (its
    title), ``status``, ``start``, ``end``, in row order; ``roots``: ``time``, ``in_break`` (bool).
    Spans are drawn at least ``ALARM_MIN_WIDTH`` of the window wide: a break of minutes shows."""
    rows = list(dict.fromkeys(intervals.link))
    floor = ALARM_MIN_WIDTH * (pd.Timestamp(window.end) - pd.Timestamp(window.start))
    total = pd.Timestamp(window.end) - pd.Timestamp(window.start)
    with style():
        fig, ax = _figure(0.9 + 0.32 * (len(rows) + 1))
        for status, colour in OPERATION_COLOURS.items():
            part = intervals[intervals.status == status]
            spans = [_drawn(pd.Timestamp(b), pd.Timestamp(e), floor if status != "PASS" else pd.Timedelta(0),
                            window) for b, e in zip(part.start, part.end)]
            ax.barh([len(rows) - 1 - rows.index(r) for r in part.link], [w / DAY for _, w in spans],
                    left=_num([b for b, _ in spans]) if spans else [], height=0.7, lw=0, color=colour,
                    label={"PASS": "operated", "FAIL": "broken", "GAP": "not known"}[status], gid=f"operation-{status}")
        missed = roots[roots.in_break.astype(bool)]
        for subset, colour, label in ((roots[~roots.in_break.astype(bool)], "#333333", "root event"),
                                      (missed, OPERATION_COLOURS["FAIL"], "root event while broken")):
            ax.plot(_num(subset.time), np.full(len(subset), len(rows) - 0.1), ls="none", marker="|", ms=10,
                    color=colour, gid=ROOT_TICKS, label=f"{label} ({len(subset)})", clip_on=False)
        ax.set_yticks(range(len(rows)), [_short(r) for r in reversed(rows)])
        ax.set_ylim(-0.6, len(rows) + 0.2)
        _time_axis(ax, window)
        ax.set_title(f"{_short(account)}: the chain over the window", loc="left")
        fig.legend(loc="outside lower center", ncols=5, frameon=False, fontsize=8)
    said = []
    by = intervals.assign(spent=intervals.end - intervals.start).groupby(["link", "status"]).spent
    spent, spans = by.sum(), by.size()
    for row in rows:
        shares = {s: spent.get((row, s), pd.Timedelta(0)) / total for s in OPERATION_COLOURS}
        broken = int(spans.get((row, "FAIL"), 0))
        said.append(f"{row} operated {shares['PASS'] * 100:.1f} %, broken {plural(broken, 'time')} "
                    f"({shares['FAIL'] * 100:.1f} %), not known {shares['GAP'] * 100:.1f} %")
    alt = (f"The chain of {_short(account)} over {_window(window)}, link by link: {'; '.join(said)}. "
           f"{plural(len(roots), 'root event')} the benchmark counts, {len(missed)} of them while the chain was "
           "broken (red ticks).")
    return Chart(fig, alt)


# --- the organization's chains over the window (issue 19) ------------------------------------------
WEEK_STATES = {"operated": "#3a923a", "broken": "#d62728", "not known": "#d9d9d9"}  # a cell's words and colour
# what a cell means, in its legend: a period is broken if it was for any part, else not known if any part was unread
WEEK_LEGEND = {"operated": "operated all of it", "broken": "broken for some or all of it",
               "not known": "not known for some of it, never broken"}
ACCOUNTS_PER_PAGE = 40  # rows one printed page holds legibly: more accounts go on further charts


def chain_weeks(weeks: pd.DataFrame, window: Window, per_page: int = ACCOUNTS_PER_PAGE) -> list[Chart]:
    """Accounts × weeks (days for four weeks or less) of the whole chain: operated all that period,
    broken for part of it (or all), or not known (its history unread, for part of it, without a
    break). ``weeks``: ``operation_weeks``' frame (account label → one state per period). Every
    account is drawn: past ``per_page`` rows the accounts go on further charts, each title saying
    which of how many it shows."""
    unit = "week" if window.days > 28 else "day"
    codes = {state: n for n, state in enumerate(WEEK_STATES)}
    pages = [weeks.iloc[i:i + per_page] for i in range(0, len(weeks), per_page)] or [weeks]
    out = []
    for n, page in enumerate(pages):
        shown = (f"accounts {n * per_page + 1}–{n * per_page + len(page)} of {len(weeks)}" if len(pages) > 1
                 else f"all {plural(len(weeks), 'account')}")
        with style():
            from matplotlib.colors import ListedColormap
            from matplotlib.patches import Patch

            fig, ax = _figure(max(1.6, 0.3 * len(page) + 1.3))
            grid = page.apply(lambda col: col.map(codes)).to_numpy(dtype=float).reshape(len(page), len(weeks.columns))
            ax.imshow(grid, cmap=ListedColormap(list(WEEK_STATES.values())), vmin=0, vmax=len(codes) - 1,
                      aspect="auto", interpolation="nearest")
            step = max(1, len(weeks.columns) // 14)
            ax.set_xticks(range(0, len(weeks.columns), step), [f"{c:%m-%d}" for c in weeks.columns[::step]])
            ax.set_yticks(range(len(page)), [_short(label) for label in page.index])
            ax.tick_params(length=0)
            ax.set_title(f"The chain per account and {unit}, {shown}", loc="left")
            ax.set_xlabel(f"{unit} starting (UTC)")
            fig.legend(handles=[Patch(color=c, label=WEEK_LEGEND[s]) for s, c in WEEK_STATES.items()],
                       loc="outside lower center", ncols=3, frameon=False, fontsize=8)
        said = "; ".join(f"{label}: " + ", ".join(f"{int((row == s).sum())} {s}" for s in WEEK_STATES)
                         for label, row in page.iterrows())
        out.append(Chart(fig, f"The chain per account and {unit}, {_window(window)}, {shown} "
                              f"({plural(len(weeks.columns), unit)} each): {said}."))
    return out

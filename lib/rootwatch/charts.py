"""Matplotlib figures from the frames: alarm states over the window, root events per day with
the alarm's transitions, root events by name and by source IP.

Object-oriented API only (no pyplot state), one pinned style, and labels from CloudTrail drawn as
plain text: math rendering is off because ``$`` in attacker-controlled text must not be parsed.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import matplotlib

matplotlib.use("Agg")  # before pyplot is ever imported anywhere: charts render headless

import itertools

import pandas as pd
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
from matplotlib.figure import Figure

from rootwatch.models import Window

STYLE = {"text.parse_math": False, "font.size": 9, "axes.spines.top": False, "axes.spines.right": False,
         "figure.dpi": 110, "savefig.dpi": 150, "svg.hashsalt": "rootwatch", "axes.titleweight": "bold"}
STATE_COLOURS = {"OK": "#3a923a", "ALARM": "#d62728", "INSUFFICIENT_DATA": "#9e9e9e"}
LABEL_LIMIT = 40


@contextmanager
def style() -> Iterator[None]:
    with matplotlib.rc_context(STYLE):
        yield


def _figure(height: float = 2.6) -> tuple[Figure, object]:
    fig = Figure(figsize=(9, height), layout="constrained")
    return fig, fig.add_subplot()


def _short(text: object) -> str:
    value = "(none)" if text is None or (isinstance(text, float) and pd.isna(text)) else str(text)
    return value if len(value) <= LABEL_LIMIT else value[: LABEL_LIMIT - 1] + "…"


def _time_axis(ax: object, window: Window) -> None:
    ax.set_xlim(window.start, window.end)
    locator = AutoDateLocator()
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))


def alarm_timeline(history: pd.DataFrame, alarm: str, window: Window) -> Figure:
    """The alarm's state across the window, from its StateUpdate history."""
    with style():
        fig, ax = _figure(1.6)
        updates = history[(history.alarm_name == alarm) & (history.item_type == "StateUpdate")].sort_values("time")
        state = updates.old_state.iloc[0] if len(updates) else "OK"
        edges = [window.start, *updates.time.tolist(), window.end]
        states = [state, *updates.new_state.tolist()]
        for (begin, end), value in zip(itertools.pairwise(edges), states):
            ax.axvspan(begin, end, color=STATE_COLOURS.get(value, "#9e9e9e"), lw=0)
        ax.set_yticks([])
        _time_axis(ax, window)
        ax.set_title(f"Alarm {_short(alarm)}: state over the window (red = ALARM)", loc="left")
        return fig


def root_events_per_day(events: pd.DataFrame, history: pd.DataFrame, window: Window) -> Figure:
    """Root events per day, counted by the filter or not, with the alarm's OK→ALARM transitions."""
    with style():
        fig, ax = _figure()
        days = pd.date_range(window.start.date(), window.end.date(), freq="D", tz="UTC")
        per_day = (events.assign(day=events.time.dt.floor("D"))
                   .groupby(["day", "counted"]).size().unstack(fill_value=0).reindex(days, fill_value=0))
        counted = per_day.get(True, pd.Series(0, index=days))
        missed = per_day.get(False, pd.Series(0, index=days))
        ax.bar(days, counted, width=0.8, color="#1f77b4", label="counted by the metric filter")
        ax.bar(days, missed, width=0.8, bottom=counted, color="#ff7f0e", label="not counted")
        alarms = history[(history.item_type == "StateUpdate") & (history.new_state == "ALARM")]
        line = {"color": STATE_COLOURS["ALARM"], "lw": 0.8, "alpha": 0.7}
        for moment in alarms.time.head(1):  # the legend's entry
            ax.axvline(moment, **line, label="alarm went to ALARM")
        # the others as one collection, drawn alike: every alarm of the account has transitions (hundreds of lines)
        ax.vlines(alarms.time.iloc[1:], 0, 1, transform=ax.get_xaxis_transform(), capstyle="projecting", **line)
        _time_axis(ax, window)
        ax.set_ylabel("root events")
        ax.legend(loc="upper left", frameon=False, fontsize=8)
        ax.set_title("Root events per day and alarm transitions", loc="left")
        return fig


def root_events_by(events: pd.DataFrame, column: str, title: str, top: int = 12) -> Figure:
    """Horizontal bars of the most frequent values of ``column`` (event name, source IP)."""
    with style():
        counts = events[column].map(_short).value_counts().head(top).sort_values()
        fig, ax = _figure(max(1.6, 0.28 * len(counts) + 0.8))
        ax.barh(counts.index.astype(str), counts.values, color="#1f77b4")
        ax.set_xlabel("events")
        ax.set_title(title, loc="left")
        return fig


def status_heatmap(matrix: pd.DataFrame) -> Figure:
    """Accounts × controls, coloured PASS / FAIL / GAP: the organization at a glance."""
    from matplotlib.colors import ListedColormap

    codes = {"PASS": 0, "GAP": 1, "FAIL": 2}
    colours = ListedColormap(["#3a923a", "#e0b000", "#d62728"])
    with style():
        fig, ax = _figure(max(1.4, 0.3 * len(matrix) + 1.0))
        values = matrix.apply(lambda col: col.map(codes)).to_numpy(dtype=float)
        ax.imshow(values, cmap=colours, vmin=0, vmax=2, aspect="auto", interpolation="nearest")
        ax.set_xticks(range(len(matrix.columns)), [str(c) for c in matrix.columns])
        ax.set_yticks(range(len(matrix.index)), [_short(i) for i in matrix.index])
        ax.tick_params(length=0)
        for y, row in enumerate(matrix.itertuples(index=False)):
            for x, status in enumerate(row):
                ax.text(x, y, status, ha="center", va="center", fontsize=7, color="white")
        ax.set_title("Accounts × controls (green PASS, amber GAP, red FAIL)", loc="left")
        return fig


def root_timeline(events: pd.DataFrame, window: Window) -> Figure:
    """Every root event as a mark on its account's row: counted by a metric filter or not."""
    with style():
        accounts = sorted(events.account_id.dropna().unique().tolist()) or ["(no root events)"]
        fig, ax = _figure(max(1.6, 0.45 * len(accounts) + 1.0))
        rows = {a: i for i, a in enumerate(accounts)}
        for counted, colour, label in ((True, "#1f77b4", "counted by a metric filter"),
                                       (False, "#ff7f0e", "not counted")):
            part = events[events.counted == counted]
            ax.scatter(part.time, part.account_id.map(rows), s=18, marker="|" if counted else "x", color=colour,
                       label=label, linewidths=1.2)
        ax.set_yticks(range(len(accounts)), [_short(a) for a in accounts])
        ax.set_ylim(-0.6, len(accounts) - 0.4)
        _time_axis(ax, window)
        ax.legend(loc="upper left", frameon=False, fontsize=8, ncols=2)
        ax.set_title("Root events over time, per account", loc="left")
        return fig


def hour_weekday(events: pd.DataFrame) -> Figure:
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
        return fig

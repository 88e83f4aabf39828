"""A space's dashboard: its information-velocity metrics as charts, each with its table.

The numbers come from :func:`kith.actions.metrics.get_space_metrics` (definitions in
docs/metrics.md), read when the page is asked for; readers of the space only (a private
space's dashboard is a 404 to everyone else, like the space itself).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from kith.actions import metrics, spaces, web_pages
from kith.web import charts
from kith.web.charts import Bar, Chart, Series
from kith.web.pages import _id
from kith.web.render import WebRoute, render
from kith.web.session import AppDep, SignedDep

router = APIRouter(route_class=WebRoute, include_in_schema=False)

WEEKS = (4, 8, 12)
# Time to first answer, in bins a reader thinks in.
ANSWER_BINS = (
    ("< 15 min", 15 * 60),
    ("15–60 min", 3600),
    ("1–4 h", 4 * 3600),
    ("4–8 h", 8 * 3600),
    ("8–24 h", 86400),
    ("1–3 d", 3 * 86400),
    ("> 3 d", None),
)


@router.get("/spaces/{space_id}/dashboard")
def dashboard(
    request: Request,
    app: AppDep,
    signed: SignedDep,
    space_id: int,
    weeks: Annotated[int, Query(ge=1, le=52)] = 8,
) -> HTMLResponse:
    viewer = signed.viewer
    view = spaces.get_space(app, viewer, _id(space_id))
    weeks = weeks if weeks in WEEKS else 8
    today = app.clock().date()
    first = today - timedelta(days=7 * weeks - 1)
    found = metrics.get_space_metrics(app, viewer, space_id, start=first.isoformat(), end=today.isoformat())
    summary = found.summary
    asked = web_pages.question_times(
        app, viewer, space_id, datetime.combine(first, datetime.min.time(), app.clock().tzinfo), app.clock()
    )
    return render(
        request,
        "dashboard.html",
        {
            "view": view,
            "space": view.space,
            "weeks": weeks,
            "week_choices": WEEKS,
            "first": first,
            "last": today,
            "summary": summary,
            "reach": _reach_chart(summary),
            "answers": _answer_chart(asked, app.clock()),
            "coverage": _coverage_chart(summary),
            "waits": _waits_chart(found.days),
            "trend_questions": _trend_questions(found.days),
            "trend_reach": _trend_reach(found.days),
        },
    )


def _reach_chart(summary: dict[str, Any]) -> Any:
    reach = summary["reach"]
    curve = reach["curve"]
    t50, t90 = reach["t50"]["median_seconds"], reach["t90"]["median_seconds"]
    description = (
        f"Share of members who saw a post, against time since it was posted, over {reach['posts']} posts. "
        f"Half the members saw a post (T50) after {charts.hours(t50) if t50 else 'no median yet'}; "
        f"90% (T90) after {charts.hours(t90) if t90 else 'no median yet'}."
    )
    chart = Chart("reach-curve", "Reach: who saw a post, by time since posting", description, charts.percent)
    series = Series("members who saw it", tuple(p["share"] for p in curve))
    return charts.line_chart(
        chart, [p["after"] for p in curve], [series], ymax=1.0, guides=((0.5, "T50"), (0.9, "T90"))
    )


def answer_bins(asked: list[tuple[datetime, datetime | None]], now: datetime) -> tuple[list[int], int]:
    """How many questions got their first answer within each bin, and how many have none."""
    counts = [0] * len(ANSWER_BINS)
    open_ = 0
    for at, first in asked:
        if first is None:
            open_ += 1
            continue
        wait = (first - at).total_seconds()
        index = next(i for i, (_label, upper) in enumerate(ANSWER_BINS) if upper is None or wait < upper)
        counts[index] += 1
    return counts, open_


def _answer_chart(asked: list[tuple[datetime, datetime | None]], now: datetime) -> Any:
    counts, open_ = answer_bins(asked, now)
    bars = [Bar(label, float(n)) for (label, _upper), n in zip(ANSWER_BINS, counts, strict=True)]
    bars.append(Bar("no answer yet", float(open_)))
    chart = Chart(
        "first-answer",
        "Time to first answer",
        f"How long each of the {len(asked)} questions of the period waited for its first answer.",
        lambda v: f"{v:g}",
    )
    return charts.bar_chart(chart, bars, value_header="questions")


def _coverage_chart(summary: dict[str, Any]) -> Any:
    cover = summary["coverage"]
    bars = [Bar(f"{h:02d}", float(v)) for h, v in enumerate(cover["by_hour"])]
    chart = Chart(
        "coverage",
        "Coverage: members within working hours, by hour of the day (UTC)",
        f"Average members within their working hours at each UTC hour; {cover['hours_with_k']:.1f} hours "
        f"a day had at least {cover['k']} (the line).",
        lambda v: f"{v:.1f}",
    )
    return charts.bar_chart(
        chart,
        bars,
        threshold=float(cover["k"]),
        threshold_label=f"k = {cover['k']}",
        label_every=3,
        value_header="members within working hours",
    )


def _week(day: str) -> date:
    d = date.fromisoformat(day)
    return d - timedelta(days=d.weekday())


def weekly(days: tuple[dict[str, Any], ...]) -> list[dict[str, Any]]:
    """The daily series folded into weeks (Monday first): counts summed, shares weighted."""
    weeks: dict[date, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for entry in days:
        w = weeks[_week(entry["day"])]
        q = entry["questions"]
        w["asked"] += q["asked"]
        w["waited"] += q["timezone_waits"]["waited"]
        w["unanswered"] += q["unanswered_24h"]["unanswered"]
        w["eligible"] += q["unanswered_24h"]["eligible"]
        day_24h = next((p for p in entry["reach"]["curve"] if p["seconds"] == 86400), None)
        if day_24h and day_24h["share"] is not None and day_24h["posts"]:
            w["reach_posts"] += day_24h["posts"]
            w["reach_sum"] += day_24h["share"] * day_24h["posts"]
        w["covered"] += entry["coverage"]["hours_with_k"]
        w["days"] += 1
    return [
        {
            "week": start,
            "label": start.strftime("%d %b"),
            "asked": w["asked"],
            "waited": w["waited"],
            "unanswered": w["unanswered"],
            "reach_24h": w["reach_sum"] / w["reach_posts"] if w["reach_posts"] else None,
            "covered": w["covered"] / w["days"] if w["days"] else None,
        }
        for start, w in sorted(weeks.items())
    ]


def _waits_chart(days: tuple[dict[str, Any], ...]) -> Any:
    rows = weekly(days)
    chart = Chart(
        "waits",
        "Waits caused by time zones, by week",
        "Questions asked while no member who answers was within working hours, per week (starting Monday).",
        lambda v: f"{v:g}",
    )
    bars = [Bar(r["label"], r["waited"], f"of {r['asked']:g} asked") for r in rows]
    return charts.bar_chart(chart, bars, value_header="questions that waited")


def _trend_questions(days: tuple[dict[str, Any], ...]) -> Any:
    rows = weekly(days)
    chart = Chart(
        "trend-questions",
        "Questions by week",
        "Questions asked each week, those unanswered after 24 hours, and those that waited for a time zone.",
        lambda v: f"{v:g}",
    )
    series = [
        Series("asked", tuple(r["asked"] for r in rows), "s0"),
        Series("unanswered after 24 h", tuple(r["unanswered"] for r in rows), "s1"),
        Series("waited for a time zone", tuple(r["waited"] for r in rows), "s2"),
    ]
    return charts.line_chart(chart, [r["label"] for r in rows], series)


def _trend_reach(days: tuple[dict[str, Any], ...]) -> Any:
    rows = weekly(days)
    chart = Chart(
        "trend-reach",
        "Reach within 24 hours, by week",
        "Share of members who saw a week's posts within 24 hours of their posting.",
        charts.percent,
    )
    series = [Series("seen within 24 h", tuple(r["reach_24h"] for r in rows), "s0")]
    return charts.line_chart(chart, [r["label"] for r in rows], series, ymax=1.0)

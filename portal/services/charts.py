"""Small server-made SVG charts: no JavaScript, no internet, readable when printed.

Each chart is an <svg role="img"> labelled by its own <title> and <desc>, draws its numbers as text
beside the marks (colour never carries meaning alone) and is styled by CSS classes only (strict CSP).
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from flask_babel import gettext as _
from markupsafe import Markup, escape

WIDTH = 640


def _fmt(value: float | None, suffix: str = "") -> str:
    return "—" if value is None else f"{value:.0f}{suffix}"


def _svg(chart_id: str, title: str, desc: str, height: int, body: list[str]) -> Markup:
    # Every text piece is escaped and every number formatted here, so the markup is safe.
    return Markup(  # noqa: S704  # nosec B704
        f'<svg class="chart" id="{escape(chart_id)}" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-labelledby="{escape(chart_id)}-title {escape(chart_id)}-desc" '
        f'preserveAspectRatio="xMidYMid meet" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>'
        f'<desc id="{escape(chart_id)}-desc">{escape(desc)}</desc>'
        + "".join(body) + "</svg>"
    )


def bars(chart_id: str, title: str, entries: Sequence[tuple[str, float | None]], *,
         suffix: str = "", compare: Sequence[float | None] | None = None, compare_label: str = "",
         value_label: str = "") -> Markup:
    """Horizontal bars on a 0..100 scale, one per (label, value); optional thin comparison bars
    (e.g. the district average) under each."""
    label_w, right = 150, 60
    plot_w = WIDTH - label_w - right
    row_h = 40 if compare else 30
    top = 24 if compare else 8
    height = top + row_h * len(entries) + 24
    body = []
    if compare:
        body.append(f'<rect class="chart__bar" x="{label_w}" y="4" width="12" height="10"/>'
                    f'<text class="chart__legend" x="{label_w + 18}" y="13">{escape(value_label)}</text>'
                    f'<rect class="chart__bar chart__bar--compare" x="{label_w + 200}" y="6" width="12" '
                    f'height="6"/><text class="chart__legend" x="{label_w + 218}" y="13">'
                    f'{escape(compare_label)}</text>')
    for tick in (0, 50, 100):
        x = label_w + plot_w * tick / 100
        body.append(f'<line class="chart__grid" x1="{x:.1f}" y1="{top}" x2="{x:.1f}" '
                    f'y2="{top + row_h * len(entries)}"/>'
                    f'<text class="chart__tick" x="{x:.1f}" y="{height - 6}" text-anchor="middle">{tick}</text>')
    parts = []
    for index, (label, value) in enumerate(entries):
        y = top + index * row_h
        w = plot_w * max(0.0, min(100.0, value or 0.0)) / 100
        body.append(f'<text class="chart__label" x="{label_w - 8}" y="{y + 17}" text-anchor="end">'
                    f'{escape(label)}</text>'
                    f'<rect class="chart__bar" x="{label_w}" y="{y + 5}" width="{w:.1f}" height="16"/>'
                    f'<text class="chart__value" x="{label_w + w + 6:.1f}" y="{y + 18}">'
                    f'{escape(_fmt(value, suffix))}</text>')
        part = f"{label} {_fmt(value, suffix)}"
        if compare:
            other = compare[index]
            cw = plot_w * max(0.0, min(100.0, other or 0.0)) / 100
            body.append(f'<rect class="chart__bar chart__bar--compare" x="{label_w}" y="{y + 25}" '
                        f'width="{cw:.1f}" height="6"/>'
                        f'<text class="chart__value chart__value--compare" x="{label_w + cw + 6:.1f}" '
                        f'y="{y + 32}">{escape(_fmt(other, suffix))}</text>')
            part += f" ({compare_label} {_fmt(other, suffix)})"
        parts.append(part)
    return _svg(chart_id, title, "; ".join(parts), height, body)


def histogram(chart_id: str, title: str, values: Sequence[float], *, bins: int = 5,
              axis_label: str = "", counts: Sequence[int] | None = None) -> Markup:
    """How many branches fall in each progress band (0–20 %, …, 80–100 %): counted from `values`, or given
    as `counts` (one per band, e.g. counted in SQL)."""
    step = 100 / bins
    if counts is None:
        counts = [0] * bins
        for value in values:
            counts[min(bins - 1, int(max(0.0, value) // step))] += 1
    left, bottom, top = 40, 40, 16
    height = 220
    plot_h = height - top - bottom
    plot_w = WIDTH - left - 10
    bar_w = plot_w / bins
    peak = max(counts) or 1
    body = [f'<line class="chart__axis" x1="{left}" y1="{height - bottom}" x2="{WIDTH - 10}" '
            f'y2="{height - bottom}"/>']
    labels = []
    for index, count in enumerate(counts):
        h = plot_h * count / peak
        x = left + index * bar_w
        low, high = round(index * step), round((index + 1) * step)
        label = f"{low}–{high}%"
        labels.append(_("%(field)s: %(value)s", field=label, value=count))
        body.append(f'<rect class="chart__bar" x="{x + 6:.1f}" y="{height - bottom - h:.1f}" '
                    f'width="{bar_w - 12:.1f}" height="{h:.1f}"/>'
                    f'<text class="chart__value" x="{x + bar_w / 2:.1f}" y="{height - bottom - h - 4:.1f}" '
                    f'text-anchor="middle">{count}</text>'
                    f'<text class="chart__tick" x="{x + bar_w / 2:.1f}" y="{height - bottom + 16}" '
                    f'text-anchor="middle">{escape(label)}</text>')
    if axis_label:
        body.append(f'<text class="chart__tick" x="{left + plot_w / 2:.1f}" y="{height - 6}" '
                    f'text-anchor="middle">{escape(axis_label)}</text>')
    return _svg(chart_id, title, "; ".join(labels), height, body)


def line(chart_id: str, title: str, points: Sequence[tuple[date, float, float | None]], *,
         progress_label: str, score_label: str, empty_text: str) -> Markup:
    """Average progress (solid) and score (dashed) per day, 0..100, with first and last values written."""
    left, right, top, bottom = 40, 60, 24, 36
    height = 240
    plot_w, plot_h = WIDTH - left - right, height - top - bottom
    body = [f'<line class="chart__axis" x1="{left}" y1="{height - bottom}" x2="{WIDTH - right}" '
            f'y2="{height - bottom}"/>']
    for tick in (0, 50, 100):
        y = top + plot_h * (1 - tick / 100)
        body.append(f'<line class="chart__grid" x1="{left}" y1="{y:.1f}" x2="{WIDTH - right}" y2="{y:.1f}"/>'
                    f'<text class="chart__tick" x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{tick}</text>')
    if not points:
        body.append(f'<text class="chart__label" x="{WIDTH / 2}" y="{height / 2}" text-anchor="middle">'
                    f'{escape(empty_text)}</text>')
        return _svg(chart_id, title, empty_text, height, body)

    # x follows the calendar, so a missed day leaves a visible gap in spacing rather than a false step.
    span = max(1, (points[-1][0] - points[0][0]).days)

    def xy(index: int, value: float) -> tuple[float, float]:
        offset = (points[index][0] - points[0][0]).days
        x = left + (plot_w * offset / span if len(points) > 1 else plot_w / 2)
        return x, top + plot_h * (1 - max(0.0, min(100.0, value)) / 100)

    series = [("progress", progress_label, [(i, p) for i, (_d, p, _s) in enumerate(points)])]
    scored = [(i, s) for i, (_d, _p, s) in enumerate(points) if s is not None]
    if scored:
        series.append(("score", score_label, scored))
    desc = []
    for offset, (name, label, values) in enumerate(series):
        coords = [xy(i, v) for i, v in values]
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
        body.append(f'<polyline class="chart__line chart__line--{name}" points="{path}"/>')
        for x, y in coords:
            body.append(f'<circle class="chart__dot chart__dot--{name}" cx="{x:.1f}" cy="{y:.1f}" r="3"/>')
        last_x, last_y = coords[-1]
        body.append(f'<text class="chart__value" x="{last_x + 6:.1f}" y="{last_y + 4:.1f}">'
                    f'{escape(_fmt(values[-1][1]))}</text>')
        lx = left + offset * 180
        body.append(f'<line class="chart__line chart__line--{name}" x1="{lx}" y1="10" x2="{lx + 24}" y2="10"/>'
                    f'<text class="chart__legend" x="{lx + 30}" y="14">{escape(label)}</text>')
        desc.append(_("%(field)s: %(old)s → %(new)s", field=label, old=_fmt(values[0][1]), new=_fmt(values[-1][1])))
    first, last = points[0][0], points[-1][0]
    body.append(f'<text class="chart__tick" x="{left}" y="{height - bottom + 18}">{first.isoformat()}</text>'
                f'<text class="chart__tick" x="{WIDTH - right}" y="{height - bottom + 18}" text-anchor="end">'
                f'{last.isoformat()}</text>')
    return _svg(chart_id, title, f"{first.isoformat()} – {last.isoformat()}: " + "; ".join(desc), height, body)

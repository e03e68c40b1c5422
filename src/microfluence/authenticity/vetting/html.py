"""The vetting report as one standalone HTML file, to read offline or email to a client.

Charts are Plotly figures rendered to HTML divs; plotly.js is embedded inline once (about
3.5 MB), so the file needs no network. The page itself is a Jinja2 template
(``templates/vetting_report.html``) with autoescaping: captions and comments are untrusted text.

The file carries its own Content-Security-Policy (a ``<meta>`` tag, so it holds when the file is
opened from a disk or a mail): no network at all, and no script but the report's own inline ones,
allowed by their SHA-256 hashes. Links are drawn only for http(s) URLs.
"""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

import plotly.graph_objects as go
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from microfluence.authenticity.signals.comments import FLAGS
from microfluence.authenticity.vetting.report import VettingReport
from microfluence.catalog.validation import safe_link

_env = Environment(
    loader=PackageLoader("microfluence.authenticity.vetting", "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.filters["safe_link"] = safe_link
_SCRIPT = re.compile(r"<script\b[^>]*>(.*?)</script>", re.DOTALL | re.IGNORECASE)
_LAYOUT = {
    "margin": {"l": 50, "r": 20, "t": 40, "b": 40},
    "height": 320,
    "template": "plotly_white",
}


def growth_figure(report: VettingReport) -> go.Figure | None:
    data = report.charts["growth"]
    if not data["at"]:
        return None
    fig = go.Figure(
        go.Scatter(
            x=data["at"],
            y=data["followers"],
            mode="lines+markers",
            name="followers",
            marker={"size": 4},
        )
    )
    for kind, explained, name, colour, symbol in (
        ("jump", False, "unexplained jump", "#c62828", "triangle-up"),
        ("jump", True, "viral jump (with engagement)", "#2e7d32", "star"),
        ("drop", False, "drop", "#ef6c00", "triangle-down"),
    ):
        points = [a for a in data["anomalies"] if a["kind"] == kind and a["explained"] == explained]
        if points:
            fig.add_trace(
                go.Scatter(
                    x=[p["at"] for p in points],
                    y=[p["followers"] for p in points],
                    mode="markers",
                    name=name,
                    marker={"size": 14, "color": colour, "symbol": symbol},
                )
            )
    fig.update_layout(title="Followers over time, anomalies marked", **_LAYOUT)
    return fig


def comments_figure(report: VettingReport) -> go.Figure | None:
    data = report.charts["comments"]
    if not data["total"]:
        return None
    labels = ["clean", *[f.replace("_", "-") for f in FLAGS]]
    values = [data["clean"], *[data["flags"].get(f, 0) for f in FLAGS]]
    fig = go.Figure(go.Bar(x=labels, y=values, marker_color=["#2e7d32"] + ["#c62828"] * len(FLAGS)))
    fig.update_layout(
        title=f"Comment quality: {data['total']} sampled comments (several flags possible)",
        **_LAYOUT,
    )
    return fig


def fake_share_figure(report: VettingReport) -> go.Figure | None:
    data = report.charts["fake_share"]
    if data["share"] is None:
        return None
    share, low, high = (100 * data[k] for k in ("share", "low", "high"))
    fig = go.Figure(
        go.Scatter(
            x=[share],
            y=["fake followers"],
            mode="markers",
            marker={"size": 16, "color": "#c62828"},
            error_x={
                "type": "data",
                "symmetric": False,
                "array": [high - share],
                "arrayminus": [share - low],
            },
            name="estimate with 95 % interval",
        )
    )
    fig.update_layout(
        title=f"Fake share: {share:.1f} % (95 % interval {low:.1f}-{high:.1f} %), "
        f"sample of {data['sample']}",
        xaxis={"range": [0, 100], "title": "% of followers"},
        **{**_LAYOUT, "height": 220},
    )
    return fig


def script_hashes(*html: str) -> list[str]:
    """CSP sources (``'sha256-…'``) allowing exactly the inline scripts of ``html``."""
    hashes = [
        "'sha256-" + base64.b64encode(hashlib.sha256(body.encode()).digest()).decode() + "'"
        for part in html
        for body in _SCRIPT.findall(part)
    ]
    return list(dict.fromkeys(hashes))


def content_security_policy(*html: str) -> str:
    """The report's policy: nothing from anywhere, scripts only the inline ones in ``html``."""
    return "; ".join(
        (
            "default-src 'none'",
            "script-src " + (" ".join(script_hashes(*html)) or "'none'"),
            "style-src 'unsafe-inline'",  # the report's own <style>; Plotly styles inline
            "img-src data:",
            "font-src data:",
            "base-uri 'none'",
            "form-action 'none'",
        )
    )


def render_report(report: VettingReport) -> str:
    """The whole report as one HTML document (plotly.js inline: works offline)."""
    return render_report_with_policy(report)[0]


def render_report_with_policy(report: VettingReport) -> tuple[str, str]:
    """The report as one HTML document, and its Content-Security-Policy (also in the document,
    for when it is opened from a file; routes send it as a header too)."""
    charts = []
    inline_done = False
    for figure in (growth_figure(report), comments_figure(report), fake_share_figure(report)):
        if figure is None:
            continue
        charts.append(
            Markup(  # Plotly's own HTML, not user text
                figure.to_html(
                    full_html=False,
                    include_plotlyjs=not inline_done,
                    config={"displaylogo": False, "responsive": True},
                )
            )
        )
        inline_done = True
    policy = content_security_policy(*charts)
    html = _env.get_template("vetting_report.html").render(report=report, charts=charts, csp=policy)
    return html, policy


def write_report(report: VettingReport, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_report(report), encoding="utf-8")
    return path

"""`microfluence report campaign|payouts|emv-rates`: a campaign's KPIs, the payout CSV, EMV's
CPM per platform."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Column, Table

from microfluence.campaigns.campaigns import find_campaign_by_name
from microfluence.kernel.console import (
    DEFAULT_WS,
    DatabaseUrlOpt,
    WorkspaceOpt,
    console,
    friendly_errors,
    workspace_transaction,
)
from microfluence.measurement import emv
from microfluence.measurement.payouts import payout_totals, payouts, payouts_csv, write_payouts
from microfluence.measurement.report import report_by_name
from microfluence.measurement.schemas import CampaignReport, Kpis
from microfluence.measurement.sources import Period

report_app = typer.Typer(
    help="Campaign KPIs, payouts and EMV rates (docs/measurement.md).", no_args_is_help=True
)
FromOpt = Annotated[str | None, typer.Option("--from", help="First UTC day, YYYY-MM-DD.")]
ToOpt = Annotated[str | None, typer.Option("--to", help="Last UTC day, YYYY-MM-DD.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]


def _n(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:,.{digits}f}"


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.1f} %"


def _between(low: float | None, high: float | None, scale: float = 1, unit: str = "") -> str:
    if low is None or high is None:
        return "–"
    return (
        f"{low * scale:.{1 if scale != 1 else 2}f}–{high * scale:.{1 if scale != 1 else 2}f}{unit}"
    )


TABLES = {
    "Clicks and orders": ("clicks", "unique", "orders", "conversion", "95 %", "AOV"),
    "Revenue and cost": ("revenue", "refunds", "net revenue", "cost", "ROI", "95 %"),
    "Per unit": ("ROAS", "CPA", "CPC", "CPE", "CPM", "EMV"),
}


def _cells(k: Kpis) -> dict[str, list[str]]:
    return {
        "Clicks and orders": [
            f"{k.clicks:,}",
            f"{k.unique_clicks:,}",
            f"{k.orders:,}",
            _pct(k.conversion_rate),
            _between(k.conversion_rate_low, k.conversion_rate_high, 100, " %"),
            _n(k.average_order_value),
        ],
        "Revenue and cost": [
            _n(float(k.revenue)),
            _n(float(k.refunds)),
            _n(float(k.net_revenue)),
            _n(float(k.cost)),
            _n(k.roi),
            _between(k.roi_low, k.roi_high),
        ],
        "Per unit": [
            _n(k.roas),
            _n(k.cpa),
            _n(k.cpc),
            _n(k.cpe, 3),
            _n(k.cpm),
            _n(float(k.emv)),
        ],
    }


def _table(report: CampaignReport, title: str) -> Table:
    table = Table(Column("creator", no_wrap=True), *TABLES[title], title=title)
    for c in report.creators:
        name = c.creator_name or c.account or f"creator {c.creator_id}"
        table.add_row(name, *_cells(c)[title])
    table.add_section()
    table.add_row("[bold]campaign[/]", *_cells(report.totals)[title])
    return table


def print_report(report: CampaignReport) -> None:
    period = (
        f"{report.period_from or 'start'} → {report.period_to or 'now'}"
        if report.period_from or report.period_to
        else "all time"
    )
    console.print(
        f"[bold]{report.campaign}[/] · {report.status} · {period} · money in {report.currency}",
        highlight=False,
    )
    for title in TABLES:
        console.print(_table(report, title))
    console.print("– : undefined (nothing to divide by). Intervals 95 %: docs/measurement.md.")
    if report.targets:
        targets = Table("target", "goal", "actual", "% of target", "met", title="Targets")
        for t in report.targets:
            met = "–" if t.met is None else ("yes" if t.met else "no")
            targets.add_row(
                t.kpi,
                f"{'≤' if t.better == 'lower' else '≥'} {t.target:g}",
                _n(t.actual, 4),
                _n(t.percent, 1),
                met,
            )
        console.print(targets)


@report_app.command("campaign")
@friendly_errors
def report_campaign(
    campaign: Annotated[str, typer.Argument(help="The campaign's name.")],
    workspace: WorkspaceOpt = DEFAULT_WS,
    as_json: JsonOpt = False,
    from_: FromOpt = None,
    to: ToOpt = None,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """KPIs per creator and the campaign's totals, with its targets."""
    period = Period.parse(from_, to)
    with workspace_transaction(database_url, workspace) as (session, ws):
        report = report_by_name(session, ws, campaign, period)
    if as_json:
        typer.echo(report.model_dump_json(indent=2))
    else:
        print_report(report)


@report_app.command("payouts")
@friendly_errors
def report_payouts(
    from_: FromOpt = None,
    to: ToOpt = None,
    campaign: Annotated[
        str | None, typer.Option("--campaign", help="Only this campaign (its name).")
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", help="Write the CSV here (default: print it).")
    ] = None,
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Commission (net of the period's refunds) and fees owed per creator for a period, as CSV."""
    period = Period.parse(from_, to)
    with workspace_transaction(database_url, workspace) as (session, ws):
        campaign_id = find_campaign_by_name(session, ws.id, campaign).id if campaign else None
        rows = payouts(session, ws.id, period, campaign_id=campaign_id)
    if output is None:
        typer.echo(payouts_csv(rows), nl=False)
        return
    write_payouts(rows, output)
    totals = payout_totals(rows)
    owed = ", ".join(f"{r['total_owed']} {r['currency']}" for r in totals.to_dicts()) or "nothing"
    console.print(
        f"{rows.height} creator(s), {owed} owed; written to {output}",
        highlight=False,
        soft_wrap=True,
    )


@report_app.command("emv-rates")
@friendly_errors
def report_emv_rates(
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="PLATFORM=CPM, repeatable; saved for the workspace."),
    ] = None,
    reset: Annotated[
        bool, typer.Option("--reset", help="Forget the workspace's own rates first.")
    ] = False,
    as_json: JsonOpt = False,
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Show (or set) the CPM per platform EMV uses: the workspace's own, else the defaults."""
    with workspace_transaction(database_url, workspace) as (session, ws):
        if set_ or reset:
            emv.set_emv_rates(session, ws, emv.parse_pairs(set_ or []), reset=reset)
        rates, own = emv.emv_rates(ws), emv.own_rates(ws)
    if as_json:
        typer.echo(json.dumps(rates, indent=2))
        return
    table = Table("platform", "CPM", "from")
    for platform, cpm in rates.items():
        table.add_row(platform, f"{cpm:.2f}", "workspace" if platform in own else "default")
    console.print(table)

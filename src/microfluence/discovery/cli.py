"""`microfluence niches` (recompute), `niches set`, `niches show`, `niches eval`.

``microfluence search``, ``microfluence shortlists …`` and ``microfluence searches …``: thin
faces over discovery.search, discovery.shortlists and discovery.saved (docs/discovery.md)."""

from __future__ import annotations

import dataclasses
import getpass
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from microfluence.campaigns.campaigns import find_campaign_by_name
from microfluence.catalog.accounts import find_account_by_reference
from microfluence.discovery import saved, shortlists
from microfluence.discovery.dataset import read_accounts
from microfluence.discovery.evaluation import LABELS, NicheEvaluation, evaluate
from microfluence.discovery.niches import AccountNiches, get_niches, recompute_niches, set_niches
from microfluence.discovery.quality import refresh_quality
from microfluence.discovery.query import SearchQuery, Weights
from microfluence.discovery.search import SearchPage, search
from microfluence.discovery.vectors import recompute_vectors
from microfluence.kernel.console import (
    DEFAULT_WS,
    DatabaseUrlOpt,
    ProgressBar,
    WorkspaceOpt,
    console,
    friendly_errors,
    print_json,
    store_for,
    workspace_transaction,
)

niches_app = typer.Typer(
    help="Niches: recompute them (no sub-command), show or correct an account's, "
    "measure the model.",
    invoke_without_command=True,
)


@niches_app.callback()
@friendly_errors
def recompute(
    ctx: typer.Context,
    workspace: WorkspaceOpt = DEFAULT_WS,
    everything: Annotated[
        bool, typer.Option("--all", help="Score every account, not only the changed ones.")
    ] = False,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Score the accounts whose posts or profile changed since the last run."""
    if ctx.invoked_subcommand is not None:
        return
    with workspace_transaction(database_url, workspace) as (session, ws):
        with ProgressBar("niches") as bar:
            run = recompute_niches(session, ws.id, everything=everything, progress=bar)
        with ProgressBar("vectors") as bar:
            vectors = recompute_vectors(session, ws.id, everything=everything, progress=bar)
    console.print(
        f"scored [bold]{run.scored:,}[/] of {run.accounts:,} accounts "
        f"({run.unchanged:,} unchanged), {run.rows:,} niche rows written; "
        f"{vectors.embedded:,} account vectors embedded ({vectors.unchanged:,} unchanged)"
    )
    for niche, count in sorted(run.by_niche.items(), key=lambda kv: -kv[1]):
        console.print(f"  {niche:<18} {count:>7,}")


def _show(result: AccountNiches, reference: str) -> None:
    table = Table(title=f"niches of {reference}")
    for column in ("niche", "confidence", "source"):
        table.add_column(column)
    for niche in result.niches:
        table.add_row(niche.niche, f"{niche.confidence:.2f}", niche.source)
    console.print(table)
    if result.corrected_by is not None or (result.model and result.niches != result.model):
        said = ", ".join(f"{n.niche} {n.confidence:.2f}" for n in result.model) or "nothing yet"
        console.print(f"corrected by {result.corrected_by or 'a user'}; the model says: {said}")


@niches_app.command("show")
@friendly_errors
def show(
    account: Annotated[str, typer.Argument(help="PLATFORM:HANDLE")],
    workspace: WorkspaceOpt = DEFAULT_WS,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """An account's niches with their confidences (a hand correction wins)."""
    with workspace_transaction(database_url, workspace) as (session, ws):
        found = find_account_by_reference(session, ws.id, account)
        result = get_niches(session, ws.id, found.id)
    if as_json:
        print_json(_as_dict(result))
    else:
        _show(result, account)


@niches_app.command("set")
@friendly_errors
def set_command(
    account: Annotated[str, typer.Argument(help="PLATFORM:HANDLE")],
    niches: Annotated[str, typer.Argument(help="NICHE[,NICHE…]; an empty string removes it.")],
    workspace: WorkspaceOpt = DEFAULT_WS,
    by: Annotated[str | None, typer.Option("--by", help="Who corrects (default: cli).")] = None,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Correct an account's niches by hand; a re-run never overwrites a correction."""
    names = [n for n in niches.split(",") if n.strip()]
    with workspace_transaction(database_url, workspace) as (session, ws):
        found = find_account_by_reference(session, ws.id, account)
        result = set_niches(session, ws.id, found.id, names, by=by or "cli")
    _show(result, account)


def _as_dict(result: AccountNiches) -> dict[str, object]:
    return {
        "account_id": result.account_id,
        "niches": [vars(n) for n in result.niches],
        "model": [vars(n) for n in result.model],
        "corrected_by": result.corrected_by,
        "model_version": result.model_version,
    }


def _print_evaluation(result: NicheEvaluation) -> None:
    table = Table(
        title=f"niche methods, {result.folds}-fold cross-validation: accuracy / macro-F1 (8)"
    )
    table.add_column("accounts")
    table.add_column("n")
    for method in result.methods:
        table.add_column(method)
    rows = [("all", result.methods)] + list(result.slices.items())
    for name, scores in rows:
        first = next(iter(scores.values()))
        table.add_row(
            name,
            f"{first.accounts:,}",
            *(f"{s.accuracy:.3f} / {s.macro_f1:.3f}" for s in scores.values()),
        )
    table.add_row("seconds", "", *(f"{result.seconds.get(m, 0.0):.0f}" for m in result.methods))
    console.print(table)
    confusion = Table(title="confusion (rows: true, columns: predicted)")
    confusion.add_column("")
    for label in LABELS:
        confusion.add_column(label[:8])
    for label, row in zip(LABELS, result.confusion, strict=True):
        confusion.add_row(label, *(str(v) for v in row))
    console.print(confusion)


@niches_app.command("eval")
@friendly_errors
def eval_command(
    data: Annotated[Path, typer.Argument(help="The labelled accounts.jsonl (niches-kim-dev).")],
    folds: Annotated[int, typer.Option("--folds", help="Cross-validation folds.")] = 5,
    limit: Annotated[
        int | None, typer.Option("--limit", help="Read only the first N accounts.")
    ] = None,
) -> None:
    """Measure the niche model by cross-validation, next to the other methods (baselines)."""
    _print_evaluation(evaluate(read_accounts(data, limit=limit), folds=folds))


JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]
ByOpt = Annotated[
    str | None,
    typer.Option("--by", help="Who is recorded as doing it (default: cli:YOUR-LOGIN)."),
]
LimitOpt = Annotated[int, typer.Option("--limit", help="Results to show (1-100).")]


def _actor(by: str | None) -> str:
    return (by or f"cli:{getpass.getuser()}")[:320]


def _jsonable(value: Any) -> Any:
    return dataclasses.asdict(value) if dataclasses.is_dataclass(value) else value


def _why(result: Any) -> str:
    why = result.why
    bits = [f"{field}: {', '.join(words)}" for field, words in why.matched.items()]
    bits += [
        f"{field}: " + ", ".join(f"{w} ×{n}" for w, n in hits.items())
        for field, hits in why.posts.items()
    ]
    if why.niches:
        bits.append("niche: " + ", ".join(why.niches[:3]))
    if why.similarity is not None:
        bits.append(f"similarity {why.similarity:.2f}")
    bits.append(" + ".join(f"{p.name} {p.contribution:.2f}" for p in why.parts if p.weight))
    return "; ".join(bits)


def print_page(page: SearchPage) -> None:
    if not page.results:
        console.print("No account matches.", highlight=False)
        return
    table = Table(title=f"{page.count:,} accounts (tiers: {page.scheme})")
    for column in ("score", "account", "followers", "tier", "ER", "AQS", "why"):
        table.add_column(column, justify="right" if column in ("score", "followers") else "left")
    for r in page.results:
        table.add_row(
            f"{r.score:.3f}",
            f"{r.platform}:{r.handle}",
            "" if r.followers is None else f"{r.followers:,}",
            r.tier or "",
            "" if r.er is None else f"{r.er:.2%}",
            "" if r.quality is None else f"{r.quality:.0f}",
            _why(r),
        )
    console.print(table)


@friendly_errors
def search_cmd(  # noqa: PLR0913  a command's options are its parameters
    query: Annotated[
        str | None, typer.Argument(help="Words to find (handle, name, bio, posts).")
    ] = None,
    niche: Annotated[str | None, typer.Option("--niche", help="A niche, e.g. fitness.")] = None,
    tier: Annotated[str | None, typer.Option("--tier", help="A tier of the scheme.")] = None,
    tier_scheme: Annotated[
        str | None, typer.Option("--tier-scheme", help="Scheme of --tier (default: chosen one).")
    ] = None,
    prefer_tier: Annotated[
        str | None, typer.Option("--prefer-tier", help="Rank this tier first, neighbours next.")
    ] = None,
    country: Annotated[str | None, typer.Option("--country", help="Country, any case.")] = None,
    language: Annotated[str | None, typer.Option("--language", help="Language, any case.")] = None,
    platform: Annotated[str | None, typer.Option("--platform", help="instagram, tiktok…")] = None,
    min_followers: Annotated[int | None, typer.Option("--min-followers")] = None,
    max_followers: Annotated[int | None, typer.Option("--max-followers")] = None,
    min_er: Annotated[float | None, typer.Option("--min-er", help="0.03 is 3 %.")] = None,
    max_er: Annotated[float | None, typer.Option("--max-er", help="0.08 is 8 %.")] = None,
    min_quality: Annotated[
        float | None, typer.Option("--min-quality", help="Audience Quality Score, 0-100.")
    ] = None,
    has_email: Annotated[
        bool | None, typer.Option("--has-email/--no-email", help="With (or without) an e-mail.")
    ] = None,
    posted_within: Annotated[
        int | None, typer.Option("--posted-within", help="Posted in the last N days.")
    ] = None,
    weights: Annotated[
        str | None, typer.Option("--weights", help="e.g. relevance=0.6,engagement=0.4")
    ] = None,
    semantic: Annotated[
        bool,
        typer.Option("--semantic", help="QUERY is a brief: rank by meaning, not by words."),
    ] = False,
    like: Annotated[
        list[str] | None,
        typer.Option("--like", help="PLATFORM:HANDLE to find lookalikes of (repeatable)."),
    ] = None,
    limit: LimitOpt = 20,
    offset: Annotated[int, typer.Option("--offset", help="Results to skip.")] = 0,
    as_json: JsonOpt = False,
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Find accounts by words, a brief (--semantic) or lookalikes (--like) and filters, best
    first, each with why it ranks there."""
    q = SearchQuery(
        q=query,
        niche=niche,
        tier=tier,
        tier_scheme=tier_scheme,
        prefer_tier=prefer_tier,
        country=country,
        language=language,
        platform=platform,
        min_followers=min_followers,
        max_followers=max_followers,
        min_er=min_er,
        max_er=max_er,
        min_quality=min_quality,
        has_email=has_email,
        posted_within_days=posted_within,
        weights=Weights.parse(weights),
        semantic=semantic,
        like=tuple(like or ()),
        limit=limit,
        offset=offset,
    )
    with workspace_transaction(database_url, workspace) as (session, ws):
        page = search(session, ws.id, q)
    print_json(page.to_dict()) if as_json else print_page(page)


shortlists_app = typer.Typer(
    help="Shortlists: named lists of creators with notes, for campaigns.", no_args_is_help=True
)
ListArg = Annotated[int, typer.Argument(help="The shortlist's id.")]


@shortlists_app.command("list")
@friendly_errors
def shortlists_list(
    as_json: JsonOpt = False,
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """The workspace's shortlists with how many creators each holds."""
    with workspace_transaction(database_url, workspace) as (session, ws):
        found = shortlists.list_shortlists(session, ws.id)
    if as_json:
        print_json([_jsonable(s) for s in found])
        return
    for s in found:
        console.print(f"{s.id}  {s.name}  ({s.entries} creators)", highlight=False)


@shortlists_app.command("create")
@friendly_errors
def shortlists_create(
    name: Annotated[str, typer.Argument(help="Its name (unique in the workspace).")],
    description: Annotated[str | None, typer.Option("--description")] = None,
    by: ByOpt = None,
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Make an empty shortlist."""
    with workspace_transaction(database_url, workspace) as (session, ws):
        made = shortlists.create_shortlist(
            session, ws.id, name, description=description, actor=_actor(by)
        )
    console.print(f"Shortlist {made.id} {made.name!r} created.", highlight=False)


@shortlists_app.command("show")
@friendly_errors
def shortlists_show(
    shortlist: ListArg,
    as_json: JsonOpt = False,
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """A shortlist's creators with their notes."""
    with workspace_transaction(database_url, workspace) as (session, ws):
        detail = shortlists.get_shortlist(session, ws.id, shortlist)
    if as_json:
        print_json(_jsonable(detail))
        return
    console.print(f"{detail.name} ({detail.entries} creators)", highlight=False)
    for e in detail.items:
        account = f"{e.platform}:{e.handle}" if e.handle else "any account"
        console.print(
            f"  {e.creator_id}  {e.creator_name or ''}  {account}  {e.note or ''}", highlight=False
        )


@shortlists_app.command("add")
@friendly_errors
def shortlists_add(  # noqa: PLR0913  a command's options are its parameters
    shortlist: ListArg,
    accounts: Annotated[list[str], typer.Argument(help="PLATFORM:HANDLE of each account.")],
    note: Annotated[str | None, typer.Option("--note", help="A note for each added.")] = None,
    by: ByOpt = None,
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Add creators by one of their accounts (all or none)."""
    with workspace_transaction(database_url, workspace) as (session, ws):
        result = shortlists.add_entries(
            session, ws.id, shortlist, references=accounts, note=note, actor=_actor(by)
        )
    console.print(
        f"Added {len(result.added)}; {len(result.already)} already on the list.", highlight=False
    )


@shortlists_app.command("remove")
@friendly_errors
def shortlists_remove(
    shortlist: ListArg,
    creators: Annotated[list[int], typer.Argument(help="Creator ids to take off.")],
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Take creators off a shortlist."""
    with workspace_transaction(database_url, workspace) as (session, ws):
        removed = shortlists.remove_entries(session, ws.id, shortlist, creators)
    console.print(f"Removed {removed}.", highlight=False)


@shortlists_app.command("export")
@friendly_errors
def shortlists_export(
    shortlist: ListArg,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="CSV file (default: stdout).")
    ] = None,
    raw: Annotated[bool, typer.Option("--raw", help="Cells as stored (no formula guard).")] = False,
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """A shortlist as CSV."""
    with workspace_transaction(database_url, workspace) as (session, ws):
        text = shortlists.export_csv(session, ws.id, shortlist, raw=raw)
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")


@shortlists_app.command("delete")
@friendly_errors
def shortlists_delete(
    shortlist: ListArg, workspace: WorkspaceOpt = DEFAULT_WS, database_url: DatabaseUrlOpt = None
) -> None:
    """Delete a shortlist (its creators stay in the workspace)."""
    with workspace_transaction(database_url, workspace) as (session, ws):
        shortlists.delete_shortlist(session, ws.id, shortlist)
    console.print("Deleted.", highlight=False)


@shortlists_app.command("to-campaign")
@friendly_errors
def shortlists_to_campaign(
    shortlist: ListArg,
    campaign: Annotated[str, typer.Argument(help="The campaign's name.")],
    by: ByOpt = None,
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Add every creator of the shortlist to a campaign as a prospect."""
    with workspace_transaction(database_url, workspace) as (session, ws):
        target = find_campaign_by_name(session, ws.id, campaign)
        result = shortlists.to_campaign(session, ws.id, shortlist, target.id, actor=_actor(by))
    console.print(
        f"Added {len(result.added)} prospects; {len(result.already)} were already in it.",
        highlight=False,
    )


searches_app = typer.Typer(help="Saved searches: run a search again by name.", no_args_is_help=True)
NameArg = Annotated[str, typer.Argument(help="The saved search's name.")]


@searches_app.command("list")
@friendly_errors
def searches_list(
    as_json: JsonOpt = False,
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """The workspace's saved searches with their parameters."""
    with workspace_transaction(database_url, workspace) as (session, ws):
        found = saved.list_saved(session, ws.id)
    if as_json:
        print_json([_jsonable(s) for s in found])
        return
    for s in found:
        console.print(f"{s.id}  {s.name}  {s.query}", highlight=False)


@searches_app.command("save")
@friendly_errors
def searches_save(  # noqa: PLR0913  a command's options are its parameters
    name: NameArg,
    query: Annotated[str | None, typer.Argument(help="Words to find.")] = None,
    niche: Annotated[str | None, typer.Option("--niche")] = None,
    tier: Annotated[str | None, typer.Option("--tier")] = None,
    country: Annotated[str | None, typer.Option("--country")] = None,
    min_er: Annotated[float | None, typer.Option("--min-er")] = None,
    min_quality: Annotated[float | None, typer.Option("--min-quality")] = None,
    replace: Annotated[
        bool, typer.Option("--replace", help="Overwrite a search of this name.")
    ] = False,
    by: ByOpt = None,
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Save a search's words and filters under a name."""
    q = SearchQuery(
        q=query, niche=niche, tier=tier, country=country, min_er=min_er, min_quality=min_quality
    )
    with workspace_transaction(database_url, workspace) as (session, ws):
        info = saved.save_search(session, ws.id, name, q, actor=_actor(by), replace=replace)
    console.print(f"Saved search {info.id} {info.name!r}.", highlight=False)


@searches_app.command("run")
@friendly_errors
def searches_run(
    name: NameArg,
    limit: LimitOpt = 20,
    as_json: JsonOpt = False,
    workspace: WorkspaceOpt = DEFAULT_WS,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Run a saved search again."""
    with workspace_transaction(database_url, workspace) as (session, ws):
        page = saved.run_saved(session, ws.id, name, limit=limit)
    print_json(page.to_dict()) if as_json else print_page(page)


@searches_app.command("delete")
@friendly_errors
def searches_delete(
    name: NameArg, workspace: WorkspaceOpt = DEFAULT_WS, database_url: DatabaseUrlOpt = None
) -> None:
    """Delete a saved search."""
    with workspace_transaction(database_url, workspace) as (session, ws):
        saved.delete_saved(session, ws.id, name)
    console.print("Deleted.", highlight=False)


@searches_app.command("refresh")
@friendly_errors
def searches_refresh(
    workspace: WorkspaceOpt = DEFAULT_WS, database_url: DatabaseUrlOpt = None
) -> None:
    """Recompute the Audience Quality Score that search filters and ranks by (after a score)."""
    store = store_for(database_url)
    try:
        n = refresh_quality(
            store, workspace, progress=lambda step: console.print(step, highlight=False)
        )
    finally:
        store.dispose()
    console.print(f"Stored the quality score of {n:,} accounts.", highlight=False)

"""Shortlists (CRUD, notes, CSV with hostile cells, a campaign taking their creators), saved
searches (stored parameters that run again) and the stored Audience Quality Score."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import select

from discovery_support import NOW, Planter
from microfluence.campaigns.campaigns import create_campaign
from microfluence.campaigns.schemas import CampaignCreate
from microfluence.campaigns.tables import Deal
from microfluence.discovery import saved, shortlists
from microfluence.discovery.query import SearchQuery, Weights
from microfluence.discovery.tables import ShortlistEntry
from microfluence.kernel.errors import ConflictError, InputError, NotFoundError
from microfluence.kernel.workspaces import ensure_workspace


@pytest.fixture
def world(store):
    with store.transaction() as session:
        ws = ensure_workspace(session, "acme")
        p = Planter(session, ws.id)
        ann = p.account("ann", name='=HYPERLINK("http://x")', bio="vegan baker")
        bob = p.account("bob", platform="tiktok", bio="runner")
        cat = p.account("cat", bio="vegan chef")
        other = ensure_workspace(session, "other")
        stranger = Planter(session, other.id).account("zed")
        campaign = create_campaign(session, ws.id, CampaignCreate(name="Spring"))
    return {
        "ws": ws.id,
        "other": other.id,
        "ann": ann.id,
        "bob": bob.id,
        "cat": cat.id,
        "ann_creator": ann.creator_id,
        "cat_creator": cat.creator_id,
        "stranger": stranger.id,
        "campaign": campaign.id,
    }


def test_shortlist_crud_and_notes(store, world):
    ws = world["ws"]
    with store.transaction() as session:
        made = shortlists.create_shortlist(session, ws, " Vegan bakers ", actor="a@x.com")
        assert made.name == "Vegan bakers"
        with pytest.raises(ConflictError):
            shortlists.create_shortlist(session, ws, "Vegan bakers")
        with pytest.raises(InputError) as err:
            shortlists.create_shortlist(session, ws, "  ")
        assert err.value.field == "name"
        result = shortlists.add_entries(
            session,
            ws,
            made.id,
            account_ids=[world["ann"]],
            references=["tiktok:bob"],
            note="great fit",
            actor="a@x.com",
        )
        assert len(result.added) == 2 and result.already == []
        again = shortlists.add_entries(session, ws, made.id, creator_ids=[world["ann_creator"]])
        assert again.added == [] and again.already == [world["ann_creator"]]
        shortlists.set_note(session, ws, made.id, world["ann_creator"], "+ call first")
    with store.session() as session:
        detail = shortlists.get_shortlist(session, ws, made.id)
        assert [(e.handle, e.note) for e in detail.items] == [
            ("ann", "+ call first"),
            ("bob", "great fit"),
        ]
        assert [s.entries for s in shortlists.list_shortlists(session, ws)] == [2]
    with store.transaction() as session:
        assert shortlists.remove_entries(session, ws, made.id, [world["ann_creator"]]) == 1
        with pytest.raises(NotFoundError):
            shortlists.remove_entries(session, ws, made.id, [world["ann_creator"]])
        shortlists.update_shortlist(session, ws, made.id, name="Bakers")
    with store.transaction() as session:
        shortlists.delete_shortlist(session, ws, made.id)
    with store.session() as session:
        assert shortlists.list_shortlists(session, ws) == []
        assert session.scalars(select(ShortlistEntry)).all() == []


def test_a_bad_reference_adds_nothing_and_other_workspaces_are_invisible(store, world):
    ws = world["ws"]
    with store.transaction() as session:
        made = shortlists.create_shortlist(session, ws, "List")
    with store.transaction() as session:
        with pytest.raises(NotFoundError):
            shortlists.add_entries(
                session, ws, made.id, account_ids=[world["ann"], world["stranger"]]
            )
        with pytest.raises(NotFoundError):
            shortlists.add_entries(session, ws, made.id, references=["instagram:nobody"])
        with pytest.raises(NotFoundError):
            shortlists.get_shortlist(session, world["other"], made.id)
        with pytest.raises(NotFoundError):
            shortlists.delete_shortlist(session, world["other"], made.id)
    with store.session() as session:
        assert shortlists.get_shortlist(session, ws, made.id).items == []


def test_csv_export_neutralises_formulas(store, world):
    ws = world["ws"]
    with store.transaction() as session:
        made = shortlists.create_shortlist(session, ws, "List")
        shortlists.add_entries(session, ws, made.id, account_ids=[world["ann"]], note="@SUM(1)")
    with store.session() as session:
        text = shortlists.export_csv(session, ws, made.id)
        raw = shortlists.export_csv(session, ws, made.id, raw=True)
    row = next(csv.DictReader(io.StringIO(text)))
    assert row["creator_name"] == '\'=HYPERLINK("http://x")'
    assert row["note"] == "'@SUM(1)"
    assert next(csv.DictReader(io.StringIO(raw)))["note"] == "@SUM(1)"


def test_a_campaign_takes_the_shortlist_creators_as_prospects(store, world):
    ws = world["ws"]
    with store.transaction() as session:
        made = shortlists.create_shortlist(session, ws, "List")
        shortlists.add_entries(
            session, ws, made.id, account_ids=[world["ann"]], creator_ids=[world["cat_creator"]]
        )
        with pytest.raises(InputError):
            empty = shortlists.create_shortlist(session, ws, "Empty")
            shortlists.to_campaign(session, ws, empty.id, world["campaign"], actor="a@x.com")
    with store.transaction() as session:
        result = shortlists.to_campaign(session, ws, made.id, world["campaign"], actor="a@x.com")
        assert {p.creator_id for p in result.added} == {world["ann_creator"], world["cat_creator"]}
    with store.transaction() as session:
        again = shortlists.to_campaign(session, ws, made.id, world["campaign"], actor="a@x.com")
        assert again.added == [] and len(again.already) == 2
        deals = {d.creator_id: d.account_id for d in session.scalars(select(Deal))}
    assert deals == {world["ann_creator"]: world["ann"], world["cat_creator"]: None}


def test_saved_searches_store_parameters_and_run_again(store, world):
    ws = world["ws"]
    query = SearchQuery(q="vegan", platform="instagram", weights=Weights(engagement=0.5), limit=5)
    with store.transaction() as session:
        info = saved.save_search(session, ws, "Vegans", query, actor="a@x.com")
        assert info.query == {
            "q": "vegan",
            "platform": "instagram",
            "limit": 5,
            "weights": {
                "relevance": 0.5,
                "engagement": 0.5,
                "authenticity": 0.2,
                "tier": 0.1,
                "semantic": 0.6,
            },
        }
        with pytest.raises(ConflictError):
            saved.save_search(session, ws, "Vegans", SearchQuery())
        saved.save_search(session, ws, "Vegans", query, replace=True)
    with store.session() as session:
        page = saved.run_saved(session, ws, "Vegans", now=NOW)
        assert {r.handle for r in page.results} == {"ann", "cat"}
        assert saved.run_saved(session, ws, info.id, limit=1).count == 2
        with pytest.raises(NotFoundError):
            saved.run_saved(session, world["other"], info.id)
        assert [s.name for s in saved.list_saved(session, ws)] == ["Vegans"]
    with store.transaction() as session:
        saved.delete_saved(session, ws, "Vegans")
        assert saved.list_saved(session, ws) == []


def test_saved_parameters_are_checked(store, world):
    with pytest.raises(InputError) as err:
        SearchQuery.from_dict({"q": "x", "colour": "red"})
    assert err.value.field == "colour"
    with pytest.raises(InputError):
        SearchQuery.from_dict({"weights": {"relevance": -1}})


def test_an_import_is_findable_and_quality_is_stored_for_filters(store):
    """The demo writes through the importers' writer (ingest.write): its posts are in the
    keyword index without any extra step; refresh_quality stores every account's score."""
    import polars as pl

    from microfluence.demo.load import build_demo
    from microfluence.demo.population import PopulationSpec
    from microfluence.discovery.quality import refresh_quality
    from microfluence.discovery.search import search
    from microfluence.kernel.store.tables import Post

    build_demo(store, PopulationSpec(n_creators=40, days=20, seed=3), workspace="demo")
    with store.session() as session:
        ws = ensure_workspace(session, "demo").id
        caption, account_id = session.execute(
            select(Post.caption, Post.account_id).where(Post.caption.is_not(None)).limit(1)
        ).one()
        word = max(caption.split(), key=len).strip("#.,!?")
        page = search(session, ws, SearchQuery(q=word, limit=100))
        assert account_id in {r.account_id for r in page.results}
    stored = refresh_quality(store, "demo")
    with store.session() as session:
        everyone = search(session, ws, SearchQuery(limit=100))
        scores = pl.Series([r.quality for r in everyone.results], dtype=pl.Float64)
        assert stored == everyone.count and scores.drop_nulls().len() > 0
        cut = float(scores.drop_nulls().median())
        above = search(session, ws, SearchQuery(min_quality=cut, limit=100))
        assert above.count == int((scores >= cut).sum())


def test_the_library_calls_the_same_services(store, store_url, world, tmp_path):
    from microfluence import open_workspace

    with open_workspace("acme", store_url, create=False) as ws:
        assert {r.handle for r in ws.search("vegan").results} == {"ann", "cat"}
        assert ws.search("vegan", weights={"relevance": 1}, limit=1).count == 2
        made = ws.create_shortlist("Lib")
        assert ws.add_to_shortlist(made.id, ["instagram:cat"], note="x").added
        ws.export_shortlist(made.id, tmp_path / "s.csv")
        assert "cat" in (tmp_path / "s.csv").read_text()
        assert len(ws.shortlist_to_campaign(made.id, "Spring").added) == 1
        ws.save_search("veg", "vegan", platform="instagram")
        assert ws.run_saved_search("veg").count == 2
        assert [s.name for s in ws.shortlists()] == ["Lib"]
        with pytest.raises(InputError):
            ws.search("x", colour="red")

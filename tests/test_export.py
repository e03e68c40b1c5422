"""Exports: one row per account (every field, latest snapshot) or per post, in three formats."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import polars as pl
import pytest
from typer.testing import CliRunner

from microfluence.cli.main import app
from microfluence.export import export_creators, export_posts
from microfluence.ingest.write.writer import import_run
from microfluence.kernel.errors import InputError, NotFoundError

T0 = dt.datetime(2024, 5, 1, 12, 0, 0)


def _load(store, workspace="w1", handles=("ann", "bob")):
    with import_run(store, workspace, "test", "mem") as writer:
        writer.accounts(
            pl.DataFrame(
                {
                    "platform": ["instagram"] * len(handles),
                    "handle": list(handles),
                    "bio": ['a, "quoted"\nbio', None][: len(handles)],
                    "is_verified": [True, None][: len(handles)],
                }
            )
        )
        writer.snapshots(
            pl.DataFrame(
                {
                    "platform": ["instagram"] * 3,
                    "handle": [handles[0]] * 3,
                    "captured_at": [T0, T0 + dt.timedelta(days=2), T0 + dt.timedelta(days=1)],
                    "followers": [100, 300, 200],
                }
            )
        )
        writer.posts(
            pl.DataFrame(
                {
                    "platform": ["instagram"],
                    "handle": [handles[0]],
                    "platform_post_id": ["p1"],
                    "posted_at": [T0],
                    "likes": [7],
                    "hashtags": [["fit", "ünïcode"]],
                }
            )
        )


def test_creators_export_has_latest_snapshot_in_every_format(store):
    _load(store)
    rows, data = export_creators(store, "w1", "csv")
    assert rows == 2
    records = list(csv.DictReader(io.StringIO(data.decode())))
    ann = next(r for r in records if r["handle"] == "ann")
    assert ann["followers"] == "300" and ann["snapshot_captured_at"].startswith("2024-05-03T12:00")
    assert ann["bio"] == 'a, "quoted"\nbio' and ann["is_verified"] == "true"
    bob = next(r for r in records if r["handle"] == "bob")
    assert bob["followers"] == ""
    rows, data = export_creators(store, "w1", "json")
    parsed = json.loads(data)
    assert len(parsed) == 2 and parsed[0]["handle"] == "ann" and parsed[0]["followers"] == 300
    rows, data = export_creators(store, "w1", "jsonl")
    lines = data.decode().splitlines()
    assert len(lines) == 2 and json.loads(lines[1])["handle"] == "bob"


def test_posts_export_keeps_lists(store):
    _load(store)
    _, data = export_posts(store, "w1", "jsonl")
    post = json.loads(data.decode().splitlines()[0])
    assert post["hashtags"] == ["fit", "ünïcode"] and post["likes"] == 7
    assert post["posted_at"].startswith("2024-05-01T12:00:00")
    _, data = export_posts(store, "w1", "csv")
    record = next(csv.DictReader(io.StringIO(data.decode())))
    assert json.loads(record["hashtags"]) == ["fit", "ünïcode"]


def test_export_is_scoped_to_the_workspace(store):
    _load(store, "w1", ("ann", "bob"))
    _load(store, "w2", ("zed", "yan"))
    _, data = export_creators(store, "w2", "jsonl")
    handles = {json.loads(line)["handle"] for line in data.decode().splitlines()}
    assert handles == {"zed", "yan"}
    with pytest.raises(NotFoundError):
        export_creators(store, "nope", "csv")
    with pytest.raises(InputError):
        export_creators(store, "w1", "xml")


def test_empty_workspace_exports_valid_json(store):
    _load(store, "w1")
    with import_run(store, "empty", "test", "mem"):
        pass
    assert export_posts(store, "empty", "json") == (0, b"[]\n")


def test_export_cli(store_url, tmp_path):
    from microfluence.kernel.store import open_store

    _load(open_store(store_url))
    out = tmp_path / "posts.json"
    result = CliRunner().invoke(
        app,
        [
            "export",
            "posts",
            "--format",
            "json",
            "-o",
            str(out),
            "-w",
            "w1",
            "--database-url",
            store_url,
        ],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())[0]["platform_post_id"] == "p1"
    result = CliRunner().invoke(
        app, ["export", "creators", "-w", "missing", "--database-url", store_url]
    )
    assert result.exit_code == 1 and "no workspace named 'missing'" in result.output


def test_creators_export_carries_computed_metrics_and_tiers(store):
    from microfluence.metrics.service import compute_metrics

    _load(store)
    _, before = export_creators(store, "w1", "jsonl")
    assert "er_median" in json.loads(before.decode().splitlines()[0])
    compute_metrics(store, "w1")
    _, data = export_creators(store, "w1", "jsonl")
    ann = json.loads(data.decode().splitlines()[0])
    assert ann["handle"] == "ann"
    assert ann["followers"] == 300
    assert ann["n_posts"] == 1 and ann["metrics_as_of"]
    assert ann["er_grin"] is None  # likes without a comment count: interactions unknown
    tiers = {k: v for k, v in ann.items() if k.startswith("tier_")}
    assert len(tiers) >= 6 and all(v for v in tiers.values())


def test_export_column_names_are_unique(store):
    from microfluence.metrics.service import compute_metrics

    _load(store)
    compute_metrics(store, "w1")
    _, data = export_creators(store, "w1", "csv")
    header = data.decode().splitlines()[0].split(",")
    assert len(header) == len(set(header))
    assert "metrics_followers" in header and not any(h.endswith("_1") for h in header)


def test_every_json_column_exports_as_a_list(store):
    """Lists stored as JSON (hashtags, mentions, sponsors, tagged users) are lists in JSON."""
    with import_run(store, "w1", "test", "mem") as writer:
        writer.accounts(pl.DataFrame({"platform": ["instagram"], "handle": ["ann"]}))
        writer.posts(
            pl.DataFrame(
                {
                    "platform": ["instagram"],
                    "handle": ["ann"],
                    "platform_post_id": ["p1"],
                    "hashtags": [["a"]],
                    "mentions": [["bob"]],
                    "sponsor_handles": [["brand"]],
                    "tagged_handles": [["cat"]],
                }
            )
        )
    _, data = export_posts(store, "w1", "jsonl")
    post = json.loads(data.decode().splitlines()[0])
    assert (post["hashtags"], post["mentions"]) == (["a"], ["bob"])
    assert (post["sponsor_handles"], post["tagged_handles"]) == (["brand"], ["cat"])


def test_empty_csv_export_still_has_its_header(store):
    with import_run(store, "empty", "test", "mem"):
        pass
    rows, data = export_posts(store, "empty", "csv")
    assert rows == 0 and data.decode().startswith("platform,handle,id,")


# Issue 9: creators named like these were exported unchanged and ran in spreadsheets.
FORMULAS = ['=HYPERLINK("http://evil","x")', "+cmd", "-1+1", "@SUM(1)", "\tx", "\rx"]


def _load_formulas(store) -> None:
    with import_run(store, "w1", "test", "mem") as writer:
        writer.accounts(
            pl.DataFrame(
                {
                    "platform": ["instagram"] * len(FORMULAS),
                    "handle": [f"f{i}" for i in range(len(FORMULAS))],
                    "display_name": FORMULAS,
                    "bio": ["fine =not at the start"] * len(FORMULAS),
                    "reported_engagement_rate": [-1.5] * len(FORMULAS),
                    "creator_name": FORMULAS,
                }
            )
        )
        writer.posts(
            pl.DataFrame(
                {
                    "platform": ["instagram"],
                    "handle": ["f0"],
                    "platform_post_id": ["-42"],
                    "caption": ["=1+1"],
                    "likes": [3],
                }
            )
        )


def _csv_rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode(), newline="")))


def test_csv_cells_a_spreadsheet_would_run_are_neutralised(store):
    _load_formulas(store)
    _, data = export_creators(store, "w1", "csv")
    rows = sorted(_csv_rows(data), key=lambda r: r["handle"])
    assert [r["display_name"] for r in rows] == ["'" + f for f in FORMULAS]
    assert [r["creator_name"] for r in rows] == ["'" + f for f in FORMULAS]
    assert {r["bio"] for r in rows} == {"fine =not at the start"}  # only a cell's start counts
    assert {r["reported_engagement_rate"] for r in rows} == {"-1.5"}  # numbers stay numbers
    _, posts = export_posts(store, "w1", "csv")
    post = _csv_rows(posts)[0]
    assert post["caption"] == "'=1+1" and post["platform_post_id"] == "'-42"  # text, not a number
    assert post["likes"] == "3"
    # raw: as stored, for programs; JSON is never changed.
    _, raw = export_creators(store, "w1", "csv", raw=True)
    assert sorted(r["display_name"] for r in _csv_rows(raw)) == sorted(FORMULAS)
    _, as_json = export_creators(store, "w1", "json")
    assert sorted(r["display_name"] for r in json.loads(as_json)) == sorted(FORMULAS)


def test_csv_neutralising_in_the_cli_and_the_api(store, store_url):
    from fastapi.testclient import TestClient

    from api_support import make_tenant
    from microfluence.web.app import create_app

    _load_formulas(store)
    tenant = make_tenant(store, "w2")
    with import_run(store, "w2", "test", "mem") as writer:
        writer.accounts(
            pl.DataFrame({"platform": ["x"], "handle": ["evil"], "display_name": ["@SUM(1)"]})
        )
    base = ["export", "creators", "-w", "w1", "--database-url", store_url]
    names = sorted(r["display_name"] for r in _csv_rows(CliRunner().invoke(app, base).stdout_bytes))
    assert names == sorted("'" + f for f in FORMULAS)
    raw = CliRunner().invoke(app, [*base, "--raw"]).stdout_bytes
    assert sorted(r["display_name"] for r in _csv_rows(raw)) == sorted(FORMULAS)
    with TestClient(create_app(store_url)) as client:
        h = tenant.auth("viewer")
        safe = client.get("/api/v1/exports/creators", headers=h)
        assert "'@SUM(1)" in {r["display_name"] for r in _csv_rows(safe.content)}
        raw = client.get("/api/v1/exports/creators?raw=true", headers=h)
        assert "@SUM(1)" in {r["display_name"] for r in _csv_rows(raw.content)}

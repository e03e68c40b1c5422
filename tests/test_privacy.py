"""Third parties' data and people's records: follower samples listed, exported and deleted per
account; everything held about one creator in one document (service functions and CLI, both
stores)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from api_support import make_tenant
from microfluence.catalog.followers import delete_sample, list_samples, sample_size
from microfluence.cli.main import app
from microfluence.export.privacy import creator_record, export_follower_sample
from microfluence.kernel.errors import InputError, NotFoundError
from microfluence.kernel.store.tables import Comment, EvaluationLabel, Follower
from microfluence.metrics.service import compute_metrics


def _data(store):  # type: ignore[no-untyped-def]
    acme = make_tenant(store, "acme")
    beta = make_tenant(store, "beta")
    ana, ana_tt, bo = acme.account_ids[0], acme.account_ids[1], acme.account_ids[2]
    with store.transaction() as session:
        session.add_all(
            Follower(
                workspace_id=acme.workspace_id,
                account_id=ana,
                username=f"fan{n}",
                biography="third party's bio",
                followers=n,
            )
            for n in range(3)
        )
        session.add(Follower(workspace_id=acme.workspace_id, account_id=bo, username="acme_ana"))
        session.add(
            Follower(
                workspace_id=beta.workspace_id, account_id=beta.account_ids[0], username="acme_ana"
            )
        )
        # Ana comments under Bo's post; someone comments under Ana's.
        session.add_all(
            [
                Comment(
                    workspace_id=acme.workspace_id,
                    post_id=acme.post_ids[4],
                    comment_key="c1",
                    author_handle="acme_ana",
                    text="love it",
                ),
                Comment(
                    workspace_id=acme.workspace_id,
                    post_id=acme.post_ids[0],
                    comment_key="c2",
                    author_handle="someone",
                    text="nice",
                ),
            ]
        )
        session.add(
            EvaluationLabel(workspace_id=acme.workspace_id, account_id=ana_tt, label="authentic")
        )
    return acme, beta


def test_follower_samples_are_listed_exported_and_deleted_per_account(store, tmp_path):
    acme, beta = _data(store)
    ana, bo = acme.account_ids[0], acme.account_ids[2]
    with store.transaction() as session:
        listed = list_samples(session, acme.workspace_id)
        assert [(s.handle, s.followers) for s in listed] == [("acme_ana", 3), ("acme_bo", 1)]
        with pytest.raises(NotFoundError):
            sample_size(session, acme.workspace_id, beta.account_ids[0])
    out = tmp_path / "fans.jsonl"
    assert export_follower_sample(store, acme.workspace_id, ana, "jsonl", out) == 3
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["username"] for r in rows] == ["fan0", "fan1", "fan2"]
    assert rows[0]["biography"] == "third party's bio" and "workspace_id" not in rows[0]
    with pytest.raises(InputError, match="unknown format"):
        export_follower_sample(store, acme.workspace_id, ana, "xml", tmp_path / "x")
    with pytest.raises(NotFoundError):
        export_follower_sample(store, acme.workspace_id, beta.account_ids[0], "csv", out)
    with store.transaction() as session:
        assert delete_sample(session, acme.workspace_id, ana) == 3
        assert delete_sample(session, acme.workspace_id, ana) == 0
        with pytest.raises(NotFoundError):
            delete_sample(session, acme.workspace_id, beta.account_ids[0])
    with store.transaction() as session:
        assert [s.account_id for s in list_samples(session, acme.workspace_id)] == [bo]
        assert len(list_samples(session, beta.workspace_id)) == 1  # untouched


def test_everything_held_about_one_creator(store):
    acme, beta = _data(store)
    compute_metrics(store, "acme")
    with store.transaction() as session:
        record = creator_record(session, acme.workspace_id, acme.creator_ids[0])
        with pytest.raises(NotFoundError):
            creator_record(session, acme.workspace_id, beta.creator_ids[0])
    text = json.dumps(record)  # JSON-ready as it is
    assert "beta" not in text.replace('"workspace": "acme"', "")
    assert record["format"] == "microfluence.creator-record/1" and record["workspace"] == "acme"
    assert record["creator"]["name"] == "acme Ana" and "workspace_id" not in record["creator"]
    ana, ana_tt = record["accounts"]
    assert (ana["handle"], ana_tt["handle"]) == ("acme_ana", "acme_ana_tt")
    assert [s["followers"] for s in ana["snapshots"]] == [900, 1000]
    assert ana["snapshots"][0]["captured_at"] == "2026-01-01T00:00:00Z"
    assert len(ana["posts"]) == 2 and ana["posts"][0]["comments"][0]["text"] == "nice"
    assert ana["posts"][0]["metrics"]["interactions"] is not None
    assert len(ana["follower_sample"]) == 3
    assert {m["metric"] for m in ana["metrics"]} >= {"followers"}
    assert ana["tiers"] and ana_tt["evaluation_labels"][0]["label"] == "authentic"
    appears = record["appears_in"]
    assert [(c["on_account"], c["text"]) for c in appears["comments"]] == [("acme_bo", "love it")]
    assert [s["of_account"] for s in appears["follower_samples"]] == ["acme_bo"]


def test_privacy_commands(store_url, tmp_path, monkeypatch):
    from microfluence.kernel import console
    from microfluence.kernel.store import open_store

    monkeypatch.setattr(console.console, "_width", 240)  # Rich wraps nothing in the tables
    store = open_store(store_url)
    acme, _beta = _data(store)
    store.dispose()

    def run(*args: str, input: str | None = None):  # type: ignore[no-untyped-def]
        env = {"MICROFLUENCE_DATABASE_URL": store_url}
        return CliRunner().invoke(app, ["privacy", *args, "-w", "acme"], input=input, env=env)

    listed = run("samples")
    assert listed.exit_code == 0 and "instagram:acme_ana" in listed.output
    out = tmp_path / "fans.csv"
    made = run("export-sample", "instagram:acme_ana", "--output", str(out))
    assert made.exit_code == 0, made.output
    assert out.read_text().splitlines()[0].startswith("id,username")
    assert len(out.read_text().splitlines()) == 4
    record = tmp_path / "ana.json"
    by_handle = run("creator", "tiktok:acme_ana_tt", "--output", str(record))
    assert by_handle.exit_code == 0, by_handle.output
    assert json.loads(record.read_text())["creator"]["id"] == acme.creator_ids[0]
    by_id = run("creator", str(acme.creator_ids[0]))
    assert json.loads(by_id.stdout)["creator"]["name"] == "acme Ana"
    missing = run("creator", "999999")
    assert missing.exit_code == 1 and "no creator with id 999999" in missing.output
    kept = run("delete-sample", "instagram:acme_ana", input="n\n")
    assert kept.exit_code == 1
    deleted = run("delete-sample", "instagram:acme_ana", "--yes")
    assert deleted.exit_code == 0 and "deleted 3 followers" in deleted.output
    after = run("samples").output
    assert "instagram:acme_ana" not in after and "instagram:acme_bo" in after

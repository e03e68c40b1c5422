"""Scoring a workspace in the store (SQLite and PostgreSQL) and reading the results back."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from metrics_data import NOW, at, load_into
from microfluence.cli.main import app
from microfluence.kernel.errors import InputError, NotFoundError
from microfluence.kernel.store.tables import Account, Post
from microfluence.kernel.workspaces import ensure_workspace, get_workspace
from microfluence.metrics.service import (
    account_metrics,
    choose_tier_scheme,
    compute_metrics,
    configure_metrics,
    follower_history,
    latest_run,
    post_engagement,
    save_custom_scheme,
    tier_schemes,
    workspace_metrics,
    workspace_tiers,
)
from microfluence.metrics.settings import get_metrics_settings
from microfluence.metrics.tables import AccountMetric, PostMetric


def test_score_round_trip_through_the_store(store):
    ids = load_into(store, "acme")
    load_into(store, "other")  # a second workspace must stay untouched
    summary = compute_metrics(store, "acme", now=NOW)
    assert (summary.accounts, summary.posts, summary.engine) == (4, 9, "duckdb")
    with store.session() as session:
        m = account_metrics(session, "acme", ids[1])
        assert m.value("er_median") == pytest.approx(0.0485)
        assert m.metrics["er_median"].as_of == at(199)
        assert m.metrics["growth_90d"].value == 200
        assert m.metrics["growth_90d"].as_of == at(195)
        assert m.value("growth_30d") is None and m.metrics["growth_30d"].as_of is None
        assert m.value("er_hypeauditor") == pytest.approx(48.5 / 1200)
        assert m.cohort_tier == "nano" and m.tiers["mediakix"].followers == 1200
        assert m.tiers["nano1k-micro50k-mega1m"].tier == "micro"
        assert m.window == "last 30 posts" and m.engine == "duckdb"

        posts = post_engagement(session, "acme", ids[1])
        assert [p.posted_at for p in posts] == [at(d) for d in (199, 190, 180, 120, 20)]
        first = posts[-1]
        assert first.followers_at_post == 1000 and first.snapshot_at == at(100)
        assert posts[2].interactions is None  # hidden likes stay unknown in the store

        assert [f for _, f in follower_history(session, "acme", ids[1])] == [1000, 1100, 1200]
        table = workspace_metrics(session, "acme", ["er_median", "followers"])
        assert table[ids[1]]["followers"] == 1200
        assert ids[3] not in table or table[ids[3]]["er_median"] is None
        assert workspace_tiers(session, "acme")[ids[4]] == "mid"
        assert workspace_tiers(session, "acme", account_ids=[ids[4]]) == {ids[4]: "mid"}
        assert workspace_tiers(session, "acme", account_ids=[]) == {}
        other_ws = session.scalar(
            select(func.count())
            .select_from(AccountMetric)
            .where(AccountMetric.workspace_id != get_workspace(session, "acme").id)
        )
        assert other_ws == 0
        with pytest.raises(NotFoundError):
            account_metrics(session, "other", ids[1])  # not that workspace's account
        with pytest.raises(InputError):
            workspace_metrics(session, "acme", ["no_such_metric"])


def test_rescoring_replaces_results_and_follows_settings(store):
    ids = load_into(store, "acme")
    compute_metrics(store, "acme", now=NOW)
    with store.transaction() as session:
        configure_metrics(session, "acme", window_posts=2)
        save_custom_scheme(
            session,
            "acme",
            {
                "name": "ours",
                "bands": [{"tier": "small", "min": 0, "max": 5000}, {"tier": "big", "min": 5000}],
            },
            choose=True,
        )
    compute_metrics(store, "acme", now=NOW)
    with store.session() as session:
        m = account_metrics(session, "acme", ids[1])
        assert m.value("n_posts") == 2 and m.window == "last 2 posts"
        assert m.cohort_scheme == "ours" and m.cohort_tier == "small"
        assert m.tiers["ours"].tier == "small"
        assert session.scalar(select(func.count()).select_from(PostMetric)) == 9
        run = latest_run(session, "acme")
        assert run.finished_at is not None and run.settings["tier_scheme"] == "ours"
        names = [s.name for s in tier_schemes(session, "acme") if s.chosen]
        assert names == ["ours"]
    with store.transaction() as session:
        choose_tier_scheme(session, "acme", "mediakix")
        with pytest.raises(InputError):
            choose_tier_scheme(session, "acme", "no-such-scheme")
    with store.session() as session:
        assert get_metrics_settings(session, "acme").tier_scheme == "mediakix"


def test_deleting_a_post_removes_its_metrics(sqlite_store):
    ids = load_into(sqlite_store, "acme")
    compute_metrics(sqlite_store, "acme", now=NOW)
    with sqlite_store.transaction() as session:
        post = session.scalar(select(Post).where(Post.account_id == ids[1]).limit(1))
        session.delete(post)
    with sqlite_store.session() as session:
        assert session.scalar(select(func.count()).select_from(PostMetric)) == 8
        session.delete(session.get(Account, ids[2]))
        session.commit()
        assert (
            session.scalar(
                select(func.count())
                .select_from(AccountMetric)
                .where(AccountMetric.account_id == ids[2])
            )
            == 0
        )


def test_score_command(sqlite_store, tmp_path):
    load_into(sqlite_store, "acme")
    runner = CliRunner()
    env = {"MICROFLUENCE_DATABASE_URL": sqlite_store.url}
    result = runner.invoke(app, ["score", "-w", "acme"], env=env)
    assert result.exit_code == 0, result.output
    assert "scored 4 accounts and 9 posts" in result.output

    scheme = tmp_path / "tiers.json"
    scheme.write_text(json.dumps({"name": "mine", "bands": [{"tier": "x", "min": 10, "max": 5}]}))
    result = runner.invoke(app, ["score", "-w", "acme", "--scheme-file", str(scheme)], env=env)
    assert result.exit_code == 1 and "tiers.json" in result.output and "ends" in result.output

    result = runner.invoke(app, ["score", "-w", "acme", "--engine", "flink"], env=env)
    assert result.exit_code == 1 and "unknown engine" in result.output
    result = runner.invoke(app, ["score", "-w", "nobody"], env=env)
    assert result.exit_code == 1 and "no workspace" in result.output

    result = runner.invoke(app, ["score", "-w", "acme", "--list-schemes"], env=env)
    assert result.exit_code == 0 and "mediakix" in result.output


def test_an_empty_workspace_scores_to_nothing(sqlite_store):
    with sqlite_store.transaction() as session:
        ensure_workspace(session, "empty")
    summary = compute_metrics(sqlite_store, "empty", now=NOW)
    assert (summary.accounts, summary.posts) == (0, 0)
    with sqlite_store.session() as session:
        assert workspace_metrics(session, "empty") == {}
        assert latest_run(session, "empty").finished_at is not None

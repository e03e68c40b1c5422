"""The vetting report end to end on both stores: service, CLI (table, JSON, HTML), evaluation."""

from __future__ import annotations

import datetime as dt
import json
import re

import numpy as np
import polars as pl
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from microfluence.authenticity.evaluation.vetting import evaluate_vetting, score_workspace
from microfluence.authenticity.vetting.report import vet_account
from microfluence.catalog.validation import parse_account_reference
from microfluence.cli.main import app
from microfluence.ingest.write.writer import import_run
from microfluence.kernel.errors import InputError, NotFoundError
from microfluence.kernel.store.tables import EvaluationLabel, Workspace

T0 = dt.datetime(2025, 6, 1)
DAYS = 45


def _account(writer, handle: str, *, bought: bool, pod: bool, bio: str | None = None) -> int:
    account_id = writer.accounts(
        pl.DataFrame({"platform": ["instagram"], "handle": [handle], "bio": [bio]})
    )[0]
    rng = np.random.default_rng(len(handle))
    followers = (8_000 * np.exp(0.003 * np.arange(DAYS)) + rng.normal(0, 3, DAYS)).astype(int)
    if bought:
        followers[25:] += 2_000
    writer.snapshots(
        pl.DataFrame(
            {
                "account_id": [account_id] * DAYS,
                "captured_at": [T0 + dt.timedelta(days=d) for d in range(DAYS)],
                "followers": followers,
                "following": [400] * DAYS,
            }
        )
    )
    n_posts = DAYS // 3
    writer.posts(
        pl.DataFrame(
            {
                "account_id": [account_id] * n_posts,
                "platform_post_id": [f"{handle}-{i}" for i in range(n_posts)],
                "posted_at": [T0 + dt.timedelta(days=3 * i, hours=10) for i in range(n_posts)],
                "caption": ["Use code SUMMER15 for 15% off"] * 3
                + ["A walk by the sea"] * (n_posts - 3),
                "likes": [300] * n_posts,
                "comments": [9] * n_posts,
            }
        )
    )
    post_ids = writer.post_ids(
        pl.DataFrame(
            {
                "account_id": [account_id] * n_posts,
                "platform_post_id": [f"{handle}-{i}" for i in range(n_posts)],
            }
        )
    )
    rows = []
    for i, post_id in enumerate(post_ids):
        if pod:
            rows += [(post_id, f"Such a vibe, love it {m}!!", f"podder{m}") for m in range(7)]
        rows += [(post_id, f"Which beach is this? I need to go there {i}", f"visitor{i}")]
        rows += [(post_id, "Where did you get the hat?", f"reader_{i}_b")]
    writer.comments(
        pl.DataFrame(
            {
                "post_id": [r[0] for r in rows],
                "comment_key": [f"c{k}" for k in range(len(rows))],
                "text": [r[1] for r in rows],
                "author_handle": [r[2] for r in rows],
            }
        )
    )
    return int(account_id)


def _followers(writer, account_id: int, fake_share: float, n: int = 200) -> None:
    fakes = int(n * fake_share)
    genuine = n - fakes
    writer.followers(
        pl.DataFrame(
            {
                "account_id": [account_id] * n,
                "username": [f"realperson.{i}" for i in range(genuine)]
                + [f"user{i}84736251" for i in range(fakes)],
                "full_name": ["Maria Lopez"] * genuine + [None] * fakes,
                "biography": ["coffee, books and long walks"] * genuine + [None] * fakes,
                "posts_count": [120] * genuine + [0] * fakes,
                "followers": [340] * genuine + [3] * fakes,
                "following": [290] * genuine + [4_500] * fakes,
                "has_profile_pic": [True] * genuine + [False] * fakes,
                "is_private": [False] * n,
                "external_url": [None] * n,
            }
        )
    )


@pytest.fixture
def vetting_world(store):
    with import_run(store, "vet", "test", "fixture") as writer:
        honest = _account(writer, "honest", bought=False, pod=False)
        shady = _account(writer, "shady", bought=True, pod=True, bio="casino bonus every day")
        _followers(writer, honest, 0.03)
        _followers(writer, shady, 0.6)
    with store.transaction() as session:
        ws = session.scalar(sa.select(Workspace).where(Workspace.name == "vet"))
        session.add_all(
            [
                EvaluationLabel(workspace_id=ws.id, account_id=honest, label="authentic"),
                EvaluationLabel(workspace_id=ws.id, account_id=shady, label="bought_followers"),
                EvaluationLabel(workspace_id=ws.id, account_id=shady, label="engagement_pod"),
            ]
        )
    return honest, shady


def test_reports_tell_an_honest_account_from_a_shady_one(store, vetting_world):
    honest = vet_account(store, "vet", "instagram", "@Honest")
    shady = vet_account(store, "vet", "instagram", "shady")
    assert honest.quality_score > 75 and honest.verdict == "likely authentic"
    assert shady.quality_score < 60 and shady.verdict == "likely inauthentic"
    assert shady.weighted_mean >= shady.quality_score
    assert (shady.capped_by is not None) == any("Red flag" in n for n in shady.notes)
    assert honest.capped_by is None and honest.weighted_mean == honest.quality_score

    growth = shady.component("growth")
    assert growth.available and growth.score < 50
    assert growth.evidence[0]["kind"] == "jump" and growth.evidence[0]["to"] == T0 + dt.timedelta(
        days=25
    )
    pods = shady.component("engagement_pods")
    assert {e["author"] for e in pods.evidence} == {f"podder{m}" for m in range(7)}
    fake = shady.component("fake_share")
    assert (
        fake.available
        and fake.value["fake_share"] > honest.component("fake_share").value["fake_share"]
    )
    assert fake.value["low"] <= fake.value["fake_share"] <= fake.value["high"]
    # The share is shown with its interval and the follower model's measured accuracy.
    assert "interval" in fake.summary and "ROC AUC" in fake.summary
    assert fake.value["model_accuracy"] in fake.summary
    sponsored = honest.component("sponsored")
    assert sponsored.value["ads"] == 3 and "SUMMER15" in sponsored.evidence[0]["evidence"]
    assert shady.component("brand_safety").value["bio_matches"] == ["gambling:casino"]

    # a cohort of two is too small: the engagement components are marked, weights renormalised
    engagement = shady.component("engagement_rate")
    assert not engagement.available and "cohort" in engagement.reason
    assert engagement.effective_weight == 0
    total = sum(c.contribution for c in shady.components)
    assert total == pytest.approx(shady.quality_score, abs=0.1)
    assert sum(c.effective_weight for c in shady.components) == pytest.approx(1.0, abs=1e-3)
    assert any("Engagement rate" in note for note in shady.notes)

    data = json.loads(shady.to_json())
    assert data["handle"] == "shady" and len(data["components"]) == len(shady.components)


def test_an_account_with_almost_no_data_gets_a_defined_report(store):
    with import_run(store, "thin", "test", "fixture") as writer:
        account_id = writer.accounts(pl.DataFrame({"platform": ["tiktok"], "handle": ["newbie"]}))[
            0
        ]
        writer.snapshots(
            pl.DataFrame({"account_id": [account_id], "captured_at": [T0], "followers": [-5]})
        )
    report = vet_account(store, "thin", "tiktok", "newbie")
    assert report.quality_score is None and report.verdict == "not enough data"
    assert all(not c.available and c.reason for c in report.components if c.weight > 0)
    assert any("snapshot" in note for note in report.notes)
    json.loads(report.to_json())


def test_unknown_accounts_workspaces_and_references(store, vetting_world):
    with pytest.raises(NotFoundError):
        vet_account(store, "vet", "instagram", "nobody")
    with pytest.raises(NotFoundError):
        vet_account(store, "other", "instagram", "honest")
    for bad in ("honest", "myspace:honest", "instagram:", ":x"):
        with pytest.raises(InputError):
            parse_account_reference(bad)


def test_evaluation_against_labels(store, vetting_world):
    result = evaluate_vetting(store, "vet")
    assert result.accounts == 2 and result.inauthentic == 1
    assert result.at_threshold.precision == 1.0 and result.at_threshold.recall == 1.0
    assert result.roc_auc == 1.0
    assert result.recall_by_label == {"bought_followers": 1.0, "engagement_pod": 1.0}
    # the bulk path scores exactly what the single-account report does
    scores = score_workspace(store, "vet").sort("account_id")
    for account_id, handle in zip(vetting_world, ("honest", "shady"), strict=True):
        report = vet_account(store, "vet", "instagram", handle)
        row = scores.filter(pl.col("account_id") == account_id).row(0, named=True)
        assert row["fake_share"] == pytest.approx(
            report.component("fake_share").value["fake_share"], abs=1e-4
        )
        assert row["quality_score"] == pytest.approx(report.quality_score, abs=0.05)
    strict = evaluate_vetting(store, "vet", threshold=1)
    assert strict.at_threshold.recall == 0.0 and strict.at_threshold.precision == 0.0


def test_evaluation_without_labels_is_a_clear_error(store):
    with import_run(store, "plain", "test", "fixture") as writer:
        writer.accounts(pl.DataFrame({"platform": ["instagram"], "handle": ["a"]}))
    with pytest.raises(InputError, match="no evaluation labels"):
        evaluate_vetting(store, "plain")


def test_vet_cli_end_to_end(store, store_url, vetting_world, tmp_path):
    runner = CliRunner()
    base = ["--workspace", "vet", "--database-url", store_url]
    table = runner.invoke(app, ["vet", "instagram:shady", *base])
    assert table.exit_code == 0, table.output
    assert "likely inauthentic" in table.output and "Follower growth" in table.output

    out = tmp_path / "report" / "shady.html"
    as_json = runner.invoke(app, ["vet", "instagram:shady", *base, "--json", "--html", str(out)])
    assert as_json.exit_code == 0, as_json.output
    data = json.loads(as_json.stdout)
    assert data["verdict"] == "likely inauthentic" and data["quality_score"] < 60
    html = out.read_text(encoding="utf-8")
    assert "shady" in html and "Followers over time" in html and "Fake share" in html
    assert html.count("plotly.js v") >= 1  # plotly.js embedded inline once
    assert not re.search(r"<script[^>]+src=", html)  # nothing fetched from the network
    assert "casino" in html

    lists = tmp_path / "lists.json"
    lists.write_text(json.dumps({"categories": {"gambling": None}}))
    custom = runner.invoke(
        app, ["vet", "instagram:shady", *base, "--json", "--brand-safety-lists", str(lists)]
    )
    assert json.loads(custom.stdout)["components"][-1]["value"]["bio_matches"] == []

    missing = runner.invoke(app, ["vet", "instagram:ghost", *base])
    assert missing.exit_code == 1 and "no account instagram:ghost" in missing.output
    bad = runner.invoke(app, ["vet", "ghost", *base])
    assert bad.exit_code == 1 and "PLATFORM:HANDLE" in bad.output

    evaluation = runner.invoke(app, ["eval", "vetting", *base, "--json"])
    assert evaluation.exit_code == 0, evaluation.output
    figures = json.loads(evaluation.stdout)
    assert figures["at_threshold"]["recall"] == 1.0 and len(figures["sweep"]) >= 5


def test_hostile_comment_and_caption_text_is_escaped_in_html(store, tmp_path):
    from microfluence.authenticity.vetting.html import render_report

    with import_run(store, "xss", "test", "fixture") as writer:
        account_id = writer.accounts(
            pl.DataFrame(
                {
                    "platform": ["instagram"],
                    "handle": ["x"],
                    "display_name": ["<script>alert(1)</script>"],
                }
            )
        )[0]
        writer.posts(
            pl.DataFrame(
                {
                    "account_id": [account_id] * 5,
                    "platform_post_id": list("abcde"),
                    "posted_at": [T0] * 5,
                    "caption": ["<img src=x onerror=alert(2)> #ad"] * 5,
                    "likes": [1] * 5,
                }
            )
        )
        post_ids = writer.post_ids(
            pl.DataFrame({"account_id": [account_id] * 2, "platform_post_id": ["a", "b"]})
        )
        writer.comments(
            pl.DataFrame(
                {
                    "post_id": post_ids,
                    "comment_key": ["1", "2"],
                    "text": ["<img src=x onerror=alert(3)> so good"] * 2,
                    "author_handle": ["troll"] * 2,
                }
            )
        )
    report = vet_account(store, "xss", "instagram", "x")
    assert report.component("comment_quality").evidence  # the hostile comment is shown
    html = render_report(report)
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)" in html
    assert "<img src=x" not in html


def test_tiny_and_all_private_follower_samples_get_a_defined_component(store):
    with import_run(store, "samples", "test", "fixture") as writer:
        ids = writer.accounts(
            pl.DataFrame({"platform": ["instagram"] * 3, "handle": ["tiny", "private", "empty"]})
        )
        writer.followers(
            pl.DataFrame({"account_id": [ids[0]] * 5, "username": [f"f{i}" for i in range(5)]})
        )
        writer.followers(
            pl.DataFrame(
                {
                    "account_id": [ids[1]] * 40,
                    "username": [f"p{i}" for i in range(40)],
                    "is_private": [True] * 40,
                }
            )
        )
    tiny = vet_account(store, "samples", "instagram", "tiny").component("fake_share")
    assert not tiny.available and "needs 20" in tiny.reason and tiny.score is None
    private = vet_account(store, "samples", "instagram", "private").component("fake_share")
    assert private.value["sample"] == 40
    assert private.available == (private.score is not None)
    assert private.available or private.reason
    empty = vet_account(store, "samples", "instagram", "empty")
    assert not empty.component("fake_share").available
    assert empty.component("fake_share").reason == "no follower sample stored for this account"
    assert empty.quality_score is None

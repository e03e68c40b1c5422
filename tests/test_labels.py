"""Calibration by the workspace's own labels: storing, drawing, files, the Beta posteriors, and
the estimates they move — on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import json
import re

import numpy as np
import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from labels_support import sampled_workspace
from microfluence.authenticity.followers.audit import audit_stored_sample
from microfluence.authenticity.followers.model import OperatingPoint, load_shipped_model
from microfluence.authenticity.labels import records, sampling
from microfluence.authenticity.labels.calibration import (
    PRIOR_LABELS,
    Confusion,
    calibrate,
    scored_labels,
    workspace_calibration,
)
from microfluence.authenticity.labels.export import write_labels
from microfluence.authenticity.labels.files import import_labels_file, rows_from_records
from microfluence.authenticity.labels.status import label_status
from microfluence.authenticity.labels.tables import FollowerLabel
from microfluence.authenticity.signals.fake_share import stored_fake_shares
from microfluence.catalog.followers import delete_sample
from microfluence.cli.main import app
from microfluence.kernel.errors import InputError, NotFoundError
from microfluence.kernel.store.tables import Follower
from store_support import flat, table_rows

MODEL = load_shipped_model()


def _ids(store, workspace_id: int, account_id: int, *, flagged: bool) -> list[int]:  # type: ignore[no-untyped-def]
    """Follower ids of one sample that the model flags (or does not)."""
    with store.session() as session:
        rows = session.execute(
            sa.select(Follower.id, Follower.username)
            .where(Follower.workspace_id == workspace_id, Follower.account_id == account_id)
            .order_by(Follower.id)
        ).all()
    return [i for i, name in rows if name.lstrip("=").startswith("user") == flagged]


def _label(store, workspace_id: int, ids: list[int], label: str, by: str = "ann@x.io") -> None:  # type: ignore[no-untyped-def]
    with store.transaction() as session:
        for follower_id in ids:
            records.label_follower(session, workspace_id, follower_id, label, by=by)


def _share(store, account: str = "instagram:ana") -> float:  # type: ignore[no-untyped-def]
    with store.session() as session:
        return audit_stored_sample(session, "acme", account).estimate.share


def test_a_later_label_replaces_the_earlier_one_and_keeps_who_and_when(store):
    ids = sampled_workspace(store)
    ws, follower = ids["workspace"], _ids(store, ids["workspace"], ids["ana"], flagged=True)[0]
    _label(store, ws, [follower], "r", by="ann@x.io")
    _label(store, ws, [follower], "FAKE", by="bob@x.io")
    with store.session() as session:
        rows, count = records.list_labels(session, ws)
        assert count == 1
        assert (rows[0].label, rows[0].labelled_by, rows[0].follower_id) == (
            "fake",
            "bob@x.io",
            follower,
        )
        assert rows[0].account == "instagram:ana" and rows[0].labelled_at is not None
        with pytest.raises(InputError, match="not a label"):
            records.label_follower(session, ws, follower, "maybe not", by="x")
        with pytest.raises(NotFoundError):
            records.label_follower(session, ws, 10**9, "fake", by="x")
    with store.transaction() as session:
        records.delete_label(session, ws, follower)
        with pytest.raises(NotFoundError):
            records.delete_label(session, ws, follower)


def test_labels_that_call_the_models_flags_wrong_lower_the_estimate(store):
    ids = sampled_workspace(store)
    ws = ids["workspace"]
    before = _share(store)
    assert before > 0.4  # half the sample is bot-like
    flagged = _ids(store, ws, ids["ana"], flagged=True)
    # The labeller says 15 of the 20 flagged followers are real people: the model's
    # false-positive rate on this audience is high, so fewer of its flags are fakes.
    _label(store, ws, flagged[:15], "real")
    _label(store, ws, flagged[15:], "fake")
    _label(store, ws, _ids(store, ws, ids["ana"], flagged=False)[:10], "real")
    with store.session() as session:
        calibration = workspace_calibration(session, ws)
    c = calibration.confusion
    assert (c.tp, c.fn, c.fp, c.tn) == (5, 0, 15, 10)
    assert calibration.fpr.value > MODEL.operating_point.fpr + 0.1
    after = _share(store)
    assert after < before - 0.1
    # The vetting cohort's component (stored_fake_shares) uses the same calibrated point.
    with store.connection() as conn:
        shares = stored_fake_shares(conn, ws)
        model_point = stored_fake_shares(conn, ws, operating_point=MODEL.operating_point)
    ana = shares.filter(shares["account_id"] == ids["ana"])["fake_share"][0]
    assert ana == pytest.approx(after)
    assert model_point.filter(model_point["account_id"] == ids["ana"])["fake_share"][0] == (
        pytest.approx(before)
    )


def test_labels_that_find_fakes_the_model_missed_raise_the_estimate(store):
    ids = sampled_workspace(store)
    ws = ids["workspace"]
    before = _share(store)
    unflagged = _ids(store, ws, ids["ana"], flagged=False)
    _label(store, ws, unflagged[:12], "fake")  # missed fakes: the model's TPR is lower here
    _label(store, ws, _ids(store, ws, ids["ana"], flagged=True)[:8], "fake")
    with store.session() as session:
        calibration = workspace_calibration(session, ws)
    assert calibration.tpr.value < MODEL.operating_point.tpr - 0.1
    assert _share(store) > before + 0.03


def test_unsure_labels_are_left_out_of_the_rates(store):
    ids = sampled_workspace(store)
    ws = ids["workspace"]
    _label(store, ws, _ids(store, ws, ids["ana"], flagged=True), "unsure")
    with store.session() as session:
        calibration = workspace_calibration(session, ws)
        status = label_status(session, ws)
    assert calibration.confusion == Confusion(unsure=20)
    assert not calibration.calibrated
    assert calibration.operating_point == MODEL.operating_point
    assert status.labelled == 20
    assert status.workspace is not None
    assert status.workspace.after.share == status.workspace.before.share


def test_one_label_does_not_swing_the_rates_and_many_outweigh_the_prior():
    point = MODEL.operating_point
    one = calibrate(Confusion(fp=1), point)
    assert one.fpr.value - point.fpr <= 1 / (PRIOR_LABELS + 1) + 1e-12
    assert one.tpr.value == pytest.approx(point.tpr)
    # 180 real followers of which 36 flagged (FPR 20 %): the posterior is near the labels.
    many = calibrate(Confusion(tp=14, fn=6, fp=36, tn=144), point)
    assert 0.15 < many.fpr.value < 0.2
    assert many.fpr.low < 0.2 < many.fpr.high
    # The calibrated point's counts are the posterior pseudo-counts (rounded).
    assert many.operating_point.fp == round(PRIOR_LABELS * point.fpr + 36)
    assert many.operating_point.tn == round(PRIOR_LABELS * (1 - point.fpr) + 144)
    assert many.operating_point.threshold == point.threshold


def test_rates_of_exactly_0_or_1_stay_finite():
    edge = calibrate(Confusion(), OperatingPoint(0.5, 1.0, 0.0, 10, 0, 0, 10))
    assert (edge.tpr.low, edge.tpr.high) == pytest.approx((1.0, 1.0))
    assert (edge.fpr.low, edge.fpr.high) == pytest.approx((0.0, 0.0))
    moved = calibrate(Confusion(fp=2, tn=8), OperatingPoint(0.5, 1.0, 0.0, 10, 0, 0, 10))
    assert 0 < moved.fpr.low < moved.fpr.value < moved.fpr.high < 1


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.fixed_dictionaries(
            {
                "username": st.one_of(st.none(), st.text(max_size=30)),
                "label": st.one_of(
                    st.none(), st.text(max_size=12), st.sampled_from(["f", "Real", " U "])
                ),
            }
        ),
        min_size=1,
        max_size=8,
    )
)
def test_any_label_list_is_read_or_refused_naming_the_item(items):
    try:
        rows = rows_from_records(items, source="labels")
    except InputError as exc:
        assert re.fullmatch(r"labels\[\d+\]\.(username|label)", exc.field or ""), exc.field
        index = int(exc.field.split("[")[1].split("]")[0])
        assert 0 <= index < len(items)
        return
    assert rows["label"].is_in(["fake", "real", "unsure"]).all()
    assert rows["username"].str.contains(r"\s").not_().all()
    assert rows.height == len(items)


def test_measured_accuracy_is_the_confusion_with_wilson_intervals():
    point = OperatingPoint(0.5, 0.9, 0.05, 90, 10, 5, 95)
    calibration = calibrate(Confusion(tp=8, fn=2, fp=4, tn=36), point, confidence=0.95)
    acc = calibration.accuracy
    assert acc["sensitivity"].value == pytest.approx(0.8)
    assert acc["specificity"].value == pytest.approx(0.9)
    assert acc["precision"].value == pytest.approx(8 / 12)
    assert acc["accuracy"].value == pytest.approx(44 / 50)
    # Wilson (1927) for 8/10 at 95 %: 0.490 – 0.943 (Newcombe 1998, table I method 3).
    assert acc["sensitivity"].low == pytest.approx(0.4902, abs=5e-4)
    assert acc["sensitivity"].high == pytest.approx(0.9433, abs=5e-4)
    empty = calibrate(Confusion(tp=3), point).accuracy["specificity"]
    assert (empty.value, empty.low, empty.high, empty.n) == (None, None, None, 0)


def test_the_next_follower_is_drawn_at_random_among_the_unlabelled(store):
    ids = sampled_workspace(store, bots=3, people=2)
    ws = ids["workspace"]
    with store.session() as session:
        everyone = sorted(
            session.scalars(sa.select(Follower.id).where(Follower.account_id == ids["ana"]))
        )
    _label(store, ws, everyone[:2], "fake")
    seen = []
    with store.session() as session:
        for k in range(3):  # each offset of the 3 left, in id order
            card = sampling.draw_follower(
                session, ws, account_id=ids["ana"], randbelow=lambda n, k=k: k
            )
            assert card is not None and card.label is None and card.verdict is None
            seen.append(card.follower_id)
        assert sampling.progress(session, ws, ids["ana"]).labelled == 2
        # Uniform over the unlabelled: 600 draws of 3 followers, each about 200 times.
        counts = {i: 0 for i in everyone[2:]}
        rng = np.random.default_rng(1)
        for _ in range(600):
            card = sampling.draw_follower(
                session, ws, account_id=ids["ana"], randbelow=lambda n: int(rng.integers(n))
            )
            counts[card.follower_id] += 1
    assert seen == everyone[2:]
    assert all(150 < c < 250 for c in counts.values()), counts
    _label(store, ws, everyone[2:], "real")
    with store.session() as session:
        assert sampling.draw_follower(session, ws, account_id=ids["ana"]) is None
        card = sampling.follower_card(session, ws, everyone[0])  # labelled: verdict shown
        assert card.label == "fake" and card.verdict is not None and card.verdict.flagged
        assert card.profile_url == f"https://www.instagram.com/{card.username}/"
        with pytest.raises(NotFoundError):
            sampling.draw_follower(session, ws, account_id=10**6)


def test_back_goes_to_the_labellers_previous_label(store):
    ids = sampled_workspace(store, bots=3, people=0)
    ws = ids["workspace"]
    first, second, third = _ids(store, ws, ids["ana"], flagged=True)
    _label(store, ws, [first], "fake", by="ann")
    _label(store, ws, [second], "fake", by="bob")
    _label(store, ws, [third], "real", by="ann")
    with store.session() as session:
        assert sampling.previous_labelled(session, ws, by="ann") == third
        assert sampling.previous_labelled(session, ws, by="ann", before=third) == first
        assert sampling.previous_labelled(session, ws, by="ann", before=first) is None


def test_a_labels_file_is_checked_whole_and_bad_rows_are_named_by_line(store, tmp_path):
    ids = sampled_workspace(store)
    ws = ids["workspace"]
    good = tmp_path / "labels.csv"
    good.write_text(
        "username,label,account\n@USER83920X0,fake,\nann.smith.0,r,instagram:ana\n"
        "user83920x0,unsure,instagram:ana\n",
        encoding="utf-8",
    )
    hostile = {
        "no-label.csv": ("username\nuser83920x0\n", None, "label"),
        "bad-label.csv": ("username,label\nuser83920x0,fake\nann.smith.0,maybe?\n", 3, "label"),
        "blank-user.csv": ("username,label\nuser83920x0,fake\n,real\n", 3, "username"),
        "spaced-user.csv": ("username,label\nann smith,real\n", 2, "username"),
        "unknown-user.csv": ("username,label\nuser83920x0,f\nnobody_here,r\n", 3, "username"),
        "other-account.csv": (
            "username,label,account\nann.smith.0,r,instagram:nobody\n",
            2,
            "account",
        ),
        "wrong-sample.csv": ("username,label,account\nann.smith.0,r,instagram:bo\n", 2, "username"),
    }
    before = table_rows(store, [FollowerLabel])
    for name, (text, line, field) in hostile.items():
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        with pytest.raises(InputError) as caught, store.transaction() as session:
            import_labels_file(session, ws, path, by="cli:test")
        assert caught.value.file == str(path), name
        assert caught.value.line == line, name
        assert caught.value.field == field, name
        assert table_rows(store, [FollowerLabel]) == before, name
    with store.transaction() as session:
        done = import_labels_file(session, ws, good, by="cli:test")
    # @USER83920X0 (no account) is in ana's sample only; a later row for it wins.
    assert (done.rows, done.followers) == (3, 2)
    assert done.by_label == {"real": 1, "unsure": 1}
    with pytest.raises(InputError) as caught:
        rows_from_records([{"username": "x", "label": "fake"}, {"username": "y"}], source="labels")
    assert caught.value.field == "labels[1].label"


def test_export_round_trips_and_neutralises_formulas(store, tmp_path):
    ids = sampled_workspace(store, prefix="=")  # usernames a spreadsheet would run
    ws = ids["workspace"]
    _label(store, ws, _ids(store, ws, ids["ana"], flagged=False)[:3], "real", by="=cmd|x")
    with store.session() as session:
        out = io.BytesIO()
        assert write_labels(session, ws, "csv", out) == 3
        text = out.getvalue().decode()
        raw = io.BytesIO()
        write_labels(session, ws, "csv", raw, raw=True)
        as_json = io.BytesIO()
        write_labels(session, ws, "json", as_json)
    assert "'=ann.smith" in text and "'=cmd|x" in text and "'=" not in raw.getvalue().decode()
    assert text.splitlines()[0] == (
        "follower_id,account_id,account,username,label,labelled_by,labelled_at"
    )
    assert len(json.loads(as_json.getvalue())) == 3
    # An export is a labels file: imported again it changes nothing but who and when.
    other = sampled_workspace(store, "beta")
    _label(
        store,
        other["workspace"],
        _ids(store, other["workspace"], other["bo"], flagged=True),
        "fake",
    )
    with store.session() as session:
        path = tmp_path / "again.csv"
        with path.open("wb") as out:
            write_labels(session, other["workspace"], "csv", out)
    with store.transaction() as session:
        done = import_labels_file(session, other["workspace"], path, by="cli:again")
    assert done.followers == 10 and done.by_label == {"fake": 10}
    with store.session() as session:
        rows, count = records.list_labels(session, other["workspace"])
    assert count == 10 and {r.labelled_by for r in rows} == {"cli:again"}
    assert {r.account for r in rows} == {"instagram:bo"}


def test_deleting_a_sample_deletes_its_labels(store):
    ids = sampled_workspace(store)
    ws = ids["workspace"]
    _label(store, ws, _ids(store, ws, ids["ana"], flagged=True)[:4], "fake")
    _label(store, ws, _ids(store, ws, ids["bo"], flagged=True)[:2], "fake")
    with store.transaction() as session:
        delete_sample(session, ws, ids["ana"])
    with store.session() as session:
        assert records.list_labels(session, ws)[1] == 2
        assert scored_labels(session, ws, MODEL).height == 2


def test_status_per_account_with_labelled_share(store):
    ids = sampled_workspace(store)
    ws = ids["workspace"]
    _label(store, ws, _ids(store, ws, ids["bo"], flagged=True)[:3], "fake")
    _label(store, ws, _ids(store, ws, ids["bo"], flagged=False)[:1], "real")
    with store.session() as session:
        status = label_status(session, ws)
    bo = next(a for a in status.accounts if a.account_id == ids["bo"])
    assert (bo.fake, bo.real, bo.unsure, bo.sample) == (3, 1, 0, 20)
    assert bo.labelled_share == pytest.approx(0.75)
    assert bo.labelled_low < 0.75 < bo.labelled_high
    assert status.accounts[0].account_id == ids["bo"]  # the most labelled first
    ana = next(a for a in status.accounts if a.account_id == ids["ana"])
    assert ana.labelled_share is None and ana.labelled_low is None
    assert status.followers == 60 and status.labelled == 4 and status.samples == 2
    json.dumps(status.as_dict(), default=str)
    with store.session() as session:
        top = label_status(session, ws, accounts=1)
    assert [a.account_id for a in top.accounts] == [ids["bo"]] and top.samples == 2
    # The scores are kept while the samples stay as they are, and redone when they change.
    from labels_support import bot

    with store.transaction() as session:
        session.add_all(bot(ids["bo"], ws, 500 + n) for n in range(5))
    with store.session() as session:
        grown = label_status(session, ws)
    assert grown.followers == 65
    assert grown.workspace.before.flagged == status.workspace.before.flagged + 5


def test_the_cli_imports_lists_exports_and_shows_status(store_url, tmp_path):
    from microfluence.kernel.store import open_store

    store = open_store(store_url)
    ids = sampled_workspace(store)
    store.dispose()
    path = tmp_path / "labels.csv"
    path.write_text(
        "username,label\n" + "".join(f"user{83920 + n}x{n * 7},fake\n" for n in range(5)),
        encoding="utf-8",
    )
    runner = CliRunner()
    common = ["--workspace", "acme", "--database-url", store_url]
    done = runner.invoke(app, ["labels", "import", str(path), "--by", "tester", *common])
    assert done.exit_code == 0, done.output
    assert "labelled 5 followers from 5 rows (5 fake)" in flat(done.output)
    listed = runner.invoke(app, ["labels", "list", "--json", *common])
    assert json.loads(listed.output)["count"] == 5
    exported = runner.invoke(app, ["labels", "export", "--format", "jsonl", *common])
    assert exported.output.count("\n") == 5 and '"labelled_by":"tester"' in exported.output
    audited = runner.invoke(app, ["audit", "followers", "--account", "instagram:ana", *common])
    assert "this workspace's, from its labels" in flat(audited.output)
    status = runner.invoke(app, ["labels", "status", *common])
    assert status.exit_code == 0 and "sensitivity" in status.output
    as_json = json.loads(runner.invoke(app, ["labels", "status", "--json", *common]).output)
    assert as_json["calibration"]["confusion"]["tp"] == 5
    assert {a["account_id"] for a in as_json["accounts"]} == {ids["ana"], ids["bo"]}
    bad = tmp_path / "bad.csv"
    bad.write_text("username,label\nnobody,fake\n", encoding="utf-8")
    refused = runner.invoke(app, ["labels", "import", str(bad), *common])
    assert refused.exit_code == 1
    assert f"{bad}, line 2, field 'username': no follower @nobody" in flat(refused.output)


def test_the_library_labels_from_a_file_and_reads_the_status(store_url, tmp_path):
    import microfluence
    from microfluence.kernel.store import open_store

    store = open_store(store_url)
    sampled_workspace(store)
    store.dispose()
    path = tmp_path / "labels.csv"
    path.write_text("username,label\nann.smith.0,real\nuser83920x0,fake\n", encoding="utf-8")
    with microfluence.open_workspace("acme", database_url=store_url, create=False) as ws:
        done = ws.import_labels(path, by="notebook")
        assert done.by_label == {"real": 1, "fake": 1}
        status = ws.label_status()
    assert status.calibration.confusion == Confusion(tp=1, tn=1)
    assert status.followers == 60

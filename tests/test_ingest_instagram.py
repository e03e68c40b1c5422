"""`import instagram`: Instagram post JSON (instaloader, web GraphQL) into the store.

Fixtures are written here in the shape of the real files (see ../shared/data/
instagram-graphql-sample/), never copied from them.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import lzma
import os
from pathlib import Path
from typing import Any

import orjson
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from microfluence.cli.main import app
from microfluence.ingest.instagram.importer import import_instagram
from microfluence.ingest.instagram.records import Reader, id_to_shortcode, shortcode_to_id
from microfluence.kernel.errors import InputError
from microfluence.kernel.store import open_store
from microfluence.kernel.store.tables import (
    Account,
    AccountSnapshot,
    Comment,
    Creator,
    ImportRun,
    Post,
)
from store_support import flat, table_rows

IMPORTED = (Creator, Account, AccountSnapshot, Post, Comment)

SHARED_SAMPLE = Path(__file__).resolve().parents[2] / "shared" / "data" / "instagram-graphql-sample"
T_POST = 1_538_300_000  # 2018-09-30 09:33:20 UTC
T_FETCH = dt.datetime(2019, 7, 1, 8, 30, 0)


def _comment(cid: str, text: str, user: str, at: int, likes: int = 0, replies=()) -> dict:
    node: dict[str, Any] = {
        "id": cid,
        "text": text,
        "created_at": at,
        "did_report_as_spam": False,
        "owner": {
            "id": f"9{cid[-4:]}",
            "is_verified": False,
            "profile_pic_url": "https://x/y.jpg",
            "username": user,
        },
        "viewer_has_liked": False,
        "edge_liked_by": {"count": likes},
    }
    if replies is not None:
        node["edge_threaded_comments"] = {
            "count": len(replies),
            "page_info": {"has_next_page": False, "end_cursor": None},
            "edges": [{"node": r} for r in replies],
        }
    return node


def make_post(
    *,
    shortcode: str = "BoW3eVBF0m4",
    media_id: str = "1879933871183055288",
    username: str = "Lea.Vintage",
    caption: str | None = "Outfit by @Les_Soeurs_K 🔥 code LEA15 #ad #OOTD #été #Werbung\n.\n#road",
    likes: int | None = 13022,
    sponsor: str | None = "les_soeurs_k",
    typename: str = "GraphImage",
    **extra: Any,
) -> dict:
    """A post object in the shape of Instagram's web GraphQL ``shortcode_media``."""
    reply = _comment(
        "17985274285023999", "@anna_b merci ❤️", username.lower(), T_POST + 900, 2, None
    )
    post: dict[str, Any] = {
        "__typename": typename,
        "id": media_id,
        "shortcode": shortcode,
        "dimensions": {"height": 1350, "width": 1080},
        "gating_info": None,
        "display_url": "https://scontent.example/p.jpg",
        "display_resources": [
            {"src": "https://scontent.example/p.jpg", "config_width": 640, "config_height": 800}
        ],
        "accessibility_caption": "Photo by someone.",
        "is_video": typename == "GraphVideo",
        "should_log_client_event": False,
        "tracking_token": "eyJ2ZXJzaW9uIjo1fQ==",
        "edge_media_to_tagged_user": {
            "edges": [
                {
                    "node": {
                        "user": {
                            "full_name": "MUA",
                            "id": "28426381",
                            "is_verified": False,
                            "profile_pic_url": "https://x/z.jpg",
                            "username": "ines.h_mua",
                        },
                        "x": 0.25,
                        "y": 0.33,
                    }
                },
                {
                    "node": {
                        "user": {
                            "full_name": "K",
                            "id": "1187977919",
                            "is_verified": False,
                            "profile_pic_url": "https://x/k.jpg",
                            "username": "Les_Soeurs_K",
                        },
                        "x": 0.5,
                        "y": 0.5,
                    }
                },
            ]
        },
        "edge_media_to_caption": {
            "edges": [] if caption is None else [{"node": {"text": caption}}]
        },
        "caption_is_edited": False,
        "has_ranked_comments": False,
        "edge_media_to_parent_comment": {
            "count": 64,
            "page_info": {"has_next_page": True, "end_cursor": "QVFBc05UZHMy"},
            "edges": [
                {
                    "node": _comment(
                        "17893075597261445",
                        "Trop mignonne",
                        "cecilia_cherieblossom",
                        T_POST + 600,
                        1,
                        [reply],
                    )
                },
                {
                    "node": _comment(
                        "17985274285023446",
                        "Tu es trop belle",
                        "ch.ristopher4892",
                        T_POST + 700,
                        0,
                        [],
                    )
                },
            ],
        },
        "edge_media_preview_comment": {
            "count": 64,
            "edges": [
                {"node": _comment("18037328323110680", "❤️", "nickylennydan", T_POST + 800, 0, None)}
            ],
        },
        "comments_disabled": False,
        "taken_at_timestamp": T_POST,
        "edge_media_preview_like": {"count": likes, "edges": []},
        "edge_media_to_sponsor_user": {
            "edges": []
            if sponsor is None
            else [{"node": {"sponsor": {"id": "1187977919", "username": sponsor}}}]
        },
        "location": {
            "id": "6889842",
            "has_public_page": True,
            "name": "Paris, France",
            "slug": "paris-france",
            "address_json": '{"city_name": "Paris, France"}',
        },
        "viewer_has_liked": False,
        "viewer_has_saved": False,
        "viewer_has_saved_to_collection": False,
        "viewer_in_photo_of_you": False,
        "viewer_can_reshare": True,
        "owner": {
            "id": "1009876",
            "is_verified": True,
            "profile_pic_url": "https://x/o.jpg",
            "username": username,
            "blocked_by_viewer": False,
            "followed_by_viewer": False,
            "full_name": "Léa — Vintage",
            "has_blocked_viewer": False,
            "is_private": False,
            "is_unpublished": False,
            "requested_by_viewer": False,
        },
        "is_ad": False,
        "edge_web_media_to_related_media": {"edges": []},
    }
    post.update(extra)
    return post


def make_profile(username: str = "lea.vintage", followers: int = 48_210, **extra: Any) -> dict:
    """A profile node as instaloader saves it (``Profile._asdict``)."""
    profile = {
        "id": "1009876",
        "username": username,
        "full_name": "Léa — Vintage",
        "biography": "Vintage finds 🌿 Paris\nbusiness: lea@example.com",
        "external_url": "https://lea.example",
        "edge_followed_by": {"count": followers},
        "edge_follow": {"count": 812},
        "edge_owner_to_timeline_media": {"count": 655, "edges": []},
        "is_private": False,
        "is_verified": True,
        "is_business_account": True,
        "business_category_name": "Creators & Celebrities",
        "business_email": "lea@example.com",
        "profile_pic_url": "https://x/o.jpg",
    }
    profile.update(extra)
    return profile


def instaloader(node: dict, node_type: str = "Post") -> dict:
    return {"node": node, "instaloader": {"version": "4.10", "node_type": node_type}}


def write(path: Path, data: Any, *, mtime: dt.datetime | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = json.dumps(data, ensure_ascii=False, indent=1).encode()
    if path.name.endswith(".xz"):
        raw = lzma.compress(raw)
    path.write_bytes(raw)
    if mtime is not None:
        ts = mtime.replace(tzinfo=dt.UTC).timestamp()
        os.utime(path, (ts, ts))
    return path


def one(store, model, *where):
    with store.session() as session:
        return session.scalars(sa.select(model).where(*where)).one()


# -- mapping -------------------------------------------------------------------------------------


def test_post_maps_every_field(store, tmp_path):
    path = write(tmp_path / "lea.vintage-1879933871183055288.json", make_post(), mtime=T_FETCH)
    report = import_instagram(store, "brand", [path])
    assert report.created == {"creators": 1, "accounts": 1, "posts": 1, "comments": 4}
    assert report.rows_read == 1 and report.rejected == 0

    account = one(store, Account, Account.handle == "lea.vintage")
    assert account.platform == "instagram"
    assert account.external_id == "1009876"
    assert account.display_name == "Léa — Vintage"
    assert account.is_verified is True and account.is_private is False
    assert account.source.startswith("instagram-json:")
    creator = one(store, Creator, Creator.id == account.creator_id)
    assert creator.name == "Léa — Vintage"

    post = one(store, Post, Post.account_id == account.id)
    assert post.platform_post_id == "1879933871183055288"
    assert post.shortcode == "BoW3eVBF0m4"
    assert post.url == "https://www.instagram.com/p/BoW3eVBF0m4/"
    assert post.post_type == "image"
    assert post.posted_at == dt.datetime(2018, 9, 30, 9, 33, 20)
    assert post.caption.startswith("Outfit by @Les_Soeurs_K")
    assert post.hashtags == ["ad", "ootd", "été", "werbung", "road"]
    assert post.mentions == ["les_soeurs_k"]
    assert post.likes == 13022
    assert post.comments == 64
    assert post.views is None and post.shares is None
    assert post.location == "Paris, France"
    assert post.is_sponsored is True
    assert post.sponsor_evidence == "paid_partnership; caption:#ad,#werbung"
    assert post.sponsor_handles == ["les_soeurs_k"]
    assert post.tagged_handles == ["ines.h_mua", "les_soeurs_k"]
    assert post.alt_text == "Photo by someone."

    with store.session() as session:
        comments = {c.comment_key: c for c in session.scalars(sa.select(Comment))}
    assert set(comments) == {
        "17893075597261445",
        "17985274285023446",
        "17985274285023999",
        "18037328323110680",
    }
    first = comments["17893075597261445"]
    assert first.post_id == post.id
    assert first.text == "Trop mignonne"
    assert first.author_handle == "cecilia_cherieblossom"
    assert first.author_is_verified is False
    assert first.posted_at == dt.datetime(2018, 9, 30, 9, 43, 20)
    assert first.likes == 1 and first.parent_key is None
    reply = comments["17985274285023999"]
    assert reply.parent_key == "17893075597261445" and reply.likes == 2
    assert reply.text == "@anna_b merci ❤️"

    # No counts in a post's owner here, so no snapshot is invented.
    with store.connection() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(AccountSnapshot)).scalar() == 0


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"typename": "GraphSidecar"}, {"post_type": "carousel"}),
        (
            {"typename": "GraphVideo", "video_view_count": 5400},
            {"post_type": "video", "views": 5400},
        ),
        (
            {
                "typename": "GraphVideo",
                "product_type": "clips",
                "video_view_count": 10,
                "video_play_count": 90_000,
            },
            {"post_type": "reel", "views": 90_000},
        ),
        ({"typename": "GraphVideo", "product_type": "igtv"}, {"post_type": "video"}),
        ({"typename": "XDTGraphImage"}, {"post_type": "image"}),
        ({"likes": -1}, {"likes": None}),
        ({"likes": None}, {"likes": None}),
        ({"like_and_view_counts_disabled": True}, {"likes": None}),
        (
            {"caption": None, "sponsor": None},
            {"is_sponsored": False, "hashtags": [], "sponsor_evidence": None, "caption": ""},
        ),
        (
            {"caption": "Neue Kollektion #Anzeige", "sponsor": None},
            {"is_sponsored": True, "sponsor_evidence": "caption:#anzeige", "sponsor_handles": None},
        ),
        (
            {"sponsor": None, "is_paid_partnership": True, "caption": "x"},
            {"sponsor_evidence": "paid_partnership"},
        ),
        ({"location": None}, {"location": None}),
        ({"edge_media_to_tagged_user": {"edges": []}}, {"tagged_handles": []}),
        ({"accessibility_caption": None}, {"alt_text": None}),
        ({"accessibility_caption": "  "}, {"alt_text": None}),
        (
            {"accessibility_caption": None, "alt_text": "A red silk dress on a hanger"},
            {"alt_text": "A red silk dress on a hanger"},
        ),
        (
            {
                "typename": "GraphSidecar",
                "accessibility_caption": "Image may contain: 1 person",
                "edge_sidecar_to_children": {
                    "edges": [
                        {"node": {"accessibility_caption": "Image may contain: 1 person"}},
                        {"node": {"accessibility_caption": "Image may contain: shoes"}},
                        {"node": {"accessibility_caption": None}},
                    ]
                },
            },
            {"alt_text": "Image may contain: 1 person\nImage may contain: shoes"},
        ),
        (
            {"carousel_media": [{"accessibility_caption": "Photo of a dog"}, "odd"]},
            {"alt_text": "Photo by someone.\nPhoto of a dog"},
        ),
        ({"accessibility_caption": "x" * 6000}, {"alt_text": "x" * 5000}),
    ],
)
def test_post_variants(sqlite_store, tmp_path, changes, expected):
    path = write(tmp_path / "p.json", make_post(**changes))
    import_instagram(sqlite_store, "default", [path])
    post = one(sqlite_store, Post)
    for name, value in expected.items():
        assert getattr(post, name) == value, name


def test_instaloader_story_item(sqlite_store, tmp_path):
    story = {
        "__typename": "GraphStoryVideo",
        "id": "2900000000000000001",
        "taken_at_timestamp": T_POST,
        "expiring_at_timestamp": T_POST + 86400,
        "is_video": True,
        "video_view_count": None,
        "owner": {"id": "1009876", "username": "lea.vintage"},
    }
    write(tmp_path / "story.json.xz", instaloader(story, "StoryItem"))
    import_instagram(sqlite_store, "default", [tmp_path])
    post = one(sqlite_store, Post)
    assert (post.post_type, post.url, post.posted_at) == (
        "story",
        None,
        dt.datetime(2018, 9, 30, 9, 33, 20),
    )
    assert post.platform_post_id == "2900000000000000001"


def test_missing_keys_are_unknown_not_zero(sqlite_store, tmp_path):
    bare = {"shortcode": "BcmiW", "owner": {"username": "someone"}}
    path = write(tmp_path / "bare.json", bare)
    import_instagram(sqlite_store, "default", [path])
    post = one(sqlite_store, Post)
    assert post.platform_post_id == shortcode_to_id("BcmiW")
    assert post.likes is None and post.comments is None and post.posted_at is None
    assert post.is_sponsored is None and post.caption is None and post.hashtags is None
    assert post.tagged_handles is None and post.post_type is None


def test_shortcode_and_media_id_round_trip():
    assert shortcode_to_id("Bcmi4WtB_IH") == "1668174118237237767"
    assert id_to_shortcode("1668174118237237767") == "Bcmi4WtB_IH"
    assert shortcode_to_id("not a code!") is None
    assert id_to_shortcode("abc") is None


def test_instaloader_files_profiles_and_snapshots(store, tmp_path):
    folder = tmp_path / "lea.vintage"
    write(folder / "2018-09-30_09-33-20_UTC.json.xz", instaloader(make_post()), mtime=T_FETCH)
    write(
        folder
        / "0_lea.vintage_1009876.json.xz",  # sorts first: a later post owner must not blank the bio
        instaloader(make_profile(), "Profile"),
        mtime=T_FETCH,
    )
    # An instaloader resume file and hashtag metadata hold no posts: left alone.
    write(
        folder / "iterator_abc.json.xz",
        {"node": {"query_hash": "x"}, "instaloader": {"node_type": "FrozenNodeIterator"}},
    )
    (folder / "2018-09-30_09-33-20_UTC.jpg").write_bytes(b"\xff\xd8\xff")
    (folder / "2018-09-30_09-33-20_UTC.txt").write_text("caption")
    write(
        tmp_path / "profiles" / "lea.info",
        make_profile(followers=50_000),
        mtime=T_FETCH + dt.timedelta(days=30),
    )

    report = import_instagram(store, "default", [tmp_path])
    assert report.rows_read == 3  # a post, the profile twice
    assert report.created["posts"] == 1 and report.created["accounts"] == 1
    account = one(store, Account)
    assert account.bio.startswith("Vintage finds") and account.is_business is True
    assert account.email == "lea@example.com"
    with store.session() as session:
        snaps = session.scalars(
            sa.select(AccountSnapshot).order_by(AccountSnapshot.captured_at)
        ).all()
    assert [(s.captured_at, s.followers, s.following, s.posts_count) for s in snaps] == [
        (T_FETCH, 48_210, 812, 655),
        (T_FETCH + dt.timedelta(days=30), 50_000, 812, 655),
    ]


def test_capture_time_from_file_or_option(sqlite_store, tmp_path):
    stated = dict(make_profile(), scraped_at="2020-02-02T10:00:00Z")
    write(tmp_path / "a.json", stated, mtime=T_FETCH)
    import_instagram(sqlite_store, "default", [tmp_path / "a.json"])
    write(tmp_path / "b.json", make_profile(followers=7), mtime=T_FETCH)
    import_instagram(
        sqlite_store, "default", [tmp_path / "b.json"], captured_at=dt.datetime(2021, 3, 3, 3, 3)
    )
    with sqlite_store.session() as session:
        snaps = session.scalars(
            sa.select(AccountSnapshot).order_by(AccountSnapshot.captured_at)
        ).all()
    assert [(s.captured_at, s.followers) for s in snaps] == [
        (dt.datetime(2020, 2, 2, 10, 0), 48_210),
        (dt.datetime(2021, 3, 3, 3, 3), 7),
    ]


def test_a_scrape_time_out_of_range_in_utc_is_an_error_not_a_crash(sqlite_store, tmp_path):
    path = write(tmp_path / "a.json", dict(make_profile(), scraped_at="0001-01-01T00:00:00+14:00"))
    with pytest.raises(InputError, match="out of range in UTC") as info:
        import_instagram(sqlite_store, "default", [path])
    assert info.value.file == str(path)


def test_one_snapshot_per_account_and_day(sqlite_store, tmp_path):
    for i in range(3):
        owner = dict(make_post()["owner"], edge_followed_by={"count": 100 + i})
        post = make_post(media_id=str(1879933871183055288 + i), shortcode=None, owner=owner)
        write(tmp_path / f"p{i}.json", post, mtime=T_FETCH + dt.timedelta(minutes=i))
    import_instagram(sqlite_store, "default", [tmp_path])
    with sqlite_store.session() as session:
        snaps = session.scalars(sa.select(AccountSnapshot)).all()
    assert [(s.captured_at, s.followers) for s in snaps] == [
        (T_FETCH + dt.timedelta(minutes=2), 102)
    ]


def test_containers_lists_edges_graphql_and_timelines(store, tmp_path):
    posts = [
        make_post(media_id=str(2000 + i), shortcode=None, username=f"user{i % 2}") for i in range(4)
    ]
    write(tmp_path / "list.json", posts[:1])
    write(tmp_path / "edges.json", {"edges": [{"node": posts[1]}]})
    write(tmp_path / "graphql.json", {"data": {"shortcode_media": posts[2]}})
    timeline_post = {k: v for k, v in posts[3].items() if k != "owner"}
    timeline_post["owner"] = {"id": "55"}
    write(
        tmp_path / "profile.json",
        {
            "graphql": {
                "user": make_profile(
                    username="user1",
                    id="55",
                    edge_owner_to_timeline_media={"count": 1, "edges": [{"node": timeline_post}]},
                )
            }
        },
    )
    mobile = {
        "code": "C1a2B3c4D5e",
        "pk": "3100000000000000001_1001",
        "taken_at": T_POST,
        "media_type": 8,
        "like_count": 12,
        "comment_count": 3,
        "caption": {"text": "Mobile API shape #Reklam"},
        "user": {"pk": "1001", "username": "user0"},
    }
    write(
        tmp_path / "timeline.json",
        {
            "data": {
                "user": {
                    "xdt_api__v1__feed__user_timeline_graphql_connection": {
                        "edges": [{"node": mobile}]
                    }
                }
            }
        },
    )
    report = import_instagram(store, "default", [tmp_path])
    assert report.created["posts"] == 5 and report.created["accounts"] == 2
    post = one(store, Post, Post.platform_post_id == "3100000000000000001")
    assert (post.shortcode, post.post_type, post.likes, post.comments) == (
        "C1a2B3c4D5e",
        "carousel",
        12,
        3,
    )
    assert (post.posted_at, post.is_sponsored, post.sponsor_evidence) == (
        dt.datetime(2018, 9, 30, 9, 33, 20),
        True,
        "caption:#reklam",
    )
    with store.connection() as conn:
        rows = conn.execute(
            sa.select(Account.handle, Post.platform_post_id, Post.shortcode).join(
                Post, Post.account_id == Account.id
            )
        ).all()
    assert sorted(rows) == [
        ("user0", "2000", id_to_shortcode("2000")),
        ("user0", "2002", id_to_shortcode("2002")),
        ("user0", "3100000000000000001", "C1a2B3c4D5e"),
        ("user1", "2001", id_to_shortcode("2001")),
        ("user1", "2003", id_to_shortcode("2003")),
    ]


def test_json_lines_of_posts(store, tmp_path, monkeypatch):
    monkeypatch.setattr("microfluence.ingest.instagram.importer.BATCH_FILES", 2)  # flushes mid-file
    lines = [json.dumps(make_post(media_id=str(7000 + i), shortcode=None)) for i in range(5)]
    plain = tmp_path / "posts.jsonl"
    plain.write_text("\ufeff" + "\n".join(lines[:3]) + "\n\n")
    (tmp_path / "more.ndjson.xz").write_bytes(lzma.compress("\n".join(lines[3:]).encode()))
    report = import_instagram(store, "default", [tmp_path])
    assert report.rows_read == 5 and report.created["posts"] == 5
    assert report.created["comments"] == 5 * 4

    bad = tmp_path / "bad" / "posts.jsonl"
    bad.parent.mkdir()
    bad.write_text("\n".join([lines[0], '{"shortcode": ', json.dumps(make_post(owner=None))]))
    before = table_rows(store, IMPORTED, provenance=False)
    with pytest.raises(InputError, match="not valid JSON") as info:
        import_instagram(store, "default", [bad])
    assert (info.value.file, info.value.line) == (str(bad), 2)
    assert table_rows(store, IMPORTED, provenance=False) == before

    report = import_instagram(store, "default", [bad], skip_invalid=True)
    assert report.rows_read == 1 and report.rejected == 2
    assert [(r.line, r.field) for r in report.rejections] == [(2, None), (3, "$.owner")]


def test_owner_by_id_only_uses_known_account(sqlite_store, tmp_path):
    write(tmp_path / "profile.json", instaloader(make_profile(), "Profile"))
    import_instagram(sqlite_store, "default", [tmp_path / "profile.json"])
    write(tmp_path / "post.json", make_post(owner={"id": "1009876"}))
    import_instagram(sqlite_store, "default", [tmp_path / "post.json"])
    assert one(sqlite_store, Post).account_id == one(sqlite_store, Account).id

    write(tmp_path / "stranger.json", make_post(media_id="77", owner={"id": "4242"}))
    with pytest.raises(InputError, match="no username") as info:
        import_instagram(sqlite_store, "default", [tmp_path / "stranger.json"])
    assert info.value.file.endswith("stranger.json") and info.value.field == "$.owner"


def test_instaloader_comment_files(sqlite_store, tmp_path):
    base = tmp_path / "lea" / "2018-09-30_09-33-20_UTC"
    write(Path(f"{base}.json.xz"), instaloader(make_post()))
    comments = [
        {
            "id": 18000000000000001,
            "created_at": T_POST + 60,
            "text": "Where is it from?",
            "owner": {"id": "3", "username": "Curious.Cat", "is_verified": False},
            "likes_count": 4,
            "answers": [
                {
                    "id": 18000000000000002,
                    "created_at": T_POST + 120,
                    "text": "@curious.cat link in bio",
                    "owner": {"id": "1009876", "username": "lea.vintage"},
                    "likes_count": 1,
                }
            ],
        },
        {"created_at": T_POST + 30, "text": "no id here", "owner": {"username": "anon"}},
    ]
    write(Path(f"{base}_comments.json"), comments)
    report = import_instagram(sqlite_store, "default", [tmp_path])
    assert report.created["comments"] == 4 + 3
    with sqlite_store.session() as session:
        by_key = {c.comment_key: c for c in session.scalars(sa.select(Comment))}
    assert by_key["18000000000000002"].parent_key == "18000000000000001"
    assert by_key["18000000000000001"].author_handle == "curious.cat"
    assert by_key["18000000000000001"].likes == 4
    digest = [k for k in by_key if k.startswith("sha1:")]
    assert len(digest) == 1 and by_key[digest[0]].text == "no id here"
    # Imported again: the digest key is stable, nothing is duplicated.
    again = import_instagram(sqlite_store, "default", [tmp_path])
    assert again.created == {}

    orphan = tmp_path / "other" / "x_comments.json"
    write(orphan, comments)
    with pytest.raises(InputError, match="without their post"):
        import_instagram(sqlite_store, "default", [orphan])


def test_reimport_updates_without_duplicates(store, tmp_path):
    path = write(tmp_path / "p.json", make_post())
    import_instagram(store, "default", [path])
    before = table_rows(store, IMPORTED, provenance=False)
    write(path, make_post(likes=20_000))
    report = import_instagram(store, "default", [path])
    assert report.created == {}
    assert report.updated["posts"] == 1 and report.updated["comments"] == 4
    after = table_rows(store, IMPORTED, provenance=False)
    assert {k: len(v) for k, v in after.items()} == {k: len(v) for k, v in before.items()}
    assert one(store, Post).likes == 20_000


def test_workspaces_are_separate(sqlite_store, tmp_path):
    path = write(tmp_path / "p.json", make_post())
    import_instagram(sqlite_store, "one", str(path))  # a single path is fine too
    import_instagram(sqlite_store, "two", [path])
    with sqlite_store.connection() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(Post)).scalar() == 2


def test_batches_and_progress(sqlite_store, tmp_path, monkeypatch):
    monkeypatch.setattr("microfluence.ingest.instagram.importer.BATCH_FILES", 3)
    for i in range(8):
        write(tmp_path / f"{i:02}.json", make_post(media_id=str(5000 + i), shortcode=None))
    seen = []
    report = import_instagram(
        sqlite_store, "default", [tmp_path], progress=lambda d, t: seen.append((d, t))
    )
    assert report.created["posts"] == 8 and report.created["comments"] == 8 * 4
    total = sum(p.stat().st_size for p in tmp_path.glob("*.json"))
    assert len(seen) == 8 and seen[-1] == (total, total)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


# -- bad input -----------------------------------------------------------------------------------


def _hostile_cases() -> list[tuple[str, bytes, str]]:
    good = make_post()
    cases: list[tuple[str, Any, str]] = [
        (
            "string count",
            make_post(edge_media_preview_like={"count": "13k"}),
            "$.edge_media_preview_like.count",
        ),
        ("list as owner", make_post(owner=[{"username": "x"}]), "$.owner"),
        ("null owner", make_post(owner=None), "$.owner"),
        ("no owner", {k: v for k, v in good.items() if k != "owner"}, "$.owner"),
        ("negative count", make_post(likes=-7), "$.edge_media_preview_like.count"),
        ("huge count", make_post(likes=2**70), "$.edge_media_preview_like.count"),
        ("fractional count", make_post(likes=1.5), "$.edge_media_preview_like.count"),
        (
            "edges not a list",
            make_post(edge_media_to_caption={"edges": {"node": {"text": "x"}}}),
            "$.edge_media_to_caption.edges",
        ),
        (
            "edge node text",
            make_post(edge_media_to_sponsor_user={"edges": ["oldspice"]}),
            "$.edge_media_to_sponsor_user.edges[0]",
        ),
        ("time as text", make_post(taken_at_timestamp="yesterday"), "$.taken_at_timestamp"),
        ("time out of range", make_post(taken_at_timestamp=-5), "$.taken_at_timestamp"),
        (
            "caption a number",
            make_post(edge_media_to_caption={"edges": [{"node": {"text": 42}}]}),
            "$.edge_media_to_caption.edges[0].node.text",
        ),
        (
            "flag as text",
            make_post(owner=dict(good["owner"], is_verified="yes")),
            "$.owner.is_verified",
        ),
        (
            "no id no shortcode",
            {k: v for k, v in good.items() if k not in ("id", "shortcode")},
            "$",
        ),
        ("username with space", make_post(username="two words"), "$.owner.username"),
        (
            "comment owner a list",
            make_post(
                edge_media_to_parent_comment={
                    "count": 1,
                    "edges": [{"node": {"id": "1", "text": "x", "owner": []}}],
                }
            ),
            "$.edge_media_to_parent_comment.edges[0].node.owner",
        ),
        ("alt text a number", make_post(accessibility_caption=7), "$.accessibility_caption"),
        (
            "slide alt text a list",
            make_post(
                edge_sidecar_to_children={"edges": [{"node": {"accessibility_caption": []}}]}
            ),
            "$.edge_sidecar_to_children.edges[0].node.accessibility_caption",
        ),
        ("not a post", {"hello": "world"}, "$"),
        ("a bare number", 42, "$"),
        ("list of strings", ["BoW3eVBF0m4"], "$[0]"),
        (
            "unknown node type",
            {"node": good, "instaloader": {"node_type": "Reel"}},
            "$.instaloader.node_type",
        ),
    ]
    out = [(name, json.dumps(value).encode(), where) for name, value, where in cases]
    text = orjson.dumps(good)
    out += [
        ("truncated", text[: len(text) // 2], ""),
        ("empty", b"", ""),
        ("random bytes", bytes(range(256)) * 3, ""),
        ("latin-1", json.dumps({"shortcode": "é"}, ensure_ascii=False).encode("latin-1"), ""),
        ("bad xz", b"\xfd7zXZ\x00" + b"\x00" * 40, ""),
        ("truncated xz", lzma.compress(text)[:-30], ""),
        ("infinity", b'{"shortcode": "B", "owner": {"username": "a"}, "like_count": 1e999}', ""),
    ]
    return out


HOSTILE = _hostile_cases()


@pytest.mark.parametrize(("name", "raw", "where"), HOSTILE, ids=[c[0] for c in HOSTILE])
def test_hostile_file_fails_cleanly_and_changes_nothing(store, tmp_path, name, raw, where):
    import_instagram(
        store, "default", [write(tmp_path / "good.json", make_post(media_id="1", shortcode=None))]
    )
    before = table_rows(store, IMPORTED, provenance=False)
    bad = tmp_path / "in" / "bad.json"
    bad.parent.mkdir()
    bad.write_bytes(raw)
    with pytest.raises(InputError) as info:
        import_instagram(store, "default", [tmp_path / "good.json", bad])
    assert info.value.file == str(bad)
    if where:
        assert info.value.field == where
    assert str(bad) in str(info.value)
    assert table_rows(store, IMPORTED, provenance=False) == before
    with store.session() as session:
        failed = session.scalars(sa.select(ImportRun).where(ImportRun.status == "failed")).one()
        assert str(bad) in failed.error


def test_skip_invalid_keeps_good_items_and_writes_rejects(store, tmp_path):
    folder = tmp_path / "mixed"
    write(folder / "good.json", make_post(media_id="1", shortcode=None))
    write(
        folder / "list.json",
        [
            make_post(media_id="2", shortcode=None),
            make_post(media_id="3", shortcode=None, owner=None),
            "junk",
        ],
    )
    (folder / "truncated.json").write_bytes(b'{"shortcode": "Bx", "owner": {')
    rejects = tmp_path / "rejects.csv"
    report = import_instagram(store, "default", [folder], skip_invalid=True, rejects_path=rejects)
    assert report.created["posts"] == 2 and report.rejected == 3
    import csv

    rows = list(csv.DictReader(rejects.open(encoding="utf-8")))
    got = sorted((Path(r["file"]).name, r["field"], r["reason"]) for r in rows)
    assert got == [
        ("list.json", "$[1].owner", "the post's owner is null"),
        ("list.json", "$[2]", "expected a post object, got text"),
        ("truncated.json", "", got[2][2]),
    ]
    assert got[2][2].startswith("not valid JSON")
    assert next(r for r in rows if r["file"].endswith("truncated.json"))["line"] == "1"


def test_odd_but_valid_encodings_import(sqlite_store, tmp_path):
    text = json.dumps(make_post(), ensure_ascii=False)
    (tmp_path / "utf8-bom.json").write_bytes(b"\xef\xbb\xbf" + text.encode())
    (tmp_path / "utf16.json").write_bytes(text.encode("utf-16"))
    (tmp_path / "utf16le-nobom.json").write_bytes(text.encode("utf-16-le"))
    report = import_instagram(sqlite_store, "default", [tmp_path])
    assert report.rows_read == 3 and report.created["posts"] == 1
    assert one(sqlite_store, Account).display_name == "Léa — Vintage"


# -- property-based: any mutation of a valid post is imported or cleanly refused ----------------

JSON_LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
)
JSON_VALUES = st.recursive(
    JSON_LEAVES,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)


def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*prefix, i))
    return out


BASE_POST = make_post()
BASE_PATHS = _paths(BASE_POST)[1:]


def _mutate(path: tuple, value: Any) -> dict:
    post = copy.deepcopy(BASE_POST)
    target = post
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return post


@settings(max_examples=300, deadline=None)
@given(path=st.sampled_from(BASE_PATHS), value=JSON_VALUES)
def test_reader_accepts_or_names_the_path(path, value):
    post = _mutate(path, value)
    try:
        doc = Reader("post.json").document(post, keep_going=False)
    except InputError as exc:
        assert exc.file == "post.json"
        assert exc.field and exc.field.startswith("$")
        assert str(exc).startswith("post.json, field '$")
    else:
        assert len(doc.posts) == 1


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(path=st.sampled_from(BASE_PATHS), value=JSON_VALUES, cut=st.integers(0, 100))
def test_store_unchanged_whenever_an_import_fails(store, tmp_path, path, value, cut):
    post = _mutate(path, value)
    raw = json.dumps(post).encode()  # orjson refuses integers beyond 64 bits
    if cut % 4 == 0:
        raw = raw[: len(raw) * cut // 100]  # truncated JSON too
    target = tmp_path / "fuzz.json"
    target.write_bytes(raw)
    before = table_rows(store, IMPORTED, provenance=False)
    try:
        import_instagram(store, "fuzz", [target])
    except InputError as exc:
        assert exc.file == str(target)
        assert table_rows(store, IMPORTED, provenance=False) == before


# -- the command line, on both stores -------------------------------------------------------------


def test_cli_imports_and_reports(store_url, tmp_path):
    write(tmp_path / "a" / "p.json.xz", instaloader(make_post()))
    result = CliRunner().invoke(
        app,
        [
            "import",
            "instagram",
            str(tmp_path / "a"),
            "--workspace",
            "acme",
            "--database-url",
            store_url,
        ],
    )
    assert result.exit_code == 0, result.output
    assert "created 1 creators, 1 accounts, 1 posts, 4 comments" in flat(result.output)
    store = open_store(store_url)
    try:
        assert one(store, Post).is_sponsored is True
    finally:
        store.dispose()


def test_cli_bad_file_exits_non_zero_and_names_it(store_url, tmp_path):
    good = write(tmp_path / "good.json", make_post())
    bad = write(
        tmp_path / "bad.json", make_post(media_id="9", edge_media_preview_like={"count": "many"})
    )
    runner = CliRunner()
    result = runner.invoke(
        app, ["import", "instagram", str(good), str(bad), "--database-url", store_url]
    )
    assert result.exit_code == 1
    assert "bad.json" in flat(result.output) and "$.edge_media_preview_like.count" in flat(
        result.output
    )
    assert "expected a count, got text" in flat(result.output)
    store = open_store(store_url)
    try:
        with store.connection() as conn:
            assert conn.execute(sa.select(sa.func.count()).select_from(Post)).scalar() == 0
    finally:
        store.dispose()

    rejects = tmp_path / "rejects.csv"
    result = runner.invoke(
        app,
        [
            "import",
            "instagram",
            str(good),
            str(bad),
            "--skip-invalid",
            "--rejects",
            str(rejects),
            "--database-url",
            store_url,
        ],
    )
    assert result.exit_code == 0, result.output
    assert "rejected 1" in flat(result.output) and rejects.exists()


def test_empty_folder_is_an_error(sqlite_store, tmp_path):
    (tmp_path / "photos").mkdir()
    (tmp_path / "photos" / "a.jpg").write_bytes(b"\xff\xd8")
    with pytest.raises(InputError, match="no .json, .json.xz") as info:
        import_instagram(sqlite_store, "default", [tmp_path / "photos"])
    assert info.value.file == str(tmp_path / "photos")


def test_cli_missing_path(tmp_path, sqlite_store):
    result = CliRunner().invoke(
        app, ["import", "instagram", str(tmp_path / "nope"), "--database-url", sqlite_store.url]
    )
    assert result.exit_code == 1 and "no such file or folder" in flat(result.output)


# -- the real sample, when it is on this machine ---------------------------------------------------


@pytest.mark.skipif(not SHARED_SAMPLE.is_dir(), reason="shared research sample not on this machine")
def test_every_shared_sample_file_imports(sqlite_store):
    files = sorted(SHARED_SAMPLE.glob("*.json"))
    report = import_instagram(sqlite_store, "sample", [SHARED_SAMPLE])
    assert report.rejected == 0 and report.rows_read == len(files)
    assert report.created["posts"] == len(files)
    with sqlite_store.connection() as conn:
        sponsored = conn.execute(
            sa.select(sa.func.count())
            .select_from(Post)
            .where(Post.sponsor_evidence.like("%paid_partnership%"))
        ).scalar()
        with_sponsor_users = sum(
            1 for f in files if json.loads(f.read_text())["edge_media_to_sponsor_user"]["edges"]
        )
        assert sponsored == with_sponsor_users
        described = conn.execute(
            sa.select(sa.func.count()).select_from(Post).where(Post.alt_text.is_not(None))
        ).scalar()

        def has_alt(post: dict) -> bool:
            slides = (post.get("edge_sidecar_to_children") or {}).get("edges") or []
            texts = [post.get("accessibility_caption")]
            texts += [s["node"].get("accessibility_caption") for s in slides]
            return any((t or "").strip() for t in texts)

        assert described == sum(1 for f in files if has_alt(json.loads(f.read_text())))
        assert described > 0
        assert conn.execute(sa.select(sa.func.count()).select_from(Comment)).scalar() > 0


# -- unknown markers as text (issue 11, part 4) -----------------------------------------------


@pytest.mark.parametrize("marker", ["N/A", "#N/A", "NaN", "-", "—", "null", "#DIV/0!", "N/A K"])
def test_counts_given_as_unknown_markers_are_unknown(store, tmp_path, marker):
    profile = make_profile(edge_followed_by={"count": marker}, edge_follow={"count": "n/a"})
    post = {"shortcode": "BcmiW", "owner": {"username": "someone"}, "like_count": marker}
    paths = [
        write(tmp_path / "p.json", instaloader(profile, "Profile")),
        write(tmp_path / "x.json", post),
    ]
    report = import_instagram(store, "default", paths)
    assert report.rejected_count == 0
    snapshot = one(store, AccountSnapshot)
    assert (snapshot.followers, snapshot.following, snapshot.posts_count) == (None, None, 655)
    assert one(store, Post).likes is None


def test_a_count_of_other_text_is_still_an_error(sqlite_store, tmp_path):
    post = {"shortcode": "BcmiW", "owner": {"username": "someone"}, "like_count": "12abc"}
    with pytest.raises(InputError) as caught:
        import_instagram(sqlite_store, "default", [write(tmp_path / "x.json", post)])
    assert caught.value.field == "$.like_count"
    assert "expected a count, got text" in str(caught.value)


def test_a_refused_item_says_how_to_import_the_valid_ones(sqlite_store, tmp_path):
    post = {"shortcode": "BcmiW", "owner": {"username": "someone"}, "like_count": "12abc"}
    with pytest.raises(InputError) as caught:
        import_instagram(sqlite_store, "default", [write(tmp_path / "x.json", post)])
    assert caught.value.field == "$.like_count"
    assert "--skip-invalid (command line), skip_invalid=true (API, library)" in str(caught.value)

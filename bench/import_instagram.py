"""Benchmark: import a folder of Instagram post JSON files (issue 2).

    .venv/bin/python -m bench.import_instagram [--files 20000] [--naive-files 1000]
                                               [--database-url URL]

Generates ``--files`` post files in instaloader's shape (one post, its owner, six comments and a
reply each, 500 accounts, a tenth of them xz-compressed) and then, each in a fresh child process
so that peak memory (ru_maxrss) is its own:

* ``import``: ``import_instagram`` on the whole folder into a fresh SQLite file (or
  ``--database-url``), batches of 500 files;
* ``import (quarter)``: the same on a quarter of the files — memory must not grow with the folder;
* ``parse only``: reading and ``orjson.loads`` of every file, nothing else — the floor;
* ``naive``: per file, the ORM way (a session, ``merge`` of the account, the post and each
  comment, a commit per file) on the first ``--naive-files`` files, extrapolated.

Prints files/s, posts/s and peak RSS for each; docs/benchmarks.md records the figures.
"""

from __future__ import annotations

import argparse
import json
import lzma
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson

T0 = 1_500_000_000


def _post(i: int) -> dict:
    owner = f"creator{i % 500}"
    comments = [
        {
            "node": {
                "id": str(17_000_000_000_000_000 + i * 10 + k),
                "text": f"love this #{k} @{owner} 😍",
                "created_at": T0 + i * 60 + k,
                "owner": {
                    "id": str(900 + k),
                    "username": f"fan{(i + k) % 9000}",
                    "is_verified": False,
                },
                "edge_liked_by": {"count": k},
                "edge_threaded_comments": {
                    "count": 1 if k == 0 else 0,
                    "edges": [
                        {
                            "node": {
                                "id": str(18_000_000_000_000_000 + i),
                                "text": "@fan thanks!",
                                "created_at": T0 + i * 60 + 30,
                                "owner": {"id": "1", "username": owner},
                                "edge_liked_by": {"count": 1},
                            }
                        }
                    ]
                    if k == 0
                    else [],
                },
            }
        }
        for k in range(6)
    ]
    node = {
        "__typename": ("GraphImage", "GraphSidecar", "GraphVideo")[i % 3],
        "id": str(2_000_000_000_000_000_000 + i),
        "shortcode": None,
        "taken_at_timestamp": T0 + i * 3600,
        "edge_media_to_caption": {
            "edges": [{"node": {"text": f"Day {i} in Paris with @brand{i % 40} #ootd #travel #ad"}}]
        },
        "edge_media_preview_like": {"count": 100 + i % 5000, "edges": []},
        "edge_media_to_parent_comment": {"count": 7, "edges": comments},
        "edge_media_to_sponsor_user": {
            "edges": [{"node": {"sponsor": {"id": "5", "username": f"brand{i % 40}"}}}]
            if i % 7 == 0
            else []
        },
        "edge_media_to_tagged_user": {
            "edges": [{"node": {"user": {"username": f"brand{i % 40}"}}}]
        },
        "location": {"id": "1", "name": "Paris, France"} if i % 2 else None,
        "is_video": i % 3 == 2,
        "video_view_count": 1000 + i if i % 3 == 2 else None,
        "owner": {
            "id": str(1000 + i % 500),
            "username": owner,
            "full_name": f"Creator {i % 500}",
            "is_verified": i % 50 == 0,
            "is_private": False,
            "edge_followed_by": {"count": 10_000 + i % 500},
        },
        "display_url": "https://scontent.example/" + "x" * 200,
        "accessibility_caption": "Photo may contain: 1 person, outdoor",
    }
    return {"node": node, "instaloader": {"version": "4.10", "node_type": "Post"}}


def generate(folder: Path, files: int) -> int:
    folder.mkdir(parents=True, exist_ok=True)
    size = 0
    for i in range(files):
        sub = folder / f"creator{i % 500}"
        sub.mkdir(exist_ok=True)
        raw = orjson.dumps(_post(i))
        if i % 10 == 0:
            path = sub / f"{i:07}_UTC.json.xz"
            raw = lzma.compress(raw)
        else:
            path = sub / f"{i:07}_UTC.json"
        path.write_bytes(raw)
        size += len(raw)
    return size


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(mode: str, folder: str, url: str, limit: int) -> None:
    paths = sorted(Path(folder).rglob("*_UTC.json*"))[:limit]
    started = time.perf_counter()
    if mode == "import":
        from microfluence.ingest.instagram.importer import import_instagram
        from microfluence.kernel.store import open_store

        store = open_store(url)
        started = time.perf_counter()
        report = import_instagram(store, "bench", [str(p) for p in paths])
        posts = report.created.get("posts", 0)
    elif mode == "parse":
        from microfluence.ingest.instagram.files import read_json

        posts = sum(1 for p in paths if read_json(p))
    else:
        posts = _naive(paths, url)
    seconds = time.perf_counter() - started
    print(
        json.dumps({"files": len(paths), "posts": posts, "seconds": seconds, "peak_mb": _peak_mb()})
    )


def _naive(paths: list[Path], url: str) -> int:
    """The obvious way: the ORM, one object at a time, a transaction per file."""
    import sqlalchemy as sa

    from microfluence.ingest.instagram.files import read_json
    from microfluence.kernel.store import open_store
    from microfluence.kernel.store.tables import Account, Comment, Creator, Post
    from microfluence.kernel.workspaces import ensure_workspace

    store = open_store(url)
    with store.transaction() as session:
        ws_id = ensure_workspace(session, "naive").id
    for path in paths:
        node = read_json(path)["node"]
        owner = node["owner"]
        with store.transaction() as session:
            account = session.scalar(
                sa.select(Account).where(
                    Account.workspace_id == ws_id, Account.handle == owner["username"]
                )
            )
            if account is None:
                creator = Creator(workspace_id=ws_id, name=owner["full_name"])
                session.add(creator)
                session.flush()
                account = Account(
                    workspace_id=ws_id,
                    creator_id=creator.id,
                    platform="instagram",
                    handle=owner["username"],
                    display_name=owner["full_name"],
                )
                session.add(account)
                session.flush()
            post = Post(
                workspace_id=ws_id,
                account_id=account.id,
                platform_post_id=node["id"],
                caption=node["edge_media_to_caption"]["edges"][0]["node"]["text"],
                likes=node["edge_media_preview_like"]["count"],
            )
            session.add(post)
            session.flush()
            for edge in node["edge_media_to_parent_comment"]["edges"]:
                c = edge["node"]
                session.add(
                    Comment(
                        workspace_id=ws_id,
                        post_id=post.id,
                        comment_key=c["id"],
                        text=c["text"],
                        author_handle=c["owner"]["username"],
                    )
                )
    return len(paths)


def run_child(mode: str, folder: Path, url: str, limit: int) -> dict:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.import_instagram",
            "--child",
            mode,
            str(folder),
            url,
            str(limit),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=20_000)
    parser.add_argument("--naive-files", type=int, default=1_000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--child", nargs=4, default=None)
    args = parser.parse_args()
    if args.child:
        mode, folder, url, limit = args.child
        child(mode, folder, url, int(limit))
        return

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "posts"
        started = time.perf_counter()
        size = generate(folder, args.files)
        print(
            f"generated {args.files} files, {size / 2**20:.1f} MiB "
            f"in {time.perf_counter() - started:.1f}s"
        )

        def url(name: str) -> str:
            return args.database_url or f"sqlite:///{tmp}/{name}.sqlite"

        results = {
            "import": run_child("import", folder, url("full"), args.files),
            "import (quarter)": run_child("import", folder, url("quarter"), args.files // 4),
            "parse only": run_child("parse", folder, url("parse"), args.files),
            "naive ORM": run_child("naive", folder, url("naive"), args.naive_files),
        }
        print(f"{'run':<18}{'files':>8}{'files/s':>10}{'posts/s':>10}{'peak MB':>9}")
        for name, r in results.items():
            rate, posts = r["files"] / r["seconds"], r["posts"] / r["seconds"]
            print(f"{name:<18}{r['files']:>8}{rate:>10.0f}{posts:>10.0f}{r['peak_mb']:>9.0f}")
        full, floor, naive = results["import"], results["parse only"], results["naive ORM"]
        print(
            f"import takes {full['seconds'] / floor['seconds']:.1f}x the bare JSON parse; "
            f"{(full['files'] / full['seconds']) / (naive['files'] / naive['seconds']):.1f}x the "
            "naive ORM's speed"
        )


if __name__ == "__main__":
    main()

"""Niches: the taxonomy, the shipped model on crafted accounts, storing and correcting niches,
only changed accounts recomputed, the evaluation on a small sample, and the CLI."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from microfluence.cli.main import app
from microfluence.discovery import niches
from microfluence.discovery.candidates import Shipped, hashed_methods
from microfluence.discovery.dataset import pooled, read_accounts, single_posts
from microfluence.discovery.evaluation import LABELS, evaluate, non_english
from microfluence.discovery.features import (
    N_TEXT,
    TermWeights,
    counts,
    documents,
    featurise,
    idf,
    meta_tokens,
)
from microfluence.discovery.model import VERSION, NicheModel, load_shipped_model
from microfluence.discovery.niches import (
    THRESHOLD,
    TOP_K,
    account_texts,
    get_niches,
    recompute_niches,
    set_niches,
    top_niches,
)
from microfluence.discovery.posts_curve import posts_curve
from microfluence.discovery.tables import AccountNiche
from microfluence.discovery.taxonomy import (
    DATASET_LABELS,
    DESCRIPTIONS,
    MEASURED,
    NICHES,
    SEEDS,
    WEAK,
)
from microfluence.discovery.taxonomy import (
    LABELS as NICHE_LABELS,
)
from microfluence.discovery.training import (
    ACCOUNT_DROPOUT,
    ALT_DROPOUT,
    POOL,
    _drop_account_numbers,
    _drop_alt_texts,
    augmented,
    keyword_baseline,
    log_count_ratios,
    train,
    weak_labels,
)
from microfluence.kernel.errors import InputError, NotFoundError
from microfluence.kernel.store.tables import Account, Creator, Post
from microfluence.kernel.workspaces import ensure_workspace

CONTRACT = (
    "fashion beauty fitness food_drink travel family_parenting home_interior pets gaming tech "
    "music sports outdoors lifestyle business education art_photography health_wellness "
    "automotive other"
).split()


def frame(**columns: list[str]) -> pl.DataFrame:
    n = len(next(iter(columns.values())))
    base = {c: [""] * n for c in ("handle", "name", "bio", "captions", "hashtags")}
    return pl.DataFrame(base | columns)


def predict(**columns: list[str]) -> list[str]:
    model = load_shipped_model()
    probs = model.probabilities(frame(**columns))
    return [model.niches[i] for i in probs.argmax(axis=1)]


# -- the taxonomy ------------------------------------------------------------------------------


def test_the_taxonomy_is_the_contract_and_maps_the_data_sets_labels() -> None:
    assert list(NICHES) == CONTRACT
    assert set(NICHE_LABELS) == set(DESCRIPTIONS) == set(SEEDS) == set(NICHES)
    assert set(DATASET_LABELS.values()) <= set(NICHES)
    assert DATASET_LABELS["food"] == "food_drink" and DATASET_LABELS["pet"] == "pets"
    assert DATASET_LABELS["family"] == "family_parenting"
    assert DATASET_LABELS["interior"] == "home_interior"
    assert len(MEASURED) == 8 and "other" not in MEASURED
    assert "gaming" in WEAK and "fashion" not in WEAK
    assert all(SEEDS[n] for n in NICHES if n != "other")


# -- features and the model --------------------------------------------------------------------


def test_hashtags_are_split_and_kept_whole() -> None:
    docs = documents(
        frame(handle=["run.with_jane2"], captions=["Sunday #MorningRun #run2024 🏃 done"])
    )
    words = docs["words"][0]
    assert "morning run" in words and "run 2024" in words and "t_morningrun" in words
    assert "🏃" in words and "jane" in words
    assert "morningrun" in docs["chars"][0]


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.lists(st.text(max_size=200), min_size=1, max_size=5))
def test_any_text_gives_unit_or_empty_rows(texts: list[str]) -> None:
    accounts = frame(captions=texts, bio=texts, handle=texts)
    terms = TermWeights(np.linspace(1, 9, N_TEXT, dtype=np.float32))
    for matrix in (featurise(accounts), featurise(accounts, terms)):
        norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
        assert np.all((np.abs(norms - 1) < 1e-4) | (norms == 0))
    probs = load_shipped_model().probabilities(frame(captions=texts))
    assert np.allclose(probs.sum(axis=1), 1, atol=1e-4)


def test_counts_are_saturated_and_weighted_by_idf() -> None:
    accounts = frame(captions=["#ootd " * 10 + "#gym", "#ootd", "#ootd #vegan", "#ootd #vegan"])
    text, _ = counts(accounts)
    weights = idf(text)
    # ln((1 + n)/(1 + df)) + 1: a slot in every account gets 1, one in two of four
    # ln(5/3) + 1, a slot no account has the most.
    seen = np.bincount(text.indices, minlength=N_TEXT)
    assert weights.shape == (N_TEXT,)
    assert np.allclose(weights[seen == 4], 1.0)
    assert np.allclose(weights[seen == 2], np.log(5 / 3) + 1)
    assert weights.max() == pytest.approx(np.log(5) + 1)
    # Ten #ootd beside one #gym: BM25 saturation n·(k₁ + 1)/(n + k₁) weighs 10 against 1 as
    # 1.96 to 1, log(1 + n) as 3.46 to 1.
    ones = TermWeights(np.ones(N_TEXT, dtype=np.float32))
    for terms, ratio in ((ones, 10 * 2.2 / 11.2 / 1.0), (None, np.log(11) / np.log(2))):
        row = featurise(accounts.head(1), terms)[0, :N_TEXT].data
        assert row.max() / row.min() == pytest.approx(ratio, rel=1e-3)
    # With the idf, the slots of #vegan (in two accounts) outweigh those of #ootd (in all).
    plain, weighted = featurise(accounts, ones), featurise(accounts, TermWeights(weights))
    with_idf = weighted[2, :N_TEXT].toarray().ravel()
    without = plain[2, :N_TEXT].toarray().ravel()
    rare, common = (seen == 2) & (without > 0), (seen == 4) & (without > 0)
    assert rare.any() and common.any()
    gain = with_idf[without > 0] / without[without > 0]
    assert gain[rare[without > 0]].min() > gain[common[without > 0]].max()


def test_locations_join_the_words() -> None:
    docs = documents(frame(captions=["dinner"], locations=["Jones Beach\nOlbia, Italy"]))
    assert "jones beach" in docs["words"][0] and "olbia" in docs["words"][0]


def test_account_tokens_are_binned_and_unknown_numbers_give_none() -> None:
    accounts = pl.DataFrame(
        {
            "followers": [6453.0, None, -5.0, float("nan")],
            "following": [710.0, None, 3.0, None],
            "posts_count": [1059.0, None, None, None],
            "likes": [212.0, 40.0, None, None],
            "comments": [4.0, 1.0, None, None],
            "post_types": ["image carousel", None, "", "video"],
        }
    )
    assert [t.split() for t in meta_tokens(accounts)] == [
        # log2 rounded: 6454 → 13, 711 → 9, 1060 → 10, 6454/711 → 3, 216/6454 → -5, 5/213 → -5
        "m_fol13 m_fng9 m_pc10 m_ratio3 m_er-5 m_cr-5 m_type_image m_type_carousel".split(),
        ["m_cr-4"],  # no followers: no follower, ratio or ER token
        ["m_fng2"],  # a negative count is unknown
        ["m_type_video"],
    ]
    assert list(meta_tokens(frame(captions=["x"]))) == [""]  # no such columns: no tokens


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    st.lists(
        st.tuples(
            st.none() | st.floats(allow_nan=True, allow_infinity=True),
            st.none() | st.integers(min_value=-(2**62), max_value=2**62),
            st.none() | st.text(max_size=30),
        ),
        min_size=1,
        max_size=5,
    )
)
def test_any_account_numbers_give_unit_rows(rows: list[tuple]) -> None:  # type: ignore[type-arg]
    accounts = frame(captions=["hello"] * len(rows)).with_columns(
        followers=pl.Series([r[0] for r in rows], dtype=pl.Float64),
        following=pl.Series([r[1] for r in rows], dtype=pl.Int64),
        likes=pl.Series([r[0] for r in rows], dtype=pl.Float64),
        post_types=pl.Series([r[2] for r in rows], dtype=pl.Utf8),
    )
    matrix = featurise(accounts)
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    assert np.all(np.abs(norms - 1) < 1e-4)


def test_complement_nb_is_blended_in_and_can_be_left_out() -> None:
    accounts = read_accounts(
        write_dataset_lines(
            [
                {"username": f"{label}_{i}", "category": label, "posts": [{"caption": text}]}
                for label, text in CRAFTED.items()
                for i in range(4)
            ]
        )
    )
    plain = train(accounts, version="t", nb_weight=0.0)
    blended = train(accounts, version="t")
    assert not np.allclose(plain.weights, blended.weights)
    assert np.allclose(plain.bias, blended.bias)
    # The NB part is centred over the niches: every feature's weights move by the same total.
    assert np.allclose((blended.weights - plain.weights).sum(axis=1), 0, atol=1e-3)
    guess = blended.probabilities(accounts).argmax(axis=1)
    assert np.mean(np.array(blended.niches)[guess] == accounts["label"].to_numpy()) > 0.8


def test_the_nb_svm_is_averaged_in_and_the_idf_ships(tmp_path: Path) -> None:
    accounts = read_accounts(
        write_dataset_lines(
            [
                {"username": f"{label}_{i}", "category": label, "posts": [{"caption": text}]}
                for label, text in CRAFTED.items()
                for i in range(4)
            ]
        )
    )
    previous = train(accounts, version="t", nbsvm_weight=0.0, term_weights=False)
    model = train(accounts, version="t")
    without = train(accounts, version="t", nbsvm_weight=0.0)
    assert previous.idf is None and model.idf is not None and model.idf.shape == (N_TEXT,)
    assert not np.allclose(model.weights, without.weights)
    for each in (model, previous):
        guess = each.probabilities(accounts).argmax(axis=1)
        assert np.mean(np.array(each.niches)[guess] == accounts["label"].to_numpy()) > 0.8
        each.save(tmp_path / "m.npz")
        loaded = NicheModel.load(tmp_path / "m.npz")
        assert (loaded.idf is None) == (each.idf is None)
        assert np.allclose(loaded.probabilities(accounts), each.probabilities(accounts), atol=0.02)
    # An idf that does not fit the features is refused by name.
    np.savez(
        tmp_path / "bad.npz",
        version=np.array("x"),
        niches=np.array(model.niches),
        weights=model.weights,
        bias=model.bias,
        idf=np.ones(5),
    )
    with pytest.raises(InputError, match="bad.npz"):
        NicheModel.load(tmp_path / "bad.npz")


def test_log_count_ratios_favour_a_niches_own_features() -> None:
    x = featurise(frame(captions=["#ootd", "#ootd #style", "#gym", "#gym #style"]))
    y = np.array(["fashion", "fashion", "fitness", "fitness"], dtype=object)
    ratios = log_count_ratios(x, y, np.array(["fashion", "fitness"], dtype=object))
    only = lambda row: set(x[row].indices)  # noqa: E731
    ootd = only(0) - only(2) - only(3)
    shared = only(1) & only(3)
    assert ootd and shared
    for j in ootd:
        assert ratios[j, 0] > 0 > ratios[j, 1]
    for j in shared - only(0) - only(2):  # #style: once in each class, so about even
        assert abs(ratios[j, 0]) < 1e-3 and abs(ratios[j, 1]) < 1e-3


def test_the_shipped_model_is_built_by_the_current_recipe() -> None:
    # A recipe change bumps model.VERSION; the shipped file must then be rebuilt
    # (bench.niche_model --write), or every account would be scored by the old recipe's weights
    # under the new version's name.
    assert load_shipped_model().version == VERSION


def test_the_model_reads_clear_accounts() -> None:
    assert predict(
        captions=[
            "Leg day done, new deadlift PR at the gym 💪 #fitness #gymlife #workout",
            "Homemade pasta with basil and parmesan, recipe in bio #foodie #dinner #recipe",
            "Sunset over the beach in Bali, best trip ever #travel #wanderlust #vacation",
            "My puppy learned to sit! #dogsofinstagram #puppy",
        ]
    ) == ["fitness", "food_drink", "travel", "pets"]


def test_the_model_reads_hashtags_alone_and_concatenated() -> None:
    assert predict(captions=["#ootd #streetstyle #OutfitOfTheDay", "#skincareroutine #makeup"]) == [
        "fashion",
        "beauty",
    ]


def test_the_model_reads_non_english_captions() -> None:
    assert predict(
        captions=[
            "Receta de tarta de chocolate casera, deliciosa 😋 #comida #receta #postre",
            "Entrenamiento de piernas en el gimnasio hoy #entrenamiento #gym #fitness",
        ]
    ) == ["food_drink", "fitness"]


def test_unlabelled_niches_come_from_their_seeds() -> None:
    assert predict(
        captions=[
            "Streaming Fortnite tonight on Twitch #gaming #gamer #twitch #esports",
            "New BMW M3 at the track #cars #carsofinstagram #bmw #jdm",
        ]
    ) == ["gaming", "automotive"]


def test_empty_accounts_get_a_distribution_not_an_error() -> None:
    probs = load_shipped_model().probabilities(frame(captions=["", "🙂"]))
    assert probs.shape == (2, len(NICHES)) and np.allclose(probs.sum(axis=1), 1)


def test_top_niches_keep_the_best_and_those_over_the_threshold() -> None:
    probs = np.array([[0.5, 0.3, 0.15, 0.05], [0.1, 0.1, 0.1, 0.7], [0.3, 0.3, 0.3, 0.1]])
    kept = top_niches(probs, ["a", "b", "c", "d"])
    assert kept.filter(pl.col("row") == 0)["niche"].to_list() == ["a", "b"]
    assert kept.filter(pl.col("row") == 1)["niche"].to_list() == ["d"]
    assert kept.filter(pl.col("row") == 2).height == TOP_K
    assert THRESHOLD > 0.15


def test_alt_texts_are_read_without_their_boilerplate() -> None:
    docs = documents(
        frame(
            alt_texts=[
                "Image may contain: dog, grass\nNo photo description available.",
                "Photo by lea.v on May 1, 2024. May be an image of 1 person and shoes",
            ]
        )
    )
    first, second = docs["words"].to_list()
    assert "dog" in first and "grass" in first
    assert "image" not in first and "description" not in first
    assert "shoes" in second and "lea" not in second and "image" not in second
    # Accounts read before alt texts existed (no column) are read as before.
    assert (
        documents(frame(captions=["#ootd"]))["words"][0]
        == documents(frame(captions=["#ootd"], alt_texts=[""]))["words"][0]
    )


def test_the_model_reads_alt_texts() -> None:
    assert predict(
        alt_texts=[
            "Image may contain: dog, puppy, grass",
            "Image may contain: food",
        ],
        captions=["", ""],
    ) == ["pets", "food_drink"]


def test_training_hides_the_alt_texts_of_half_the_accounts_the_same_way_each_time() -> None:
    accounts = frame(alt_texts=[f"Image may contain: dog {i}" for i in range(400)])
    first = _drop_alt_texts(accounts, seed=0)["alt_texts"]
    hidden = (first == "").sum()
    assert abs(hidden - ALT_DROPOUT * 400) < 60
    assert first.equals(_drop_alt_texts(accounts, seed=0)["alt_texts"])
    assert not first.equals(_drop_alt_texts(accounts, seed=1)["alt_texts"])
    assert _drop_alt_texts(frame(captions=["x"]), seed=0).columns == frame(captions=["x"]).columns


def test_training_hides_the_account_numbers_of_another_half_of_the_accounts() -> None:
    accounts = frame(alt_texts=["Image may contain: dog"] * 400).with_columns(
        followers=pl.lit(1000.0), locations=pl.lit("Lyon"), post_types=pl.lit("image")
    )
    hidden = _drop_account_numbers(accounts, seed=0)
    gone = hidden["followers"].is_null()
    assert abs(gone.sum() - ACCOUNT_DROPOUT * 400) < 60
    assert gone.equals(hidden["locations"].is_null()) and gone.equals(
        hidden["post_types"].is_null()
    )
    assert hidden.equals(_drop_account_numbers(accounts, seed=0))
    # Drawn apart from the alt texts: the two hidden halves are not the same accounts.
    assert not gone.equals(_drop_alt_texts(accounts, seed=0)["alt_texts"] == "")
    assert _drop_account_numbers(frame(captions=["x"]), seed=0).equals(frame(captions=["x"]))


def test_the_baseline_and_weak_labels_follow_the_seeds() -> None:
    accounts = frame(captions=["#gaming #twitch #gamer", "#ootd", "nothing here"])
    features = featurise(accounts)
    assert list(keyword_baseline(features)) == ["gaming", "fashion", "other"]
    labels = np.array(["other", "other", "other"], dtype=object)
    assert list(weak_labels(features, labels)) == ["gaming", "other", "other"]


# -- the evaluation ----------------------------------------------------------------------------

CRAFTED = {
    "fashion": "new outfit #ootd #style {i}",
    "beauty": "my skincare and makeup routine #beauty {i}",
    "fitness": "gym workout done #fitness {i}",
    "food": "dinner recipe tonight #food #foodie {i}",
    "travel": "trip to the beach #travel {i}",
    "family": "our baby and the kids #momlife {i}",
    "interior": "living room decor #interiordesign {i}",
    "pet": "my dog and cat #dogsofinstagram {i}",
    "other": "hello everyone, good day {i}",
}


def write_dataset_lines(lines: list[dict], path: Path | None = None) -> Path:  # type: ignore[type-arg]
    import tempfile  # noqa: PLC0415

    path = path or Path(tempfile.mkdtemp()) / "accounts.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n", encoding="utf-8")
    return path


def test_the_data_set_gives_locations_post_types_and_account_numbers(tmp_path: Path) -> None:
    line = {
        "username": "sea_lu",
        "category": "travel",
        "followers": 2031,
        "following": "53",  # not a number: unknown
        "posts_count": 2520,
        "posts": [
            {"caption": "a", "type": "GraphSidecar", "location": "Olbia, Italy", "likes": 10},
            {"caption": "b", "type": "GraphImage", "location": None, "likes": 20, "comments": 3},
        ],
    }
    row = read_accounts(write_dataset_lines([line], tmp_path / "a.jsonl")).row(0, named=True)
    assert (row["locations"], row["post_types"]) == ("Olbia, Italy", "carousel image")
    assert (row["followers"], row["following"], row["posts_count"]) == (2031, None, 2520)
    assert (row["likes"], row["comments"]) == (15, 3)


def write_dataset(path: Path, per_label: int = 6) -> Path:
    lines = [
        json.dumps(
            {
                "username": f"{label}_{i}",
                "category": label,
                "posts": [
                    {
                        "caption": caption.format(i=i),
                        "accessibility_caption": None if i % 3 else "Image may contain: 1 person",
                    }
                ]
                + ([{"caption": "second post"}] if i % 2 else []),
            }
        )
        for label, caption in CRAFTED.items()
        for i in range(per_label)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_the_evaluation_reports_macro_f1_and_a_confusion_matrix(tmp_path: Path) -> None:
    accounts = read_accounts(write_dataset(tmp_path / "a.jsonl"))
    result = evaluate(accounts, folds=2)
    assert 0.5 < result.model.macro_f1 <= 1 and 0 <= result.baseline.macro_f1 <= 1
    assert set(result.model.per_niche_f1) == set(MEASURED)
    assert len(result.confusion) == len(LABELS) == 9
    assert sum(map(sum, result.confusion)) == accounts.height
    one_post = result.slices["one post"]["model"]
    assert one_post.accounts == accounts.filter(pl.col("posts") == 1).height
    methods = [
        "model",
        "previous model (sgd-4)",
        "keyword baseline",
        "zero-shot embeddings",
        "embeddings, linear",
        "hashed + embeddings",
    ]
    assert list(result.methods) == methods and result.model is result.methods["model"]
    described = result.slices["with alt texts"]["model"].accounts
    assert described + result.slices["without alt texts"]["model"].accounts == accounts.height
    assert 0 < described < accounts.height
    for changed in ("alt texts removed", "hashtags only"):
        assert list(result.slices[changed]) == methods
        assert result.slices[changed]["model"].accounts == accounts.height
    # Without their hashtags' words the crafted accounts are harder, not easier.
    assert result.slices["hashtags only"]["keyword baseline"].macro_f1 <= 1
    assert set(result.seconds) == set(methods)


def test_the_evaluation_can_leave_the_embeddings_out(tmp_path: Path) -> None:
    accounts = read_accounts(write_dataset(tmp_path / "a.jsonl", per_label=3))
    result = evaluate(accounts, folds=2, methods=hashed_methods())
    assert list(result.methods) == ["model", "previous model (sgd-4)", "keyword baseline"]
    assert list(result.slices["hashtags only"]) == list(result.methods)


def test_an_account_can_be_cut_to_its_first_post(tmp_path: Path) -> None:
    line = {
        "username": "two_posts",
        "category": "pet",
        "posts": [
            {"caption": "my dog #dogsofinstagram", "location": "Park", "likes": 10},
            {"caption": "my cat", "type": "GraphImage", "likes": 30, "comments": 2},
        ],
    }
    path = write_dataset_lines([line], tmp_path / "a.jsonl")
    accounts = read_accounts(path)
    whole = accounts.row(0, named=True)
    first = single_posts(accounts, first_only=True).row(0, named=True)
    both = "my dog #dogsofinstagram\nmy cat"
    assert (whole["posts"], whole["captions"], whole["likes"]) == (2, both, 20)
    assert (first["posts"], first["captions"], first["likes"]) == (1, "my dog #dogsofinstagram", 10)
    assert (first["locations"], first["post_types"], first["comments"]) == ("Park", "", None)


def test_each_post_can_be_an_account_of_its_own(tmp_path: Path) -> None:
    lines = [
        {
            "username": "two",
            "category": "pet",
            "followers": 500,
            "posts": [
                {"caption": "my dog", "accessibility_caption": "dog", "likes": 10},
                {"caption": "my cat", "location": "Lyon", "type": "GraphImage", "comments": 2},
            ],
        },
        {"username": "none", "category": "food", "posts": []},
        {"username": "one", "category": "food", "posts": [{"caption": "cake", "likes": 4}]},
    ]
    accounts = read_accounts(write_dataset_lines(lines, tmp_path / "a.jsonl"))
    singles = single_posts(accounts)
    assert singles.columns == accounts.columns
    rows = singles.select("handle", "captions", "alt_texts", "locations", "post_types", "likes")
    assert rows.rows() == [
        ("two", "my dog", "dog", "", "", 10.0),
        ("two", "my cat", "", "Lyon", "image", None),
        ("one", "cake", "", "", "", 4.0),
    ]
    assert singles["posts"].to_list() == [1, 1, 1] and singles["followers"][0] == 500
    assert singles["comments"].to_list() == [None, 2.0, None]
    firsts = single_posts(accounts, first_only=True)
    assert firsts["captions"].to_list() == ["my dog", "cake"]


def test_training_accounts_are_augmented_with_single_and_pooled_posts(tmp_path: Path) -> None:
    accounts = read_accounts(write_dataset(tmp_path / "a.jsonl"))
    several = accounts.filter(pl.col("posts") > 1).height
    pools = sum(n // POOL for n in accounts["label"].value_counts()["count"].to_list())
    grown = augmented(accounts, seed=0)
    assert "post_rows" not in grown.columns
    assert grown.height == accounts.height + 2 * several + pools
    assert grown.head(accounts.height).equals(accounts.drop("post_rows"))
    assert grown.filter(pl.col("captions") == "second post").height == several
    assert augmented(accounts, seed=0).equals(grown)  # the same for a seed
    bare = accounts.drop("post_rows")
    assert augmented(bare, seed=0).equals(bare)  # accounts without their posts: as they are


@settings(max_examples=60, deadline=None)
@given(
    labels=st.lists(st.sampled_from(["pets", "travel", "other"]), min_size=0, max_size=30),
    k=st.integers(1, 5),
    seed=st.integers(0, 3),
)
def test_pooled_accounts_join_k_accounts_of_one_label(labels: list[str], k: int, seed: int) -> None:
    accounts = pl.DataFrame(
        {
            "handle": [f"h{i}" for i in range(len(labels))],
            "captions": [f"c{i}" for i in range(len(labels))],
            "alt_texts": [f"a{i}" for i in range(len(labels))],
            "locations": [None if i % 2 else f"l{i}" for i in range(len(labels))],
            "post_types": ["image"] * len(labels),
            "followers": [float(i) for i in range(len(labels))],
            "label": labels,
            "posts": [1] * len(labels),
        },
        schema_overrides={"locations": pl.Utf8, "label": pl.Utf8},
    )
    out = pooled(accounts, k, seed)
    assert out.columns == accounts.columns
    used: list[int] = []
    for row in out.iter_rows(named=True):
        members = [int(c[1:]) for c in row["captions"].split("\n")]
        assert len(members) == k == row["posts"] and row["post_types"] == " ".join(["image"] * k)
        assert {labels[m] for m in members} == {row["label"]}
        assert row["alt_texts"] == "\n".join(f"a{m}" for m in members)
        assert row["locations"] == "\n".join("" if m % 2 else f"l{m}" for m in members)
        assert (row["handle"], row["followers"]) == (f"h{members[0]}", float(members[0]))
        used += members
    assert len(used) == len(set(used))  # no account in two pools
    for label in set(labels):
        assert out.filter(pl.col("label") == label).height == labels.count(label) // k
    with pytest.raises(InputError, match="k: 0"):
        pooled(accounts, 0, seed)


def test_the_posts_curve_scores_the_same_accounts_on_fewer_and_pooled_posts(
    tmp_path: Path,
) -> None:
    path = write_dataset(tmp_path / "a.jsonl")
    accounts = read_accounts(path)
    seen: list[pl.DataFrame] = []

    class Recording(Shipped):
        def predict(self, accounts: pl.DataFrame, vectors: np.ndarray) -> np.ndarray:
            seen.append(accounts)
            return super().predict(accounts, vectors)

    curve = posts_curve(accounts, folds=2, sizes=(1, 2, 3), method=Recording())
    two = accounts.filter(pl.col("posts") == 2).height
    assert 0 < two < accounts.height
    assert curve.both.accounts == curve.first_only.accounts == two
    # Each label's test accounts split over two folds of 3 (6 accounts per label, 9 labels).
    assert {k: s.accounts for k, s in curve.pooled.items()} == {1: 54, 2: 9 * 2, 3: 9 * 2}
    # The crafted first posts name their niche; the second post ("second post") says nothing.
    assert curve.first_only.macro_f1 > 0.5 and curve.pooled[3].macro_f1 > 0.5
    # Per fold: the test accounts, their two-post ones cut to the first post, three pool sizes.
    assert len(seen) == 2 * 5
    cut = pl.concat([seen[1], seen[6]])
    assert cut.height == two and cut["posts"].to_list() == [1] * two
    assert "second post" not in "".join(cut["captions"].to_list())


def test_non_english_is_told_roughly() -> None:
    texts = [
        "the best day with my friends",
        "receta de tarta casera muy rica hoy",
        "これは猫です",
        "",
    ]
    assert list(non_english(frame(captions=texts))) == [False, True, True, False]


@pytest.mark.parametrize(
    ("line", "where"),
    [
        ("{not json", "line 2: not JSON"),
        ('{"username": "x", "category": "cars", "posts": []}', "line 2, field category"),
        ('{"username": "x", "category": "pet", "posts": 3}', "line 2, field posts"),
    ],
)
def test_a_bad_data_set_line_is_named(tmp_path: Path, line: str, where: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"username": "a", "category": "pet", "posts": []}\n' + line + "\n")
    with pytest.raises(InputError, match=where):
        read_accounts(path)


# -- storing and correcting --------------------------------------------------------------------


def add_account(session, ws_id: int, handle: str, captions: list[str], bio: str = "") -> int:  # type: ignore[no-untyped-def]
    creator = Creator(workspace_id=ws_id, name=handle)
    session.add(creator)
    session.flush()
    account = Account(
        workspace_id=ws_id, creator_id=creator.id, platform="instagram", handle=handle, bio=bio
    )
    session.add(account)
    session.flush()
    for i, caption in enumerate(captions):
        add_post(session, ws_id, account.id, f"{handle}-{i}", caption)
    return account.id


def add_post(
    session, ws_id: int, account_id: int, key: str, caption: str, alt: str | None = None
) -> None:  # type: ignore[no-untyped-def]
    session.add(
        Post(
            workspace_id=ws_id,
            account_id=account_id,
            platform_post_id=key,
            caption=caption,
            hashtags=[],
            posted_at=dt.datetime(2026, 1, 1),
            alt_text=alt,
        )
    )
    session.flush()


@pytest.fixture
def two_workspaces(store):  # type: ignore[no-untyped-def]
    with store.transaction() as session:
        a = ensure_workspace(session, "niche-a").id
        b = ensure_workspace(session, "niche-b").id
        ids = {
            "gym": add_account(session, a, "gym_girl", ["Leg day #fitness #gym #workout"]),
            "chef": add_account(session, a, "chef_bo", ["Pasta night #foodie #recipe"]),
            "bare": add_account(session, a, "no_posts", [], bio=""),
            "other_ws": add_account(session, b, "trip_cy", ["Bali #travel #wanderlust"]),
        }
    return store, a, b, ids


def test_recompute_stores_top_niches_only_in_its_workspace(two_workspaces) -> None:  # type: ignore[no-untyped-def]
    store, a, b, ids = two_workspaces
    with store.transaction() as session:
        run = recompute_niches(session, a)
        assert (run.accounts, run.scored, run.unchanged) == (3, 3, 0)
        assert get_niches(session, a, ids["gym"]).niches[0].niche == "fitness"
        assert get_niches(session, a, ids["chef"]).niches[0].niche == "food_drink"
        assert get_niches(session, a, ids["bare"]).niches  # an account without text: a guess
        stored = session.query(AccountNiche).all()
        assert {r.workspace_id for r in stored} == {a}
        assert all(r.source == "model" and r.fingerprint for r in stored)
        with pytest.raises(NotFoundError):
            get_niches(session, a, ids["other_ws"])


def test_only_changed_accounts_are_recomputed(two_workspaces) -> None:  # type: ignore[no-untyped-def]
    store, a, _b, ids = two_workspaces
    with store.transaction() as session:
        recompute_niches(session, a)
    with store.transaction() as session:
        assert recompute_niches(session, a).scored == 0
        session.get(Account, ids["chef"]).followers = 12_345  # a follower count: an input
    with store.transaction() as session:
        assert recompute_niches(session, a).scored == 1
        session.get(Account, ids["chef"]).followers = 12_400  # the same power of two
    with store.transaction() as session:
        assert recompute_niches(session, a).scored == 0
        post = session.scalars(sa.select(Post).where(Post.account_id == ids["gym"])).first()
        post.location = "Gold's Gym Venice"
        post.likes, post.comments, post.post_type = 120, 4, "reel"  # averaged in the database
    with store.transaction() as session:
        assert recompute_niches(session, a).scored == 1
        post = session.scalars(sa.select(Post).where(Post.account_id == ids["gym"])).first()
        post.likes = 121  # the same power of two
    with store.transaction() as session:
        assert recompute_niches(session, a).scored == 0
        session.get(Account, ids["chef"]).bio = "pastry chef in Lyon"
    with store.transaction() as session:
        assert recompute_niches(session, a).scored == 1
        add_post(session, a, ids["bare"], "new-1", "Sunset in Lisbon #travel #wanderlust #trip")
    with store.transaction() as session:
        run = recompute_niches(session, a)
        assert (run.scored, run.unchanged) == (1, 2)
        assert get_niches(session, a, ids["bare"]).niches[0].niche == "travel"
        assert recompute_niches(session, a, everything=True).scored == 3


def test_a_new_reading_of_the_store_rescores_every_account_once(
    two_workspaces, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    store, a, _b, _ids = two_workspaces
    with store.transaction() as session:
        assert recompute_niches(session, a).scored == 3
        assert recompute_niches(session, a).scored == 0
    monkeypatch.setattr(niches, "READING", niches.READING + 1)
    with store.transaction() as session:
        assert recompute_niches(session, a).scored == 3
        assert recompute_niches(session, a).scored == 0


def test_alt_texts_are_read_and_a_new_one_rescores(two_workspaces) -> None:  # type: ignore[no-untyped-def]
    store, a, _b, ids = two_workspaces
    with store.transaction() as session:
        add_post(session, a, ids["bare"], "pic-1", "", alt="Image may contain: dog, puppy, grass")
        recompute_niches(session, a)
        assert get_niches(session, a, ids["bare"]).niches[0].niche == "pets"
    with store.transaction() as session:
        post = session.scalars(sa.select(Post).where(Post.platform_post_id == "pic-1")).one()
        post.alt_text = "Image may contain: cat, indoor"
    with store.transaction() as session:
        run = recompute_niches(session, a)
        assert (run.scored, run.unchanged) == (1, 2)


def test_a_hand_correction_survives_a_re_run(two_workspaces) -> None:  # type: ignore[no-untyped-def]
    store, a, _b, ids = two_workspaces
    with store.transaction() as session:
        recompute_niches(session, a)
        result = set_niches(session, a, ids["gym"], ["sports", "Health_Wellness "], by="ann@x.io")
        assert [n.niche for n in result.niches] == ["health_wellness", "sports"]
        assert result.corrected_by == "ann@x.io" and result.model[0].niche == "fitness"
    with store.transaction() as session:
        recompute_niches(session, a, everything=True)
        after = get_niches(session, a, ids["gym"])
        assert {n.niche for n in after.niches} == {"sports", "health_wellness"}
        assert {n.source for n in after.niches} == {"user"}
        assert after.model[0].niche == "fitness"
        cleared = set_niches(session, a, ids["gym"], [])
        assert cleared.niches[0].niche == "fitness" and cleared.corrected_by is None


@settings(max_examples=30, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(names=st.lists(st.text(max_size=30), min_size=1, max_size=4))
def test_a_wrong_correction_is_refused_and_changes_nothing(two_workspaces, names) -> None:  # type: ignore[no-untyped-def]
    store, a, b, ids = two_workspaces
    valid = {n.strip().lower() for n in names} <= set(NICHES) and len(
        {n.strip().lower() for n in names}
    ) <= TOP_K
    with store.transaction() as session:
        if valid:
            set_niches(session, a, ids["chef"], names)
            set_niches(session, a, ids["chef"], [])
            return
        with pytest.raises(InputError, match="niches"):
            set_niches(session, a, ids["chef"], names)
        assert get_niches(session, a, ids["chef"]).corrected_by is None


def test_another_workspaces_account_cannot_be_corrected(two_workspaces) -> None:  # type: ignore[no-untyped-def]
    store, a, _b, ids = two_workspaces
    with store.transaction() as session, pytest.raises(NotFoundError):
        set_niches(session, a, ids["other_ws"], ["travel"])


# -- the command line --------------------------------------------------------------------------


def test_the_cli_recomputes_shows_and_corrects(store_url: str, two_workspaces) -> None:  # type: ignore[no-untyped-def]
    runner = CliRunner()
    db = ["--database-url", store_url]
    first = runner.invoke(app, ["niches", "--workspace", "niche-a", *db])
    assert first.exit_code == 0, first.output
    assert "scored 3 of 3 accounts" in first.output
    again = runner.invoke(app, ["niches", "--workspace", "niche-a", *db])
    assert "scored 0 of 3 accounts (3 unchanged)" in again.output
    forced = runner.invoke(app, ["niches", "--workspace", "niche-a", "--all", *db])
    assert "scored 3 of 3" in forced.output
    fixed = runner.invoke(
        app, ["niches", "set", "instagram:chef_bo", "food_drink,travel", "-w", "niche-a", *db]
    )
    assert fixed.exit_code == 0, fixed.output
    shown = runner.invoke(
        app, ["niches", "show", "instagram:chef_bo", "-w", "niche-a", "--json", *db]
    )
    body = json.loads(shown.output)
    assert [n["niche"] for n in body["niches"]] == ["food_drink", "travel"]
    assert body["corrected_by"] == "cli"
    wrong = runner.invoke(
        app, ["niches", "set", "instagram:chef_bo", "cooking", "-w", "niche-a", *db]
    )
    assert wrong.exit_code == 1 and "'cooking' is not a niche" in wrong.output
    missing = runner.invoke(app, ["niches", "show", "instagram:trip_cy", "-w", "niche-a", *db])
    assert missing.exit_code == 1 and "no account instagram:trip_cy" in missing.output


def test_the_cli_evaluates_a_small_sample(tmp_path: Path) -> None:
    path = write_dataset(tmp_path / "a.jsonl")
    result = CliRunner().invoke(app, ["niches", "eval", str(path), "--folds", "2"])
    assert result.exit_code == 0, result.output
    assert "macro-F1" in result.output and "confusion" in result.output


def test_the_library_recomputes_shows_and_corrects(store_url: str, two_workspaces) -> None:  # type: ignore[no-untyped-def]
    from microfluence import open_workspace

    with open_workspace("niche-a", store_url, create=False) as ws:
        assert ws.recompute_niches().scored == 3
        assert ws.recompute_niches().scored == 0
        assert ws.niches("instagram:gym_girl").niches[0].niche == "fitness"
        fixed = ws.set_niches("instagram:gym_girl", ["sports"])
        assert [n.niche for n in fixed.niches] == ["sports"] and fixed.corrected_by == "library"
        assert ws.recompute_niches(everything=True).scored == 3
        assert ws.niches("instagram:gym_girl").niches[0].source == "user"


DEMO_NICHES = {
    "Fitness": "fitness",
    "Beauty": "beauty",
    "Food & Drink": "food_drink",
    "Travel": "travel",
    "Home & Garden": "home_interior",
    "Fashion": "fashion",
    "Parenting": "family_parenting",
    "Tech": "tech",
    "Gaming": "gaming",
    "Pets": "pets",
    "Wellness": "health_wellness",
}


def test_the_demo_build_gives_its_accounts_their_niches(sqlite_store) -> None:  # type: ignore[no-untyped-def]
    from microfluence.demo.load import build_demo
    from microfluence.demo.population import PopulationSpec

    spec = PopulationSpec(n_creators=40, seed=3, days=14, end=dt.date(2026, 2, 1))
    summary = build_demo(sqlite_store, spec, workspace="demo-n")
    assert summary.niches is not None and summary.niches.scored == summary.accounts
    with sqlite_store.session() as session:
        rows = session.execute(
            sa.select(Account.id, Account.category, AccountNiche.niche, AccountNiche.confidence)
            .join(AccountNiche, AccountNiche.account_id == Account.id)
            .where(AccountNiche.source == "model")
        ).all()
    stored = pl.DataFrame(rows, schema=["id", "category", "niche", "confidence"], orient="row")
    best = stored.sort("id", "confidence", descending=[False, True]).group_by("id").first()
    assert best.height == summary.accounts and best["category"].n_unique() >= 5
    expected = best["category"].replace_strict(DEMO_NICHES)
    assert (best["niche"] == expected).mean() >= 0.8


def test_the_profile_shows_niches_to_viewers_and_the_form_to_members(store_url: str) -> None:
    from fastapi.testclient import TestClient

    from api_support import make_tenant, make_user
    from microfluence.kernel.store import open_store
    from microfluence.web.app import create_app
    from pages_support import HTML, sign_in

    store = open_store(store_url)
    tenant = make_tenant(store, "niche-pages")
    make_user(store, "viewer@x.io", "niche-pages", "viewer")
    make_user(store, "member@x.io", "niche-pages", "member")
    with store.transaction() as session:
        recompute_niches(session, tenant.workspace_id)
    store.dispose()
    account, creator = tenant.account_ids[0], tenant.creator_ids[0]
    with TestClient(create_app(store_url)) as viewer, TestClient(create_app(store_url)) as member:
        csrf = sign_in(viewer, "viewer@x.io")
        page = viewer.get(f"/creators/{creator}", headers=HTML)
        assert page.status_code == 200 and f'id="niches-{account}"' in page.text
        assert "%</span>" in page.text and "Save niches" not in page.text
        refused = viewer.post(
            f"/accounts/{account}/niches",
            data={"csrf_token": csrf, "niches": ["pets"]},
            follow_redirects=False,
        )
        assert refused.status_code == 403
        csrf = sign_in(member, "member@x.io")
        assert "Save niches" in member.get(f"/creators/{creator}", headers=HTML).text
        wrong = member.post(
            f"/accounts/{account}/niches",
            data={"csrf_token": csrf, "niches": ["pets", "cooking"]},
            follow_redirects=False,
        )
        assert wrong.status_code == 422 and "cooking" in wrong.text
        fixed = member.post(
            f"/accounts/{account}/niches",
            data={"csrf_token": csrf, "niches": ["pets"]},
            follow_redirects=False,
        )
        assert fixed.status_code == 303
        shown = member.get(f"/creators/{creator}", headers=HTML).text
        assert "pets 100%" in shown and "corrected by member@x.io" in shown


def test_a_captions_own_hashtags_are_read_once_as_in_training(two_workspaces) -> None:  # type: ignore[no-untyped-def]
    # The importers store a caption's hashtags beside it; the model reads them from the caption
    # (the data set it learnt from lists none apart), so only those listed apart are added.
    store, a, _b, _ids = two_workspaces
    with store.transaction() as session:
        account_id = add_account(session, a, "tags_twice", [])
        for key, caption, tags in [
            ("p1", "Leg day #Fitness #gym #Fitness", ["fitness", "gym"]),
            ("p2", "new recipe", ["Vegan"]),
            ("p3", None, None),
        ]:
            session.add(
                Post(
                    workspace_id=a,
                    account_id=account_id,
                    platform_post_id=key,
                    caption=caption,
                    hashtags=tags,
                )
            )
    with store.transaction() as session:
        texts = account_texts(session, a, [account_id])
    assert texts["hashtags"][0].split() == ["vegan"]
    words = documents(texts)["words"][0].split()
    assert (words.count("t_fitness"), words.count("t_gym"), words.count("t_vegan")) == (2, 1, 1)


def test_hashtag_lists_are_read_with_any_letters(two_workspaces) -> None:  # type: ignore[no-untyped-def]
    store, a, _b, _ids = two_workspaces
    with store.transaction() as session:
        account_id = add_account(session, a, "tags_only", [])
        session.add(
            Post(
                workspace_id=a,
                account_id=account_id,
                platform_post_id="t-1",
                caption=None,
                hashtags=["recette", "pâtisserie", "gâteau", "foodie", "recipe"],
            )
        )
    with store.transaction() as session:
        recompute_niches(session, a)
        assert get_niches(session, a, account_id).niches[0].niche == "food_drink"

"""Cron expressions of schedules (jobs.cron): what they mean in words, when they fire next,
and the ones refused — checked against huey's own matcher, the one the workers fire with."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from microfluence.jobs.cron import check_cron, cron_values, describe_cron, next_run, parse_cron
from microfluence.kernel.errors import InputError

THURSDAY = dt.datetime(2026, 11, 26, 15, 30, 20)  # a Thursday afternoon


@pytest.mark.parametrize(
    ("cron", "words"),
    [
        ("0 3 * * *", "every day at 03:00 UTC"),
        ("*/15 * * * *", "every 15 minutes"),
        ("* * * * *", "every minute"),
        ("30 * * * *", "every hour at :30"),
        ("0 */6 * * *", "every 6 hours at :00"),
        ("30 6 * * 1-5", "Monday to Friday at 06:30 UTC"),
        ("0 9 * * 6,0", "on Saturdays and Sundays at 09:00 UTC"),
        ("0 9 * * 1,4", "on Mondays and Thursdays at 09:00 UTC"),
        ("0 8,12,18 * * *", "every day at 08:00, 12:00 and 18:00 UTC"),
        ("0 0 1 * *", "on day 1 of every month at 00:00 UTC"),
        ("0 0 1,15 * *", "on days 1 and 15 of every month at 00:00 UTC"),
        ("0 0 1 1,7 *", "on day 1 in January and July at 00:00 UTC"),
        # huey fires only when both the day of the month and the day of the week match.
        ("0 0 1 * 1", "on day 1 of every month if it is a Monday at 00:00 UTC"),
        ("*/10 * * * 1-5", "Monday to Friday every 10 minutes"),
        ("0 0 * * 7", "on Sundays at 00:00 UTC"),  # 7 is Sunday too
    ],
)
def test_simple_schedules_are_said_in_words(cron: str, words: str) -> None:
    assert describe_cron(cron) == words


@pytest.mark.parametrize("cron", ["5,10,20,40,50 3 * * *", "*/15 9-17 * * 1-5", "0 3 1-10 * *"])
def test_other_schedules_have_no_words(cron: str) -> None:
    assert describe_cron(cron) is None


@pytest.mark.parametrize(
    ("cron", "after", "expected"),
    [
        ("0 3 * * *", THURSDAY, dt.datetime(2026, 11, 27, 3, 0)),
        ("*/15 * * * *", THURSDAY, dt.datetime(2026, 11, 26, 15, 45)),
        ("30 15 * * *", dt.datetime(2026, 11, 26, 15, 30), dt.datetime(2026, 11, 27, 15, 30)),
        ("0 9 * * 1", THURSDAY, dt.datetime(2026, 11, 30, 9, 0)),
        ("0 0 29 2 *", THURSDAY, dt.datetime(2028, 2, 29, 0, 0)),
        ("0 0 29 2 1", THURSDAY, dt.datetime(2044, 2, 29, 0, 0)),  # a Monday 29 February
        ("0 0 31 12 *", dt.datetime(2026, 12, 31, 23, 59), dt.datetime(2027, 12, 31, 0, 0)),
    ],
)
def test_the_next_run(cron: str, after: dt.datetime, expected: dt.datetime) -> None:
    assert next_run(cron, after) == expected


def test_an_aware_time_is_read_as_utc() -> None:
    paris = dt.timezone(dt.timedelta(hours=1))
    assert next_run("0 3 * * *", THURSDAY.replace(tzinfo=paris)) == dt.datetime(2026, 11, 27, 3)


@pytest.mark.parametrize(
    ("cron", "words"),
    [
        ("0 0 31 2 *", "never fires"),
        ("0 0 30,31 2 *", "never fires"),
        ("0 0 31 4,6,9,11 *", "never fires"),
        ("0 25 * * *", "25"),
        ("1 2 3 4 5 6", "needs 5 fields"),
        ("0 " * 20 + "* * *", "needs 5 fields"),
        ("1," * 60 + "1 * * * *", "longer than 100"),
    ],
)
def test_refused_expressions_name_the_field(cron: str, words: str) -> None:
    with pytest.raises(InputError) as caught:
        check_cron(cron)
    assert caught.value.field == "cron" and words in caught.value.message


def test_accepted_expressions_are_tidied() -> None:
    assert check_cron("  0\t3 *  * * ") == "0 3 * * *"
    assert check_cron("0 0 31 1-3 *") == "0 0 31 1-3 *"  # some month has a 31st


CRON_PART = st.one_of(
    st.just("*"),
    st.integers(0, 31).map(str),
    st.builds(lambda a, b: f"{a}-{b}", st.integers(0, 31), st.integers(0, 31)),
    st.integers(1, 40).map(lambda n: f"*/{n}"),
    st.lists(st.integers(0, 31), min_size=2, max_size=4).map(lambda v: ",".join(map(str, v))),
)


@settings(max_examples=150, deadline=None, derandomize=True)
@given(parts=st.lists(CRON_PART, min_size=5, max_size=5), start=st.integers(0, 60 * 24 * 400))
def test_next_run_is_the_first_minute_huey_fires(parts: list[str], start: int) -> None:
    """Against huey's matcher minute by minute (bounded: two days past the answer)."""
    text = " ".join(parts)
    try:
        check_cron(text)
    except InputError:
        return
    matcher = parse_cron(text)
    after = dt.datetime(2026, 1, 1) + dt.timedelta(minutes=start)
    found = next_run(text, after)
    assert found is not None
    assert found > after and matcher(found)
    moment = after.replace(second=0) + dt.timedelta(minutes=1)
    earliest = max(moment, found - dt.timedelta(days=2))
    while earliest < found:  # no earlier minute fires (in the two days before it)
        assert not matcher(earliest), (text, earliest, found)
        earliest += dt.timedelta(minutes=1)
    values = cron_values(text)
    assert found.minute in values.minutes and found.hour in values.hours


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_any_text_has_words_or_none_and_a_clear_refusal(text: str) -> None:
    words = describe_cron(text)
    assert words is None or isinstance(words, str)
    try:
        check_cron(text)
    except InputError as exc:
        assert exc.field == "cron"

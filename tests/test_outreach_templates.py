"""The template sandbox against hostile input: known escapes and resource bombs are refused
as input errors, and whatever text hypothesis makes up either renders to a bounded string or
is refused as an input error — never another exception, never a hang."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from microfluence.kernel.errors import InputError
from microfluence.outreach.composing import with_footer
from microfluence.outreach.fields import offer_text
from microfluence.outreach.templates import (
    FIELDS,
    MAX_OUTPUT,
    check_template,
    fields_used,
    render,
    sample_fields,
)

ESCAPES = [
    "{{ ''.__class__.__mro__ }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ cycler.__init__.__globals__.os }}",
    "{{ joiner.__init__.__globals__ }}",
    "{{ lipsum.__globals__['os'] }}",
    "{{ self }}",
    "{{ self._TemplateReference__context }}",
    "{{ config }}",
    "{{ request }}",
    "{{ namespace() }}",
    "{{ dict(a=1) }}",
    "{% import 'os' as os %}",
    "{% from 'x' import y %}",
    "{% include 'etc/passwd' %}",
    "{% extends 'base' %}",
    "{{ name.upper() }}",
    "{{ name.__class__ }}",
    "{{ name['__class__'] }}",
    "{{ name|attr('__class__') }}",
    "{{ name|map('upper')|list }}",
    "{{ '%s'|format(name) }}",
    "{{ name|tojson }}",
    "{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}",
    "{% set x = name %}{{ x }}",
    "{% for i in range(10**9) %}x{% endfor %}",
    "{% for a in range(99) %}{% for b in range(99) %}{% for c in range(99) %}{% endfor %}"
    "{% endfor %}{% endfor %}",
    "{% for x in [1] recursive %}{{ loop(x) }}{% endfor %}",
    "{{ 'a' * 10**9 }}",
    "{{ [name] * 10**8 }}",
    "{{ 9**9**9 }}",
    "{{ name|center(10**9) }}",
    "{{ name|wordwrap(10**9) }}",
    "{{ name|replace('a', name * 200)|replace('a', name * 200) }}",
    "{{ loop }}",
    "{{ 1/0 }}",
    "{{ missing }}",
    "{% if %}",
]


@pytest.mark.parametrize("source", ESCAPES)
def test_escapes_and_bombs_are_refused_as_input_errors(source):
    with pytest.raises(InputError) as refused:
        check_template("Hello", source)
    assert refused.value.field == "body"
    with pytest.raises(InputError):
        check_template(source, "Hello")


def test_what_a_template_may_do():
    body = (
        "Hi {{ first_name|title }},\n"
        "{% if niche %}Your {{ niche }} posts{% else %}Your posts{% endif %} — {{ recent_post }}\n"
        "{% for word in ['a', 'b'] %}{{ loop.index }}{{ word }}{% endfor %}\n"
        "{{ name|upper }} {{ handle|default('none') }} {{ range(3)|list|length }}"
    )
    out = render(body, sample_fields())
    assert out.startswith("Hi Ana,\nYour beauty posts — https://instagram.com/p/abc")
    assert "1a2b" in out and out.endswith("ANA SOUSA ana.sousa 3")
    assert fields_used(body) == {"first_name", "niche", "recent_post", "name", "handle"}


def test_the_unsubscribe_link_is_placed_once():
    link = "https://x.example/u/t"
    assert with_footer(f"see {link}", link) == f"see {link}"
    assert (
        with_footer("Hello\n\n", link) == f"Hello\n\n--\nTo stop receiving these messages: {link}\n"
    )


def test_offer_text():
    assert offer_text(0, 0, 0, "EUR") == ""
    assert offer_text(250, 0, 0, "EUR") == "a fee of 250.00 EUR"
    assert offer_text(250, 80, "0.125", "USD") == (
        "a fee of 250.00 USD, gifted product worth 80.00 USD and 12.5% commission on sales"
    )


# Pieces of template syntax, field names and odd characters, strung together.
template_text = st.lists(
    st.sampled_from(
        [
            *"{}%#()[]|.'\"*_-+~ \n0123456789az",
            "{{",
            "}}",
            "{%",
            "%}",
            "for",
            "in",
            "if",
            "endfor",
            "endif",
            "range",
            "loop",
            "**",
            "__class__",
            "self",
            *FIELDS,
        ]
    ),
    max_size=40,
).map("".join)


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(template_text)
def test_any_text_renders_bounded_or_is_an_input_error(source):
    try:
        out = render(source, sample_fields())
    except InputError:
        return
    assert isinstance(out, str) and len(out) <= MAX_OUTPUT


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(FIELDS), st.text(max_size=300)))
def test_hostile_field_values_are_only_text(values):
    """Field values are data, never template code: braces in a caption stay braces."""
    body = "{{ name }}|{{ recent_post }}|{{ handle }}"
    filled = {**sample_fields(), **values}
    out = render(body, filled)
    assert out == f"{filled['name']}|{filled['recent_post']}|{filled['handle']}"

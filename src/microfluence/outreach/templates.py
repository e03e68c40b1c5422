"""The template engine of outreach messages: Jinja2's immutable sandbox, given a plain dict of
strings (:data:`FIELDS`) and nothing else.

A template reaches its fields and nothing beyond them:

* every name it reads must be a field (or a loop's own variable, ``loop`` and ``range``):
  ``{{ self }}``, ``{{ cycler }}``, ``{{ config }}`` are refused when the template is saved;
* no attribute access (``''.__class__``, ``name.upper()``) but ``loop.index`` and its kin;
  the sandbox refuses the rest when rendering too;
* no ``{% import %}``, ``{% include %}``, ``{% extends %}`` (there is no loader), macros, call
  blocks, ``{% set %}``, recursive loops, loops nested more than two deep;
* ``range`` takes at most :data:`MAX_RANGE` items, ``*`` and ``**`` are bounded, every filter's
  result and the whole output are capped at :data:`MAX_OUTPUT` characters.

Anything else that goes wrong while rendering (a missing field with ``StrictUndefined``, a
division by zero) is an :class:`~microfluence.kernel.errors.InputError` naming the field
(``subject`` or ``body``) and, where Jinja2 knows it, the line.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateError, TemplateSyntaxError, nodes
from jinja2.runtime import LoopContext
from jinja2.sandbox import ImmutableSandboxedEnvironment

from microfluence.kernel.errors import InputError

FIELDS = (
    "name",
    "first_name",
    "handle",
    "platform",
    "niche",
    "recent_post",
    "offer",
    "portal_link",
    "unsubscribe_link",
    "brand",
    "sender",
)
MAX_RANGE = 100
MAX_OUTPUT = 50_000
MAX_SOURCE = 20_000
MAX_LOOP_DEPTH = 2
LOOP_ATTRIBUTES = frozenset(
    {"index", "index0", "revindex", "revindex0", "first", "last", "length", "depth", "depth0"}
)
SAFE_FILTERS = (
    "capitalize",
    "center",
    "default",
    "d",
    "first",
    "join",
    "last",
    "length",
    "list",
    "lower",
    "replace",
    "reverse",
    "trim",
    "truncate",
    "title",
    "upper",
    "urlencode",
    "wordcount",
    "wordwrap",
)
FORBIDDEN = (
    (nodes.Import, "{% import %} is not allowed"),
    (nodes.FromImport, "{% from … import %} is not allowed"),
    (nodes.Include, "{% include %} is not allowed"),
    (nodes.Extends, "{% extends %} is not allowed"),
    (nodes.Macro, "macros are not allowed"),
    (nodes.CallBlock, "call blocks are not allowed"),
    (nodes.Assign, "{% set %} is not allowed"),
    (nodes.AssignBlock, "{% set %} is not allowed"),
    (nodes.Block, "blocks are not allowed"),
    (nodes.Scope, "scopes are not allowed"),
)


class _Budget:
    """What one rendering may still spend."""

    def __init__(self) -> None:
        self.output = 0


def _too_long(size: int) -> None:
    if size > MAX_OUTPUT:
        raise InputError(f"the message would be longer than {MAX_OUTPUT} characters")


def _limited_range(*args: int) -> range:
    numbers = range(*args)
    if len(numbers) > MAX_RANGE:
        raise InputError(f"range() gives at most {MAX_RANGE} numbers in a template")
    return numbers


def _capped(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(function)
    def capped(*args: Any, **kwargs: Any) -> Any:
        for value in list(args[1:]) + list(kwargs.values()):
            if isinstance(value, int) and abs(value) > MAX_OUTPUT:
                raise InputError(f"the {name} filter takes numbers up to {MAX_OUTPUT}")
        result = function(*args, **kwargs)
        if isinstance(result, str | list):
            _too_long(len(result))
        return result

    return capped


class _Sandbox(ImmutableSandboxedEnvironment):
    """The immutable sandbox, stricter: no attribute access but a loop's counters, bounded
    arithmetic, a short list of filters, and no globals but ``range``."""

    intercepted_binops = frozenset(["*", "**", "+"])

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        return isinstance(obj, LoopContext) and attr in LOOP_ATTRIBUTES

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**":
            if not all(isinstance(v, int | float) for v in (left, right)) or abs(right) > 64:
                raise InputError("** takes numbers with an exponent up to 64 in a template")
            if abs(left) > 1_000_000:
                raise InputError("** takes a base up to 1000000 in a template")
            return left**right
        if operator == "*":
            for seq, times in ((left, right), (right, left)):
                if isinstance(seq, str | list | tuple) and isinstance(times, int):
                    _too_long(len(seq) * max(times, 0))
        result = super().call_binop(context, operator, left, right)
        if isinstance(result, str | list | tuple):
            _too_long(len(result))
        return result


@functools.lru_cache(maxsize=1)
def environment() -> _Sandbox:
    env = _Sandbox(
        undefined=StrictUndefined,
        autoescape=False,
        loader=None,
        keep_trailing_newline=True,
    )
    env.globals.clear()
    env.globals["range"] = _limited_range
    env.filters = {name: _capped(name, env.filters[name]) for name in SAFE_FILTERS}
    return env


def _line(node: nodes.Node) -> int | None:
    return getattr(node, "lineno", None)


def _check_names(tree: nodes.Template, field: str) -> None:
    allowed = set(FIELDS) | {"range", "loop"}
    for loop in tree.find_all(nodes.For):
        allowed |= {n.name for n in loop.target.find_all(nodes.Name)}
        if isinstance(loop.target, nodes.Name):
            allowed.add(loop.target.name)
    for name in tree.find_all(nodes.Name):
        if name.ctx == "load" and name.name not in allowed:
            raise InputError(
                f"unknown field {name.name!r}: a template may use {', '.join(FIELDS)}",
                field=field,
                line=_line(name),
            )
    for attr in tree.find_all(nodes.Getattr):
        target = attr.node
        if not (isinstance(target, nodes.Name) and target.name == "loop"):
            raise InputError(
                f"attribute access (.{attr.attr}) is not allowed in a template",
                field=field,
                line=_line(attr),
            )


def _loop_depth(node: nodes.Node, depth: int, field: str) -> None:
    for child in node.iter_child_nodes():
        inner = depth
        if isinstance(child, nodes.For):
            inner = depth + 1
            if child.recursive:
                raise InputError("recursive loops are not allowed", field=field, line=_line(child))
            if inner > MAX_LOOP_DEPTH:
                raise InputError(
                    f"loops nest at most {MAX_LOOP_DEPTH} deep in a template",
                    field=field,
                    line=_line(child),
                )
        _loop_depth(child, inner, field)


def parse(source: str, field: str = "body") -> nodes.Template:
    """The template's syntax tree, once it passes every rule above; InputError otherwise."""
    if not isinstance(source, str):
        raise InputError("a template is text", field=field)
    if len(source) > MAX_SOURCE:
        raise InputError(f"a template is at most {MAX_SOURCE} characters", field=field)
    try:
        tree = environment().parse(source)
    except TemplateSyntaxError as exc:
        raise InputError(f"syntax error: {exc.message}", field=field, line=exc.lineno) from None
    for kind, message in FORBIDDEN:
        found = next(iter(tree.find_all(kind)), None)
        if found is not None:
            raise InputError(message, field=field, line=_line(found))
    _check_names(tree, field)
    _loop_depth(tree, 0, field)
    return tree


@functools.lru_cache(maxsize=256)
def fields_used(source: str, field: str = "body") -> frozenset[str]:
    """The fields a template reads."""
    tree = parse(source, field)
    return frozenset(n.name for n in tree.find_all(nodes.Name) if n.name in FIELDS)


def _collect(chunks: Iterable[str]) -> str:
    out: list[str] = []
    size = 0
    for chunk in chunks:
        size += len(chunk)
        _too_long(size)
        out.append(chunk)
    return "".join(out)


@functools.lru_cache(maxsize=256)
def _compiled(source: str, field: str) -> Template:
    """The template checked and compiled once (a send renders one template many times)."""
    parse(source, field)
    try:
        return environment().from_string(source)
    except TemplateError as exc:
        line = getattr(exc, "lineno", None)
        raise InputError(f"cannot compile: {exc.message}", field=field, line=line) from None


def render(source: str, values: Mapping[str, str], field: str = "body") -> str:
    """Render ``source`` with ``values`` (strings only; one per field the template uses)."""
    template = _compiled(source, field)
    context = {key: str(value) for key, value in values.items() if key in FIELDS}
    try:
        return _collect(template.generate(context))
    except InputError as exc:
        raise InputError(exc.message, field=field) from None
    except TemplateError as exc:
        line = getattr(exc, "lineno", None)
        raise InputError(f"cannot render: {exc.message}", field=field, line=line) from None
    except (ArithmeticError, TypeError, ValueError, RecursionError, MemoryError) as exc:
        raise InputError(f"cannot render: {type(exc).__name__}: {exc}"[:300], field=field) from None


def sample_fields() -> dict[str, str]:
    """Values shaped like real ones, to check a template renders before it is saved."""
    return {
        "name": "Ana Sousa",
        "first_name": "Ana",
        "handle": "ana.sousa",
        "platform": "instagram",
        "niche": "beauty",
        "recent_post": "https://instagram.com/p/abc — “my morning routine”",
        "offer": "a fee of 250.00 USD",
        "portal_link": "https://example.com/portal/sample",
        "unsubscribe_link": "https://example.com/u/sample",
        "brand": "Acme",
        "sender": "Sam at Acme",
    }


def check_template(subject: str, body: str) -> tuple[str, str]:
    """Both parts, checked: parsed under the rules and rendered once with sample fields."""
    subject = (subject or "").strip()
    if not subject:
        raise InputError("a template needs a subject", field="subject")
    if len(subject) > 300:
        raise InputError("a subject is at most 300 characters", field="subject")
    if not (body or "").strip():
        raise InputError("a template needs a body", field="body")
    render(subject, sample_fields(), "subject")
    render(body, sample_fields(), "body")
    return subject, body

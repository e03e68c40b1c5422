"""The docs say only what is true: commands, flags, API paths and links are checked here.

* every ``microfluence …`` invocation in a shell block or in inline code of README.md,
  CONTRIBUTING.md and docs/*.md names sub-commands and flags that exist in the Typer tree;
* every ``/api/v1/…`` path in those files is a path of the app's OpenAPI schema, and every
  method and path of the schema is documented in docs/api.md as ``METHOD /api/v1/…``;
* every relative link, and every ``docs/…``, ``src/…``, ``tests/…`` path they name, exists — and
  so does every ``docs/…`` page the templates and the source point readers to.

A route or a command added without its documentation fails here, naming the file and line.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import typer

from microfluence.cli.main import app as cli_app
from microfluence.kernel.store import Store
from microfluence.web.app import create_app

ROOT = Path(__file__).resolve().parents[1]
SHELL_LANGUAGES = {"", "sh", "bash", "shell", "console", "zsh"}
HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")


def markdown_files() -> list[Path]:
    return [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").glob("*.md"))]


def _where(path: Path, line: int) -> str:
    return f"{path.relative_to(ROOT)}:{line}"


# -- reading markdown -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Code:
    """A piece of code in a markdown file: a fenced block's line or an inline code span."""

    text: str
    file: Path
    line: int
    language: str  # the fenced block's info string; "inline" for inline code


_FENCE = re.compile(r"^\s*(```+|~~~+)\s*([\w+-]*)")


def code_in(path: Path) -> Iterator[Code]:
    """Fenced blocks line by line (continuations joined), then the inline code of the prose."""
    lines = path.read_text(encoding="utf-8").splitlines()
    fence: str | None = None
    language = ""
    prose: list[tuple[int, str]] = []
    block: list[tuple[int, str]] = []
    for number, line in enumerate(lines, start=1):
        match = _FENCE.match(line)
        if fence is None and match:
            fence, language, block = match.group(1), match.group(2).lower(), []
            prose.append((number, ""))
        elif fence is not None and line.strip().startswith(fence):
            yield from _block_lines(block, path, language)
            fence = None
            prose.append((number, ""))
        elif fence is not None:
            block.append((number, line))
        else:
            prose.append((number, line))
    yield from _inline_code(prose, path)


def _block_lines(block: list[tuple[int, str]], path: Path, language: str) -> Iterator[Code]:
    """One Code per logical line: a trailing backslash, or a next line that is only more
    indented options (``    [--flag X]``), continues the line."""
    logical: list[tuple[int, str]] = []
    for number, line in block:
        stripped = line.strip()
        continues = logical and (
            logical[-1][1].endswith("\\")
            or (line[:1].isspace() and stripped.startswith(("[-", "--")))
        )
        if continues:
            start, text = logical[-1]
            logical[-1] = (start, text.removesuffix("\\") + " " + stripped)
        else:
            logical.append((number, line))
    for number, text in logical:
        yield Code(text, path, number, language)


def _inline_code(prose: list[tuple[int, str]], path: Path) -> Iterator[Code]:
    """Inline code spans; a span may wrap onto the next line, never across a blank one."""
    paragraph: list[tuple[int, str]] = []
    for number, line in [*prose, (0, "")]:
        if line.strip():
            paragraph.append((number, line))
            continue
        if paragraph:
            text = " ".join(text for _, text in paragraph)
            starts = [0]
            for _, part in paragraph:
                starts.append(starts[-1] + len(part) + 1)
            for match in re.finditer(r"(?<!`)`([^`]+)`(?!`)", text):
                index = next(i for i, s in enumerate(starts) if s > match.start()) - 1
                span = match.group(1).replace("\\|", "|")
                yield Code(span, path, paragraph[index][0], "inline")
        paragraph = []


# -- the command line -----------------------------------------------------------------------------
_INVOCATION = re.compile(r"(?<![\w./@:-])microfluence(?=\s+[\w\[-])")
_NOT_A_COMMAND = ("import", "from", "install", "-m")  # python's and pip's "microfluence"
_STOP = {"|", "||", "&&", ";", ">", ">>", "2>", "<", "&"}


@dataclass(frozen=True)
class Invocation:
    words: list[str]
    where: str

    def __str__(self) -> str:
        return f"{self.where}: microfluence {' '.join(self.words)}"


def invocations() -> list[Invocation]:
    found = []
    for path in markdown_files():
        for code in code_in(path):
            if code.language not in SHELL_LANGUAGES | {"inline"}:
                continue
            text = code.text
            if code.language != "inline":  # a shell comment is prose
                text = re.split(r"(?:^|\s)#", text, maxsplit=1)[0]
            for match in _INVOCATION.finditer(text):
                before = text[: match.start()].split()
                if before and before[-1] in _NOT_A_COMMAND:
                    continue
                words = _words(text[match.end() :])
                found.append(Invocation(words, _where(code.file, code.line)))
    return found


def _words(text: str) -> list[str]:
    """The arguments up to the end of the command (a pipe, a redirection, a comment, `)`)."""
    try:
        tokens = shlex.split(text, comments=True)
    except ValueError:  # an unbalanced quote in an example: plain words will do
        tokens = text.split()
    words = []
    for token in tokens:
        if token in _STOP or token.startswith("#"):
            break
        ended = token.endswith((")", ";"))
        word = token.rstrip(");").strip("[]")
        if word and word not in ("...", "…"):
            words.append(word)
        if ended:
            break
    return words


# Typer builds click commands (its own copy of click in recent versions, so the objects are
# read by their attributes, not checked against click's classes).
@cache
def root_command() -> Any:
    return typer.main.get_command(cli_app)


def _is_group(command: Any) -> bool:
    return hasattr(command, "list_commands")


def _options(command: Any) -> dict[str, Any]:
    options = {}
    for param in command.params:
        if getattr(param, "param_type_name", None) == "option":
            for name in (*param.opts, *param.secondary_opts):
                options[name] = param
    return options


def check_invocation(words: list[str]) -> str | None:
    """None when the words name existing sub-commands and flags, else what does not exist."""
    command = root_command()
    path = ["microfluence"]
    skip_value = False
    for word in words:
        if skip_value:
            skip_value = False
            continue
        if word.startswith("-") and len(word) > 1 and not word[1:2].isdigit():
            name = word.split("=", 1)[0]
            if name == "--help":
                continue
            option = _options(command).get(name)
            if option is None:
                return f"`{' '.join(path)}` has no option {name}"
            skip_value = not (option.is_flag or option.count) and "=" not in word
        elif _is_group(command):
            context = command.context_class(command)
            choices = [command.get_command(context, part) for part in word.split("|")]
            if any(choice is None for choice in choices):
                known = ", ".join(command.list_commands(context))
                return f"`{' '.join(path)}` has no sub-command {word!r} (it has: {known})"
            command = choices[-1]
            path.append(word)
        # else: an argument of a leaf command (a path, a handle, a placeholder)
    return None


def test_docs_show_commands_at_all() -> None:
    """The extraction works: the README's tour and the docs' command lines are found."""
    found = {" ".join(i.words[:2]) for i in invocations()}
    assert {"import creators", "score --workspace", "serve --port"} <= found


def test_every_documented_command_and_flag_exists() -> None:
    problems = []
    for invocation in invocations():
        problem = check_invocation(invocation.words)
        if problem:
            problems.append(f"{invocation}\n    {problem}")
    assert not problems, "commands in the docs that do not exist:\n" + "\n".join(problems)


@pytest.mark.parametrize(
    "words",
    [
        ["--database-url", "sqlite:///x.sqlite", "score"],  # a global option that is not
        ["import", "tables", "x.csv"],
        ["score", "--no-such-flag"],
        ["eval", "authenticity|nonsense"],
    ],
)
def test_the_command_check_finds_what_does_not_exist(words: list[str]) -> None:
    assert check_invocation(words) is not None


def test_the_command_check_accepts_real_commands() -> None:
    for words in (
        ["--version"],
        ["import", "creators", "x.csv", "-p", "tiktok", "--map", "handle=Kanal"],
        ["eval", "authenticity|vetting"],
        ["export", "creators|posts", "--format=csv"],
        ["score", "--workspace", "demo", "--database-url", "sqlite:///demo.sqlite"],
    ):
        assert check_invocation(words) is None, words


# -- the REST API ---------------------------------------------------------------------------------
_API_PATH = re.compile(r"/api/v1/[\w{][^\s`'\"<>()\[\]?#|]*")
_API_ROUTE = re.compile(rf"\b({'|'.join(HTTP_METHODS)})\s+`?(/api/v1/[^\s`'\"<>()\[\]?#|]*)")


def _tidy(path: str) -> str:
    return path.rstrip(".,;:").rstrip("/")


def _normal(path: str) -> str:
    """Parameters by position, whatever their names: /accounts/{id} is /accounts/{account_id}."""
    return re.sub(r"\{[^}/]*\}", "{}", _tidy(path))


def _matches(documented: str, pattern: str) -> bool:
    """A documented path (with {params} or example values) against a schema path."""
    doc, schema = _tidy(documented).split("/"), pattern.split("/")
    return len(doc) == len(schema) and all(
        d == s or (s.startswith("{") and s.endswith("}") and bool(d))
        for d, s in zip(doc, schema, strict=True)
    )


@pytest.fixture
def schema_routes(sqlite_store: Store) -> set[tuple[str, str]]:
    schema = create_app(sqlite_store.url).openapi()
    return {
        (method.upper(), path)
        for path, operations in schema["paths"].items()
        for method in operations
        if method.upper() in HTTP_METHODS
    }


def test_every_api_path_in_the_docs_exists(schema_routes: set[tuple[str, str]]) -> None:
    paths = {path for _, path in schema_routes}
    assert any(p.startswith("/api/v1/") for p in paths)
    problems = []
    for file in markdown_files():
        text = file.read_text(encoding="utf-8")
        for match in _API_PATH.finditer(text):
            if not any(_matches(match.group(), p) for p in paths):
                line = text.count("\n", 0, match.start()) + 1
                problems.append(f"{_where(file, line)}: {match.group()}")
        for match in _API_ROUTE.finditer(text):
            method, path = match.groups()
            if not any(m == method and _matches(path, p) for m, p in schema_routes):
                line = text.count("\n", 0, match.start()) + 1
                problems.append(f"{_where(file, line)}: {method} {path} (no such method)")
    assert not problems, "API paths in the docs that the app does not have:\n" + "\n".join(problems)


def test_every_api_route_is_documented_in_api_md(schema_routes: set[tuple[str, str]]) -> None:
    text = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    documented = {(m, _normal(p)) for m, p in _API_ROUTE.findall(text)}
    missing = sorted(
        f"{method} {path}"
        for method, path in schema_routes
        if path.startswith("/api/") and (method, _normal(path)) not in documented
    )
    assert not missing, "routes missing from docs/api.md (write them as `METHOD /api/v1/…`):\n" + (
        "\n".join(missing)
    )


def test_the_path_matching_is_strict() -> None:
    assert _matches("/api/v1/imports/9f1c…", "/api/v1/imports/{job_id}")
    assert _matches("/api/v1/accounts/{id}/vetting.", "/api/v1/accounts/{account_id}/vetting")
    assert not _matches("/api/v1/accounts/{id}/vetting", "/api/v1/accounts/{account_id}")
    assert not _matches("/api/v1/creator", "/api/v1/creators")
    assert _normal("/api/v1/accounts/{id}/posts") == _normal("/api/v1/accounts/{account_id}/posts")


# -- links and file names -------------------------------------------------------------------------
_LINK = re.compile(r"\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)|(?:src|href)=\"([^\"]+)\"")
_REPO_PATH = re.compile(r"(?<![\w./~-])((?:docs|src|tests|bench|scripts)/[\w./-]*\w)(?![\w*{<])")
_DOCS_PAGE = re.compile(r"(?<![\w./-])(docs/[\w./-]*\.md)\b")


def broken_links(file: Path, text: str) -> list[str]:
    """Relative links (markdown or HTML) and repository paths in ``text`` that do not exist."""
    problems = []
    for match in _LINK.finditer(text):
        target = (match.group(1) or match.group(2)).split("#", 1)[0]
        if not target or re.match(r"^[a-z][a-z+.-]*:", target):
            continue  # an anchor on the same page, or http:, https:, mailto:
        if not (file.parent / target).exists():
            line = text.count("\n", 0, match.start()) + 1
            problems.append(f"{file.name}:{line}: link to {target}")
    for match in _REPO_PATH.finditer(text):
        if not (ROOT / match.group(1)).exists():
            line = text.count("\n", 0, match.start()) + 1
            problems.append(f"{file.name}:{line}: {match.group(1)}")
    return problems


def test_relative_links_and_named_files_exist() -> None:
    problems = []
    for file in markdown_files():
        problems += broken_links(file, file.read_text(encoding="utf-8"))
    assert not problems, "links and paths to files that do not exist:\n" + "\n".join(problems)


def test_the_link_check_finds_broken_ones() -> None:
    readme = ROOT / "README.md"
    text = (
        "[ok](docs/api.md#errors) [web](https://example.org) [here](#layout)\n"
        '[gone](docs/ingest.md) <img src="docs/screenshots/none.png">\n'
        "see `tests/test_nothing.py` and src/microfluence/kernel/config.py\n"
    )
    assert broken_links(readme, text) == [
        "README.md:2: link to docs/ingest.md",
        "README.md:2: link to docs/screenshots/none.png",
        "README.md:2: docs/ingest.md",
        "README.md:2: docs/screenshots/none.png",
        "README.md:3: tests/test_nothing.py",
    ]


def test_pages_and_source_point_to_docs_that_exist() -> None:
    """Templates and help texts send readers to docs/…: those pages must exist."""
    sources = sorted((ROOT / "src").rglob("*.html")) + sorted((ROOT / "src").rglob("*.py"))
    problems = []
    for file in sources:
        text = file.read_text(encoding="utf-8")
        for match in _DOCS_PAGE.finditer(text):
            if not (ROOT / match.group(1)).exists():
                line = text.count("\n", 0, match.start()) + 1
                problems.append(f"{_where(file, line)}: {match.group(1)}")
    assert not problems, "docs pages that do not exist:\n" + "\n".join(problems)


def test_the_readme_layout_names_every_package() -> None:
    """README.md's layout block keeps up with src/: each package, sub-package and top module."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"## Layout\n+```\n(.*?)```", readme, re.DOTALL)
    assert block, "README.md has no layout block"
    layout = block.group(1)
    package = ROOT / "src" / "microfluence"
    missing = []
    for path in sorted(package.iterdir()):
        if (path / "__init__.py").exists():
            if not re.search(rf"^\s+{path.name}/", layout, re.MULTILINE):
                missing.append(f"{path.name}/")
            for sub in sorted(path.iterdir()):
                if (sub / "__init__.py").exists() and not re.search(rf"\b{sub.name}\b", layout):
                    missing.append(f"{path.name}/{sub.name}/")
        elif path.suffix == ".py" and not path.name.startswith("__main__"):
            if path.name not in layout:
                missing.append(path.name)
    assert not missing, "README.md's layout does not mention: " + ", ".join(missing)

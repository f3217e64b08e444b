"""The README and the pages in docs/, held to the tree they describe.

A moved page, a renamed heading or a removed make target leaves a link or a command that only
fails when a reader follows it; these tests make it fail here instead. Links are checked the way
GitHub renders them (relative to the page, fragments against GitHub's heading slugs), and make
targets against the rules the Makefile defines, variables such as $(EXPERIMENTS) expanded.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote

import pytest

from .conftest import ROOT

FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
CODE_SPAN = re.compile(r"(?<!`)(`+)(?!`)(.+?)(?<!`)\1(?!`)", re.DOTALL)
INLINE_LINK = re.compile(
    # Link text may hold one pair of brackets of its own, as "[see [1]](x)" does.
    r"!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]"
    r"\(\s*(<[^>]*>|[^\s)]+)(?:\s+\"[^\"]*\")?\s*\)"
)
REFERENCE_LINK = re.compile(r"^ {0,3}\[[^\]]+\]:\s*(<[^>]*>|\S+)", re.MULTILINE)
ATX_HEADING = re.compile(r"^ {0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$")
SETEXT_UNDERLINE = re.compile(r"^ {0,3}(=+|-+)\s*$")
HTML_ANCHOR = re.compile(r"<a\s[^>]*(?:name|id)=\"([^\"]+)\"", re.IGNORECASE)
SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:|^//")
TARGET_WORD = re.compile(r"^[A-Za-z0-9][\w.\-/]*$")
ASSIGNMENT = re.compile(
    r"^(?:(?:export|override)\s+)?(?P<name>[A-Za-z_][\w.]*)\s*(?P<op>::=|:=|\?=|\+=|!=|=)\s*"
    r"(?P<value>.*)$"
)
RULE = re.compile(r"^(?P<targets>[^:=#\s][^:=#]*?)\s*::?(?!=)")
VARIABLE = re.compile(r"\$[({]([A-Za-z_][\w.]*)[)}]")
SHELL_SEPARATORS = {";", "&&", "||", "|", "&"}


def _pages(root: Path) -> list[Path]:
    return [root / "README.md", *sorted((root / "docs").glob("*.md"))]


def _split_fences(text: str) -> tuple[str, list[tuple[int, str]]]:
    """The page with fenced code blanked out (line numbers kept), and each block's lines."""
    prose: list[str] = []
    blocks: list[tuple[int, str]] = []
    fence: str | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        opening = FENCE.match(line)
        if fence is None and opening:
            fence = opening.group(1)
            prose.append("")
        elif fence is not None:
            if line.strip().startswith(fence[0] * len(fence)) and not line.strip().strip(fence[0]):
                fence = None
            else:
                blocks.append((number, line))
            prose.append("")
        else:
            prose.append(line)
    return "\n".join(prose), blocks


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def _code_spans(prose: str) -> Iterator[tuple[int, str]]:
    for match in CODE_SPAN.finditer(prose):
        yield _line_of(prose, match.start()), match.group(2).replace("\n", " ")


def _without_code_spans(prose: str) -> str:
    # Newlines stay so that a link's line number still points at the page's own line.
    return CODE_SPAN.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), prose)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: its text, lowercased, punctuation dropped, spaces to -."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)
    text = re.sub(r"<[^>]+>", "", text).replace("`", "").replace("*", "")
    text = "".join(ch for ch in text.lower() if ch.isalnum() or ch in " -_")
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    prose, _ = _split_fences(page.read_text(encoding="utf-8"))
    found: set[str] = set()
    counts: dict[str, int] = {}
    lines = prose.splitlines()
    for index, line in enumerate(lines):
        heading = ATX_HEADING.match(line)
        text = heading.group(1) if heading else None
        underline = index + 1 < len(lines) and SETEXT_UNDERLINE.match(lines[index + 1])
        if text is None and underline and line.strip() and not line.lstrip().startswith("|"):
            text = line.strip()
        if text is None:
            continue
        base = slug(text)
        # GitHub numbers repeated headings: the second "Notes" is #notes-1.
        seen = counts.get(base, 0)
        counts[base] = seen + 1
        found.add(base if seen == 0 else f"{base}-{seen}")
    found.update(HTML_ANCHOR.findall(prose))
    return found


def link_problems(pages: list[Path], root: Path) -> list[str]:
    problems: list[str] = []
    root = root.resolve()
    for page in pages:
        prose, _ = _split_fences(page.read_text(encoding="utf-8"))
        text = _without_code_spans(prose)
        matches = [*INLINE_LINK.finditer(text), *REFERENCE_LINK.finditer(text)]
        for match in sorted(matches, key=lambda m: m.start()):
            link = match.group(1).strip("<>")
            if SCHEME.match(link):
                continue
            where = f"{page.relative_to(root)}:{_line_of(text, match.start())}: ({link})"
            path_part, _, fragment = link.partition("#")
            target = (page.parent / unquote(path_part)).resolve() if path_part else page
            if not target.is_relative_to(root):
                problems.append(f"{where} points outside the repository")
            elif not target.exists():
                problems.append(f"{where} no such file: {target.relative_to(root)}")
            elif fragment and target.suffix == ".md" and unquote(fragment) not in anchors(target):
                problems.append(f"{where} no heading #{fragment} in {target.relative_to(root)}")
    return problems


def makefile_targets(makefile: Path) -> set[str]:
    """Every target a rule of the Makefile names, with $(VAR) and ${VAR} expanded."""
    joined = re.sub(r"\\\n", " ", makefile.read_text(encoding="utf-8"))
    variables: dict[str, str] = {}
    rule_heads: list[str] = []
    in_define = False
    for line in joined.splitlines():
        word = line.strip().split(" ", 1)[0]
        if in_define:
            in_define = word != "endef"
            continue
        # Recipes, comments and conditionals are not rules, though a recipe line may hold ':'.
        if line.startswith("\t") or word.startswith("#") or not word:
            continue
        if word in {"define", "ifeq", "ifneq", "ifdef", "ifndef", "else", "endif", "include"}:
            in_define = word == "define"
            continue
        assigned = ASSIGNMENT.match(line)
        if assigned:
            name, value = assigned["name"], assigned["value"].strip()
            appended = assigned["op"] == "+="
            variables[name] = f"{variables.get(name, '')} {value}" if appended else value
            continue
        rule = RULE.match(line)
        if rule:
            rule_heads.append(rule["targets"])

    def expand(text: str, depth: int = 0) -> str:
        if depth > 20:
            return text
        return VARIABLE.sub(lambda m: expand(variables.get(m.group(1), ""), depth + 1), text)

    targets = {name for head in rule_heads for name in expand(head).split()}
    # .PHONY and its kin are directives; a target listed only there has no rule to run.
    return {name for name in targets if not re.fullmatch(r"\.[A-Z_]+", name)}


def make_commands(code: str) -> Iterator[list[str]]:
    """The targets of every `make` command in a line of shell, comments left out."""
    try:
        words = shlex.split(code, comments=True)
    except ValueError:
        words = code.split("#", 1)[0].split()
    for index, word in enumerate(words):
        if word != "make":
            continue
        targets: list[str] = []
        for arg in words[index + 1 :]:
            if arg in SHELL_SEPARATORS or arg == "make":
                break
            if arg.startswith("-") or "=" in arg:
                continue
            if not TARGET_WORD.match(arg):
                break
            targets.append(arg)
        yield targets


def named_make_targets(page: Path) -> Iterator[tuple[int, str]]:
    prose, blocks = _split_fences(page.read_text(encoding="utf-8"))
    for number, code in [*_code_spans(prose), *blocks]:
        for targets in make_commands(code):
            for target in targets:
                yield number, target


def make_target_problems(pages: list[Path], makefile: Path) -> list[str]:
    defined = makefile_targets(makefile)
    root = makefile.parent.resolve()
    return [
        f"{page.resolve().relative_to(root)}:{number}: make {target}: no such target in Makefile"
        for page in pages
        for number, target in sorted(named_make_targets(page))
        if target not in defined
    ]


def test_relative_links_resolve() -> None:
    problems = link_problems(_pages(ROOT), ROOT)
    assert not problems, "broken links:\n" + "\n".join(problems)


def test_make_targets_exist() -> None:
    problems = make_target_problems(_pages(ROOT), ROOT / "Makefile")
    assert not problems, "make targets the Makefile does not define:\n" + "\n".join(problems)


def test_readme_keeps_the_test_command() -> None:
    # CI runs the test command the README gives; it must stay a plain `make test` line.
    _, blocks = _split_fences((ROOT / "README.md").read_text(encoding="utf-8"))
    assert any(targets == ["test"] for _, code in blocks for targets in make_commands(code))


def test_makefile_targets_expand_variables() -> None:
    defined = makefile_targets(ROOT / "Makefile")
    assert {"setup", "demo", "test", "verify", "experiments"} <= defined
    assert {f"e{n}" for n in range(6)} <= defined
    assert ".PHONY" not in defined


@pytest.mark.parametrize(
    ("heading", "anchor"),
    [
        ("The LLM judge (Ollama)", "the-llm-judge-ollama"),
        ("1. `make verify` on any laptop (minutes)", "1-make-verify-on-any-laptop-minutes"),
        ("E2's adversarial draft", "e2s-adversarial-draft"),
        ("Raw outputs (`runs/`)", "raw-outputs-runs"),
        ("Reports, and how the verdict is reached", "reports-and-how-the-verdict-is-reached"),
        ("a - b", "a---b"),
    ],
)
def test_slug_follows_github(heading: str, anchor: str) -> None:
    assert slug(heading) == anchor


def test_checks_name_each_broken_link_and_target(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "page.md").write_text("# Page\n\n## Notes\n\n## Notes\n")
    (tmp_path / "Makefile").write_text(
        "GROUP := one two\n.PHONY: listed-only $(GROUP)\n$(GROUP): real\n\techo a: b\nreal:\n"
    )
    (tmp_path / "README.md").write_text(
        "[ok](docs/page.md#notes-1) [gone](docs/gone.md) [no anchor](docs/page.md#nope)\n"
        "[here](#title) [out](../outside.md) [web](https://example.org/x.md)\n"
        "`[not a link](nowhere.md)`\n\n# Title\n\n"
        "```\nmake real one PROFILE=cpu   # make comment-only\nmake -j2 two listed-only\n```\n"
        "Run `make missing` or `make\nthree`.\n"
    )
    pages = _pages(tmp_path)
    links = link_problems(pages, tmp_path)
    assert links == [
        "README.md:1: (docs/gone.md) no such file: docs/gone.md",
        "README.md:1: (docs/page.md#nope) no heading #nope in docs/page.md",
        "README.md:2: (../outside.md) points outside the repository",
    ]
    targets = make_target_problems(pages, tmp_path / "Makefile")
    assert targets == [
        "README.md:9: make listed-only: no such target in Makefile",
        "README.md:11: make missing: no such target in Makefile",
        "README.md:11: make three: no such target in Makefile",
    ]

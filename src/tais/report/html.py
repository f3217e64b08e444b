"""report.html: report.md as one self-contained page, figures inline, nothing fetched.

The page is converted from report.md (the few constructs render_report writes: headings,
paragraphs, tables, bullet lists, bold, code and image links), so the two never say different
things. Sections are reordered for a reader: the verdict and its forest plot first, then any
reproduction table, then the details. Each figure is an <img> with a data: URI, so the page
needs no other file, and figures' SVG ids cannot collide with each other.
"""

from __future__ import annotations

import base64
import html
import re

from tais.report.run_figures import Drawn

IMAGE = re.compile(r"^!\[([^\]]*)\]\(([^)]+)\)$")
INLINE = re.compile(r"\*\*(.+?)\*\*|`([^`]+)`|\[([^\]]+)\]\(([^)]+)\)")

STYLE = """
body { font-family: "DejaVu Sans", Helvetica, Arial, sans-serif; margin: 2em auto;
  max-width: 72em; padding: 0 1em; color: #222; line-height: 1.45; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.85em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.5em; }
th { background: #f3f3f3; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
code { background: #f3f3f3; padding: 0 0.2em; }
figure { margin: 1em 0; }
figure img { max-width: 100%; height: auto; }
figcaption { font-size: 0.85em; color: #555; }
.verdict { font-size: 1.15em; }
"""


def _inline(text: str) -> str:
    out, at = [], 0
    for m in INLINE.finditer(text):
        out.append(html.escape(text[at : m.start()], quote=False))
        bold, code, link_text, href = m.groups()
        if bold is not None:
            out.append(f"<strong>{_inline(bold)}</strong>")
        elif code is not None:
            out.append(f"<code>{html.escape(code, quote=False)}</code>")
        else:
            out.append(f'<a href="{html.escape(href)}">{_inline(link_text)}</a>')
        at = m.end()
    out.append(html.escape(text[at:], quote=False))
    return "".join(out)


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def _table(lines: list[str]) -> list[str]:
    head, rule, *body = lines
    right = [cell.endswith(":") for cell in _cells(rule)]
    out = ["<table>", "<thead><tr>"]
    out += [f"<th>{_inline(cell)}</th>" for cell in _cells(head)]
    out.append("</tr></thead><tbody>")
    for row in body:
        cells = _cells(row)
        out.append(
            "<tr>"
            + "".join(
                f'<td class="num">{_inline(c)}</td>'
                if i < len(right) and right[i]
                else f"<td>{_inline(c)}</td>"
                for i, c in enumerate(cells)
            )
            + "</tr>"
        )
    out.append("</tbody></table>")
    return out


def figure_html(drawn: Drawn) -> str:
    data = base64.b64encode(drawn.svg.encode("utf-8")).decode("ascii")
    caption = html.escape(drawn.caption)
    return (
        f'<figure><img src="data:image/svg+xml;base64,{data}" alt="{caption}">'
        f"<figcaption>{caption} ({html.escape(drawn.path)})</figcaption></figure>"
    )


def _blocks(lines: list[str], figures: dict[str, Drawn]) -> list[str]:
    """HTML for a run of markdown lines (no section headings of level 2 inside)."""
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.strip():
            i += 1
        elif line.startswith("#"):
            level = len(line) - len(line.lstrip("#"))
            out.append(f"<h{level}>{_inline(line[level:].strip())}</h{level}>")
            i += 1
        elif line.startswith("|"):
            j = i
            while j < len(lines) and lines[j].startswith("|"):
                j += 1
            out += _table(lines[i:j])
            i = j
        elif line.startswith("- "):
            out.append("<ul>")
            while i < len(lines) and lines[i].startswith("- "):
                out.append(f"<li>{_inline(lines[i][2:])}</li>")
                i += 1
            out.append("</ul>")
        elif image := IMAGE.match(line.strip()):
            # A figure not among `figures` is one shown already (the forest plot).
            if image[2] in figures:
                out.append(figure_html(figures[image[2]]))
            i += 1
        else:
            j = i
            while j < len(lines) and lines[j].strip() and not lines[j].startswith(("|", "#", "- ")):
                j += 1
            css = ' class="verdict"' if lines[i].startswith("**Verdict") else ""
            out.append(f"<p{css}>{_inline(' '.join(lines[i:j]))}</p>")
            i = j
    return out


def _sections(markdown: str) -> tuple[list[str], list[tuple[str, list[str]]]]:
    """The lines before the first '## ' heading, and each '## ' section (title, lines)."""
    preamble: list[str] = []
    sections: list[tuple[str, list[str]]] = []
    for line in markdown.splitlines():
        if line.startswith("## "):
            sections.append((line[3:].strip(), [line]))
        elif sections:
            sections[-1][1].append(line)
        else:
            preamble.append(line)
    return preamble, sections


def render_html(markdown: str, drawn: list[Drawn]) -> str:
    """The page for report.md `markdown`, whose image links name the `drawn` figures."""
    figures = {d.path: d for d in drawn[1:]}
    preamble, sections = _sections(markdown)
    title = preamble[0].lstrip("# ").strip() if preamble else "TAIS report"
    first = [s for s in sections if s[0].lower().startswith("reproduc")]
    rest = [s for s in sections if s not in first]
    body = _blocks(preamble, figures)
    # The forest plot is the verdict's picture: it follows the verdict, not the tables.
    if drawn:
        body.append(figure_html(drawn[0]))
    for _, lines in first + rest:
        body += _blocks(lines, figures)
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            # No fetch of any kind: images only from data: URIs, no scripts at all.
            '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
            "img-src data:; style-src 'unsafe-inline'\">",
            f"<title>{html.escape(title)}</title>",
            f"<style>{STYLE}</style>",
            "</head>",
            "<body>",
            *body,
            "</body>",
            "</html>",
            "",
        ]
    )

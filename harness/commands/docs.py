"""Regenerate the docs' generated pages and figures: the command reference, the plugin's options, the results.

  harness docs           write every generated page that differs from what the code makes now
  harness docs --check   write nothing; exit 1 naming each page that differs (fix: python3 dev.py docs)

The command reference (docs/reference/) is rendered from the real argparse parsers, and
the plugin's options from its own definitions, so neither can drift from the code. The
Results page, the "What to pick" of README.md and docs/index.md and
docs/rollback-timelines.png come from docs/results/report.json, a `harness compare`
run's report checked in: put a new run's there (`cp report/report.json docs/results/`)
and run this. A page that differs fails --check and tests/docs; generated pages and
parts are never edited by hand.
"""
from __future__ import annotations

import argparse
import re
import sys
import textwrap
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

ROOT = Path(__file__).resolve().parents[2]  # the repository: generated paths are relative to it
FIX = "python3 dev.py docs"
USAGE_WIDTH = 88  # fixed, so the usage lines do not depend on the terminal that ran the generator


@dataclass(frozen=True)
class Generated:
    """One generated file: its path (relative to the repository root, '/'-separated) and
    the function that makes its content (text is written as UTF-8 with '\\n' line ends)."""

    path: str
    produce: Callable[[], str | bytes]
    checked: bool = True  # does --check compare it? (a picture's bytes depend on the plotting library's version)


def deploy_tool_reference() -> str:
    """docs/reference/ecs-template-deploy.md: every command of ecs-template-deploy."""
    from ecs_template_deploy.cli import build_parser

    return command_reference(build_parser()[0])


def harness_reference() -> str:
    """docs/reference/harness.md: every command of harness."""
    from harness.commands import build_parser

    return command_reference(build_parser())


# -- figures: every one from the checked-in run, docs/results/report.json ---------------

REPORT = "docs/results/report.json"  # a `harness compare` run's report.json, checked in: what the figures cite


def _results() -> Any:
    from harness.report.published import results_from_report

    return results_from_report((ROOT / REPORT).read_text(encoding="utf-8"))


def results_page() -> str:
    """docs/results/index.md: the whole report of the checked-in run."""
    from harness.report.published import results_page as page

    return page(_results())


def _with_what_to_pick(path: str, results_page_link: str) -> Callable[[], str]:
    """``path`` with its ``<!-- report: what-to-pick -->`` part made from the checked-in run, its
    evidence links pointing into the Results page (``results_page_link``, relative to ``path``)."""
    def produce() -> str:
        from harness.commands.report import report_parts, splice
        from harness.report.published import results_page as page

        part = report_parts(page(_results()))["what-to-pick"].replace("](#", f"]({results_page_link}#")
        return splice((ROOT / path).read_text(encoding="utf-8"), {"what-to-pick": part})
    return produce


def timelines_png() -> bytes:
    """docs/rollback-timelines.png: the checked-in run's crash-at-once rollback per approach."""
    from harness.report.published import timelines_png as png

    made = png(_results())
    if made is None:
        raise ValueError(f"{REPORT} holds no rollback timeline: check in the report.json of a whole `harness compare` run")
    return made


PLUGIN_PAGE = "docs/harness/plugin.md"


def plugin_options() -> str:
    """docs/harness/plugin.md with its options and markers tables made from the plugin's own definitions."""
    from harness.plugin import MARKERS, pytest_addoption
    from harness.plugin.measurements import pytest_addoption as measurements_addoption

    class Recorder:  # what the plugin's pytest_addoption adds, without building pytest's own (private) Parser
        def __init__(self) -> None:
            self.options: list[tuple[tuple[str, ...], dict[str, Any]]] = []

        def getgroup(self, *_: Any, **__: Any) -> "Recorder":
            return self

        def addoption(self, *names: str, **attrs: Any) -> None:
            self.options.append((names, attrs))

        def addini(self, *_: Any, **__: Any) -> None:
            pass

    parser = Recorder()
    pytest_addoption(parser)  # type: ignore[arg-type]
    measurements_addoption(parser)  # type: ignore[arg-type]
    rows = ["| option | value | default | what it does |", "|---|---|---|---|"]
    for names, attrs in parser.options:
        value = "" if attrs.get("action") == "store_true" else (
            "|".join(attrs["choices"]) if attrs.get("choices") else attrs.get("metavar") or "")
        default = attrs.get("default")
        shown = "" if default in (None, False, [], "") else str(default)
        rows.append(f"| {code(', '.join(names))} | {code(value) if value else ''} | "
                    f"{code(shown) if shown else ''} | {inline(attrs.get('help', ''))} |")
    markers = ["| marker | what it means |", "|---|---|"]
    for line in MARKERS.values():
        usage, _, meaning = line.partition(": ")
        markers.append(f"| {code('@pytest.mark.' + usage)} | {inline(meaning)} |")
    generated = "\n".join(["<!-- generated: plugin-options -->", "Options (`pytest --help` shows them under "
                           "\"ECS Terraform/CD harness\"):", "", *rows, "", "Markers:", "", *markers,
                           "<!-- /generated -->"])
    text = (ROOT / PLUGIN_PAGE).read_text(encoding="utf-8")
    head, found, rest = text.partition("<!-- generated: plugin-options -->")
    if not found or "<!-- /generated -->" not in rest:
        raise ValueError(f"{PLUGIN_PAGE} has no '<!-- generated: plugin-options -->' ... '<!-- /generated -->' markers")
    return head + generated + rest.split("<!-- /generated -->", 1)[1]


# What `harness docs` writes and `--check` compares, in order.
GENERATED: list[Generated] = [
    Generated("docs/reference/ecs-template-deploy.md", deploy_tool_reference),
    Generated("docs/reference/harness.md", harness_reference),
    Generated(PLUGIN_PAGE, plugin_options),
    Generated("docs/results/index.md", results_page),
    Generated("README.md", _with_what_to_pick("README.md", "docs/results/index.md")),
    Generated("docs/index.md", _with_what_to_pick("docs/index.md", "results/index.md")),
    # a picture: written by `harness docs`, not compared by --check (its bytes depend on matplotlib's version)
    Generated("docs/rollback-timelines.png", timelines_png, checked=False),
]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--check", action="store_true",
                        help=f"write nothing; exit 1 naming every generated file that differs (fix: {FIX})")


def run(args: argparse.Namespace) -> int:
    if not (ROOT / "mkdocs.yml").is_file():  # an installed wheel: there is no docs/ to write into
        print(f"harness docs: {ROOT} is not a clone of the repository (no mkdocs.yml): run it in a clone, "
              f"as `{FIX}`", file=sys.stderr)
        return 2
    try:
        differing = differing_files(ROOT, GENERATED, write=not args.check)
    except (OSError, ValueError) as err:  # a missing or broken report.json, a page without its markers
        print(f"harness docs: error: {err} (nothing was written)", file=sys.stderr)
        return 2
    if args.check:
        for path in differing:
            print(f"harness docs: {path} differs from what the code makes now", file=sys.stderr)
        if differing:
            print(f"harness docs: run `{FIX}` to regenerate (generated pages are never edited by hand)",
                  file=sys.stderr)
            return 1
        print(f"harness docs: all {sum(g.checked for g in GENERATED)} checked generated files are current")
        return 0
    for path in differing:
        print(f"harness docs: wrote {path}")
    if not differing:
        print(f"harness docs: all {len(GENERATED)} generated files were current; nothing written")
    return 0


def differing_files(root: Path, generated: list[Generated], *, write: bool) -> list[str]:
    """The paths of `generated` whose file under `root` is missing or differs from what its
    function makes now; with `write`, each of them is (re)written. Everything is made before
    anything is written: a generator that fails leaves every file as it was."""
    made: dict[str, bytes] = {}
    for item in generated:
        if write or item.checked:
            text = item.produce()
            made[item.path] = text.encode("utf-8") if isinstance(text, str) else text
    differing = [path for path, wanted in made.items()
                 if not ((root / path).is_file() and (root / path).read_bytes() == wanted)]
    for path in differing if write else ():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".partial")  # a kill mid-write leaves the old file whole
        partial.write_bytes(made[path])
        partial.replace(target)
    return differing


# -- the command reference ------------------------------------------------------------

def command_reference(parser: argparse.ArgumentParser) -> str:
    """The Markdown page for `parser` and every subcommand under it, recursively: per
    command a heading (`## prog sub`, anchored by MkDocs' default slug), the description,
    the usage in a text block, its subcommands and a table per group of its options."""
    prog = parser.prog
    lines = [
        f"<!-- Generated by `{FIX}` from the argparse parsers (harness/commands/docs.py): do not edit by hand. -->",
        "",
        f"# {inline(prog)} command reference",
        "",
        f"*Generated from `{prog}`'s own argparse parsers by `{FIX}`: change the help in the code, "
        "then regenerate; do not edit this page by hand.* Every command also takes `-h`/`--help`, "
        "which prints the same in the terminal.",
    ]
    for path, command, summary in walk(parser):
        lines += ["", *section(path, command, summary)]
    return "\n".join(lines) + "\n"


def walk(parser: argparse.ArgumentParser, path: tuple[str, ...] = (), summary: str = ""
         ) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser, str]]:
    """(command path, its parser, its one-line help) for `parser` and each subcommand,
    depth first in the order they were added (aliases once, under their first name)."""
    path = path or (parser.prog,)
    yield path, parser, summary
    for name, subparser, help_ in subcommands(parser):
        yield from walk(subparser, (*path, name), help_)


def subcommands(parser: argparse.ArgumentParser) -> list[tuple[str, argparse.ArgumentParser, str]]:
    """(name, parser, help) of each subcommand of `parser`, aliases left out."""
    found = []
    for action in parser._actions:
        if not isinstance(action, argparse._SubParsersAction):
            continue
        helps = {choice.dest: choice.help or "" for choice in action._choices_actions}
        seen: set[int] = set()
        for name, subparser in action.choices.items():
            if id(subparser) not in seen:
                seen.add(id(subparser))
                found.append((name, subparser, helps.get(name, "")))
    return found


def section(path: tuple[str, ...], parser: argparse.ArgumentParser, summary: str) -> list[str]:
    """One command's part of the page."""
    level = min(6, 1 + max(1, len(path) - 1))  # the tool and its commands at ##, deeper ones below
    lines = [f"{'#' * level} {inline(' '.join(path))}"]
    description = parser.description or summary
    if description:
        lines += ["", *paragraphs(description)]
    lines += ["", *text_block("\n".join(usage_lines(parser)))]
    commands = subcommands(parser)
    if commands:
        lines += ["", "**Commands**", "", "| Command | What it does |", "| --- | --- |"]
        lines += [f"| [{code(name)}](#{anchor(' '.join((*path, name)))}) | {inline(help_)} |"
                  for name, _, help_ in commands]
    for group in parser._action_groups:
        shown = [action for action in group._group_actions if _documented(action)]
        if not shown:
            continue
        title = group.title or "options"
        lines += ["", f"**{inline(title[:1].upper() + title[1:])}**"]
        if group.description:
            lines += ["", *paragraphs(group.description)]
        lines += ["", "| Option | Value | Default | Description |", "| --- | --- | --- | --- |"]
        lines += [option_row(parser, action) for action in shown]
    return lines


def _documented(action: argparse.Action) -> bool:
    # --help is on every command (the page says so once); subcommands get their own table
    return action.help is not argparse.SUPPRESS and not isinstance(
        action, (argparse._HelpAction, argparse._SubParsersAction))


def _formatter(parser: argparse.ArgumentParser) -> argparse.HelpFormatter:
    formatter: argparse.HelpFormatter = parser.formatter_class(prog=parser.prog, width=USAGE_WIDTH)  # type: ignore[call-arg]
    return formatter


def usage_lines(parser: argparse.ArgumentParser, width: int = USAGE_WIDTH) -> list[str]:
    """`parser`'s usage wrapped at `width` by this code, not argparse: argparse's wrapping
    differs between Python versions (3.13 keeps `--option METAVAR` together, 3.11 splits
    it), and the page must be the same on every Python the project supports."""
    formatter = parser.formatter_class(prog=parser.prog, width=1_000_000)  # type: ignore[call-arg]
    formatter.add_usage(parser.usage, parser._actions, parser._mutually_exclusive_groups)
    usage = _ANSI.sub("", formatter.format_help()).strip("\n")  # 3.14 may colour it
    if parser.usage is not None:  # a usage= of its own: as it was written
        return usage.splitlines()
    usage = " ".join(usage.split())
    head = f"usage: {parser.prog}"
    if not usage.startswith(head):  # not argparse's form as known: one line, unwrapped
        return [usage]
    parts: list[str] = []
    for part in _usage_parts(usage[len(head):]):
        if parts and parts[-1].startswith("-") and not part.startswith(("-", "[", "(")):
            parts[-1] += f" {part}"  # an option and its metavar stay on one line
        else:
            parts.append(part)
    lines, indent = [head], " " * (len(head) + 1)
    for part in parts:
        if len(lines[-1]) + 1 + len(part) > width and lines[-1].strip() not in (head, ""):
            lines.append(indent + part)
        else:
            lines[-1] += f" {part}"
    return lines


def _usage_parts(text: str) -> list[str]:
    """`text` split at the spaces outside brackets: `[--out DIR]`, `--cluster`, `CLUSTER`, ..."""
    parts, depth, current = [], 0, ""
    for char in text:
        depth += (char in "[({") - (char in "])}")
        if char == " " and depth <= 0:
            if current:
                parts.append(current)
            current = ""
        else:
            current += char
    return [*parts, current] if current else parts


def option_row(parser: argparse.ArgumentParser, action: argparse.Action) -> str:
    """The table row of one argument: its names, what value it takes, its default, its help."""
    formatter = _formatter(parser)
    if action.option_strings:
        names = ", ".join(code(option) for option in action.option_strings)
        metavar = formatter._get_default_metavar_for_optional(action)
    else:
        metavar = formatter._get_default_metavar_for_positional(action)
        names = code(" ".join(action.metavar) if isinstance(action.metavar, tuple) else action.metavar or action.dest)
    if action.nargs == 0:
        value = ""  # a flag
    elif action.choices is not None and action.metavar is None:
        value = "one of " + ", ".join(code(str(choice)) for choice in action.choices)
    else:
        value = code(formatter._format_args(action, metavar))
        if not action.option_strings and value == names:
            value = ""
    help_ = formatter._expand_help(action) if action.help else ""
    return f"| {names} | {value} | {default_cell(action)} | {inline(help_)} |"


def default_cell(action: argparse.Action) -> str:
    """`action`'s default as the table shows it: "required", the value, or nothing when
    there is none to say (None, SUPPRESS, an empty list, a flag's off state) or when the
    help says the default in words: those words win (`--workers`' "default: CPUs" is
    this machine's CPU count as a value, which would make the page differ per machine)."""
    default = action.default
    if action.required:
        return "required"
    if default is None or default is argparse.SUPPRESS or default in ([], ()):
        return ""
    if action.help and _SAYS_DEFAULT.search(action.help):
        return ""
    if (isinstance(action, argparse._StoreTrueAction) and default is False) or \
            (isinstance(action, argparse._StoreFalseAction) and default is True):
        return ""
    if isinstance(default, (list, tuple)):
        return ", ".join(code(str(item)) for item in default)
    return code(str(default))


_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_SAYS_DEFAULT = re.compile(r"\bdefault\b", re.IGNORECASE)


# -- Markdown that survives any help text ----------------------------------------------

def anchor(heading: str) -> str:
    """The id MkDocs gives a heading by default (Python-Markdown's toc `slugify`), so
    other pages can link `reference/harness.md#harness-compare`."""
    text = unicodedata.normalize("NFKD", heading).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^\w\s-]", "", text).strip().lower()
    return re.sub(r"[-\s]+", "-", text)


def code(text: str) -> str:
    """`text` as an inline code span, whatever backticks it holds."""
    run = max((len(ticks) for ticks in re.findall(r"`+", text)), default=0)
    fence = "`" * (run + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def text_block(text: str) -> list[str]:
    """`text` verbatim in a fenced `text` block (its fence longer than any backtick run in it)."""
    run = max((len(ticks) for ticks in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, run + 1)
    return [f"{fence}text", *text.splitlines(), fence]


def paragraphs(text: str) -> list[str]:
    """A help text (written for RawDescriptionHelpFormatter) as Markdown: each paragraph
    (blank-line separated) with an indented line, a layout of its own such as a command
    list, stays verbatim in a text block; the others are prose, joined into one line."""
    out: list[str] = []
    for paragraph in re.split(r"\n[ \t]*\n", text.strip("\n")):
        lines = paragraph.rstrip().splitlines()
        if not lines:
            continue
        if out:
            out.append("")
        if any(line[:1].isspace() for line in lines):
            out += text_block(textwrap.dedent("\n".join(lines)))
        else:
            out.append(inline(" ".join(line.strip() for line in lines)))
    return out


_CODE_SPAN = re.compile(r"(?<!`)(`+)(?!`)(.+?)(?<!`)\1(?!`)")
_ESCAPED = {"\\": "\\\\", "*": "\\*", "_": "\\_", "[": "\\[", "]": "\\]", "{": "\\{", "}": "\\}",
            "|": "\\|", "`": "\\`", "&": "&amp;", "<": "&lt;", ">": "&gt;"}


def inline(text: str) -> str:
    """One line of help text as Markdown that reads as the terminal shows it: its code spans
    (`x`, ``x``) kept as code, everything else escaped, so `<`, `|`, `*`, `_` and the like
    never become HTML, a table cell's end, emphasis or a link; safe in a table cell."""
    text = " ".join(text.split())
    out = []
    position = 0
    for span in _CODE_SPAN.finditer(text):
        out.append(_escape(text[position:span.start()], at_start=position == 0))
        out.append(code(span.group(2).strip() or span.group(2)))
        position = span.end()
    out.append(_escape(text[position:], at_start=position == 0))
    return "".join(out)


def _escape(text: str, *, at_start: bool) -> str:
    escaped = "".join(_ESCAPED.get(char, char) for char in text)
    if at_start:  # what would make a line a heading, a list or a quote
        escaped = re.sub(r"^([#+-])", r"\\\1", escaped)
        escaped = re.sub(r"^(\d+)([.)])", r"\1\\\2", escaped)
    return escaped

"""One page per ``learnloop`` command, generated from ``learnloop.cli.build_parser()``: the parser is the truth."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from learnloop_docs.api import _write


def _md(text: str | None) -> str:
    """argparse help is plain text with RST-style literals (``x``); the page is Markdown."""
    text = (text or "").replace("``", "`")
    return re.sub(r"\s+", " ", text).strip()


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, tuple[argparse.ArgumentParser, str]]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help for a in action._choices_actions}
            return {name: (sub, helps.get(name, "")) for name, sub in action.choices.items()}
    return {}


def _default(action: argparse.Action) -> str:
    if action.default in (None, argparse.SUPPRESS) or isinstance(action, (argparse._StoreTrueAction,
                                                                         argparse._StoreFalseAction)):
        return ""
    if isinstance(action.default, list) and not action.default:
        return ""
    return f"`{action.default}`"


def _help(parser: argparse.ArgumentParser, action: argparse.Action) -> str:
    if action.help in (None, argparse.SUPPRESS):
        return ""
    return _md(parser._get_formatter()._expand_help(action))


def options_table(parser: argparse.ArgumentParser) -> list[str]:
    rows = ["| argument | values | default | what it does |", "|---|---|---|---|"]
    for action in parser._actions:
        if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)) or action.help == argparse.SUPPRESS:
            continue
        name = ", ".join(f"`{s}`" for s in action.option_strings) or f"`{action.metavar or action.dest}`"
        if action.choices:
            values = " \\| ".join(f"`{c}`" for c in action.choices)
        elif action.nargs == 0:
            values = "(flag)"
        else:
            values = f"`{action.metavar or action.dest.upper()}`"
        if isinstance(action, argparse._AppendAction):
            values += " (repeatable)"
        rows.append(f"| {name} | {values} | {_default(action)} | {_cell(_help(parser, action))} |")
    return rows


def command_page(path: str, parser: argparse.ArgumentParser, summary: str) -> list[str]:
    lines = [f"# `{path}`", "", _md(summary).capitalize() + "." if summary else "", "", "```text",
             parser.format_usage().strip(), "```", ""]
    if parser.description:
        lines += [_md(parser.description), ""]
    table = options_table(parser)
    if len(table) > 2:
        lines += table + [""]
    subs = _subparsers(parser)
    for name, (sub, helptext) in subs.items():
        lines += [f"## `{path} {name}`", "", (_md(helptext).capitalize() + ".") if helptext else "", "",
                  "```text", sub.format_usage().strip(), "```", ""]
        if sub.description:
            lines += [_md(sub.description), ""]
        table = options_table(sub)
        if len(table) > 2:
            lines += table + [""]
    if parser.epilog:
        lines += ["```text", parser.epilog.strip(), "```", ""]
    return lines


def write_pages(folder: Path) -> list[str]:
    from learnloop.cli import build_parser

    folder.mkdir(parents=True, exist_ok=True)
    parser = build_parser()
    commands = _subparsers(parser)
    index = ["# Command line", "",
             "`learnloop COMMAND [options]`: the whole loop without writing Python. Each page below is generated "
             "from the command's own parser, so its options, defaults and help are what `learnloop COMMAND --help` "
             "prints.", "", "| command | what it does |", "|---|---|"]
    for name, (sub, helptext) in commands.items():
        _write(folder / f"{name}.md", "\n".join(command_page(f"learnloop {name}", sub, helptext)))
        index.append(f"| [`learnloop {name}`]({name}.md) | {_cell(_md(helptext))} |")
    index += ["", "```{toctree}", ":hidden:", "", *commands, "```", ""]
    _write(folder / "index.md", "\n".join(index))
    return list(commands)

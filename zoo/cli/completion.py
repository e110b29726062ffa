"""``zoo completion bash|zsh|fish``: a shell completion script, generated from the argument parser.

The parser is walked once (its commands, nested ones such as ``golden regen``, each level's options,
their choices and whether they take a value) and the same table is written in each shell's terms,
so a new command or option completes the day it is added. (shtab, the well-kept library for this,
writes bash, zsh and tcsh but not fish; the walk below is the little it would have saved.)

Spec names are not completed: they depend on ``ZOO_SPEC_PATH``, and listing them takes zoo a second;
``zoo list`` shows them.
"""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass, field
from pathlib import Path

SHELLS = ("bash", "zsh", "fish")
INSTALL = {
    "bash": 'eval "$(zoo completion bash)" in ~/.bashrc, or zoo completion bash > '
    "~/.local/share/bash-completion/completions/zoo",
    "zsh": "zoo completion zsh > ~/.zfunc/_zoo, with fpath+=(~/.zfunc) before compinit in ~/.zshrc",
    "fish": "zoo completion fish > ~/.config/fish/completions/zoo.fish",
}


@dataclass
class Option:
    flags: list[str]
    help: str
    takes_value: bool
    choices: list[str] | None
    files: bool
    repeatable: bool


@dataclass
class Positional:
    dest: str
    help: str
    choices: list[str] | None
    many: bool
    files: bool


@dataclass
class Level:
    """One command of the parser (the top level's path is empty)."""

    path: tuple[str, ...]
    help: str = ""
    options: list[Option] = field(default_factory=list)
    positionals: list[Positional] = field(default_factory=list)
    commands: list[Level] = field(default_factory=list)


def walk(parser: argparse.ArgumentParser, path: tuple[str, ...] = (), help: str = "") -> Level:
    """The parser as a tree of levels (argparse keeps its actions in ``_actions``)."""
    level = Level(path, help)
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help or "" for a in action._choices_actions}
            for name, sub in action.choices.items():
                level.commands.append(walk(sub, (*path, name), helps.get(name, "")))
            continue
        choices = [str(c) for c in action.choices] if action.choices is not None else None
        files = action.type is Path or action.dest in ("file", "output", "goldens")
        if action.option_strings:
            level.options.append(
                Option(
                    flags=list(action.option_strings),
                    help=action.help if isinstance(action.help, str) else "",
                    takes_value=action.nargs != 0,
                    choices=choices,
                    files=files,
                    repeatable=isinstance(action, argparse._AppendAction),
                )
            )
        else:
            many = action.nargs in ("*", "+", argparse.REMAINDER)
            level.positionals.append(Positional(action.dest, action.help or "", choices, many, files))
    return level


def levels(root: Level) -> list[Level]:
    out = [root]
    for command in root.commands:
        out += levels(command)
    return out


def short(text: str, limit: int = 70) -> str:
    """A help text's first sentence or clause, cut to ``limit`` characters."""
    text = re.split(r"(?<!e\.g)\. |; | \(", " ".join(text.split()))[0]
    return text if len(text) <= limit else text[: limit - 3] + "..."


def script(parser: argparse.ArgumentParser, shell: str) -> str:
    root = walk(parser)
    return {"bash": bash, "zsh": zsh, "fish": fish}[shell](root, parser.prog)


# ------------------------------------------------------------------ bash


def bash(root: Level, prog: str) -> str:
    fn = f"_{prog}"
    commands, words, options, values, takes = [], [], [], [], []
    for level in levels(root):
        key = " ".join(level.path)
        names = [c.path[-1] for c in level.commands]
        positional = [c for p in level.positionals if p.choices for c in p.choices]
        if names:
            commands.append(f'        "{key}") echo "{" ".join(names)}" ;;')
        if names or positional:
            words.append(f'        "{key}") echo "{" ".join(names + positional)}" ;;')
        options.append(f'        "{key}") echo "{" ".join(f for o in level.options for f in o.flags)}" ;;')
        for option in level.options:
            for flag in option.flags:
                if option.choices:
                    values.append(f'        "{key}|{flag}") echo "{" ".join(option.choices)}" ;;')
                if option.takes_value:
                    takes.append(f'"{key}|{flag}"')
    lines = [
        f"# bash completion for {prog}, generated from its argument parser by `{prog} completion bash`.",
        f"# Install: {INSTALL['bash']}",
        f"{fn}_commands() {{",
        '    case "$1" in',
        *commands,
        "    esac",
        "}",
        f"{fn}_words() {{",
        '    case "$1" in',
        *words,
        "    esac",
        "}",
        f"{fn}_options() {{",
        '    case "$1" in',
        *options,
        "    esac",
        "}",
        f"{fn}_values() {{",
        '    case "$1|$2" in',
        *values,
        "    esac",
        "}",
        f"{fn}_takes_value() {{",
        '    case "$1|$2" in',
        f"        {'|'.join(takes) or '__none__'}) return 0 ;;",
        "    esac",
        "    return 1",
        "}",
        f"{fn}() {{",
        '    local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD-1]}" path="" word i',
        "    for ((i = 1; i < COMP_CWORD; i++)); do",
        '        word="${COMP_WORDS[i]}"',
        '        case "$word" in -*) continue ;; esac',
        f'        case " $({fn}_commands "$path") " in',
        '            *" $word "*) path="${path:+$path }$word" ;;',
        "        esac",
        "    done",
        "    local values",
        f'    values="$({fn}_values "$path" "$prev")"',
        '    if [[ -n "$values" ]]; then',
        '        mapfile -t COMPREPLY < <(compgen -W "$values" -- "$cur")',
        f'    elif {fn}_takes_value "$path" "$prev"; then',
        "        COMPREPLY=()  # a value: file names (complete -o default)",
        '    elif [[ "$cur" == -* ]]; then',
        f'        mapfile -t COMPREPLY < <(compgen -W "$({fn}_options "$path")" -- "$cur")',
        "    else",
        f'        mapfile -t COMPREPLY < <(compgen -W "$({fn}_words "$path")" -- "$cur")',
        "    fi",
        "}",
        f"complete -o default -F {fn} {prog}",
    ]
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------ zsh


def _zsh_text(text: str) -> str:
    """Help text safe inside a single-quoted _arguments spec (no quotes, brackets or colons)."""
    return "".join(" " if c in "[]:'\\`$" else c for c in short(text)).strip()


def _zsh_function(prog: str, level: Level) -> str:
    return "_" + "_".join((prog, *level.path)).replace("-", "_")


def zsh(root: Level, prog: str) -> str:
    lines = [
        f"#compdef {prog}",
        f"# zsh completion for {prog}, generated from its argument parser by `{prog} completion zsh`.",
        f"# Install: {INSTALL['zsh']}",
        "",
    ]
    for level in levels(root):
        specs = []
        for option in level.options:
            text = _zsh_text(option.help)
            value = ""
            if option.takes_value:
                what = option.flags[-1].lstrip("-")
                action = (
                    f"({' '.join(option.choices)})" if option.choices else "_files" if option.files else " "
                )
                value = f":{what}:{action}"
            star = "*" if option.repeatable else ""
            if len(option.flags) > 1:
                specs.append(
                    f"'({' '.join(option.flags)})'{star}{{{','.join(option.flags)}}}'[{text}]{value}'"
                )
            else:
                specs.append(f"'{star}{option.flags[0]}[{text}]{value}'")
        number = 1
        for positional in level.positionals:
            action = (
                f"({' '.join(positional.choices)})"
                if positional.choices
                else "_files"
                if positional.files
                else " "
            )
            where = "*" if positional.many else str(number)
            specs.append(f"'{where}:{positional.dest}:{action}'")
            number += 1
        function = _zsh_function(prog, level)
        lines.append(f"{function}() {{")
        if level.commands:
            lines += [
                "    local curcontext=$curcontext state line",
                "    _arguments -C \\",
                *(f"        {spec} \\" for spec in specs),
                "        '1: :->command' \\",
                "        '*:: :->argument'",
                "    case $state in",
                "        command)",
                "            local -a commands",
                "            commands=(",
                *(f"                '{c.path[-1]}:{_zsh_text(c.help)}'" for c in level.commands),
                "            )",
                "            _describe command commands ;;",
                "        argument)",
                "            case $line[1] in",
                *(f"                {c.path[-1]}) {_zsh_function(prog, c)} ;;" for c in level.commands),
                "            esac ;;",
                "    esac",
            ]
        else:
            lines += ["    _arguments \\", *(f"        {spec} \\" for spec in specs), "        && return 0"]
        lines += ["}", ""]
    lines.append(f'{_zsh_function(prog, root)} "$@"')
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------ fish


def _fish_text(text: str) -> str:
    return "'" + short(text).replace("\\", "\\\\").replace("'", "\\'") + "'"


def _fish_condition(level: Level) -> str:
    """Where a level's own words apply: its path seen, and none of its commands yet."""
    if not level.path:
        return "__fish_use_subcommand"
    seen = "; and ".join(f"__fish_seen_subcommand_from {word}" for word in level.path)
    if level.commands:
        words = " ".join(c.path[-1] for c in level.commands)
        seen += f"; and not __fish_seen_subcommand_from {words}"
    return seen


def fish(root: Level, prog: str) -> str:
    lines = [
        f"# fish completion for {prog}, generated from its argument parser by `{prog} completion fish`.",
        f"# Install: {INSTALL['fish']}",
        f"complete -c {prog} -f",
    ]
    for level in levels(root):
        condition = _fish_condition(level)
        for command in level.commands:
            lines.append(
                f"complete -c {prog} -n '{condition}' -a {command.path[-1]} -d {_fish_text(command.help)}"
            )
        for positional in level.positionals:
            for choice in positional.choices or ():
                lines.append(f"complete -c {prog} -n '{condition}' -a {choice}")
        for option in level.options:
            flags = " ".join(f"-s {f[1:]}" if not f.startswith("--") else f"-l {f[2:]}" for f in option.flags)
            value = ""
            if option.choices:
                value = f" -x -a '{' '.join(option.choices)}'"
            elif option.takes_value:
                value = " -r -F" if option.files else " -x"
            lines.append(f"complete -c {prog} -n '{condition}' {flags}{value} -d {_fish_text(option.help)}")
    return "\n".join(lines) + "\n"


def cmd_completion(args: argparse.Namespace) -> int:
    """Print the completion script for ``args.shell``, from the parser the command line was parsed with."""
    print(script(args.root_parser, args.shell), end="")
    return 0

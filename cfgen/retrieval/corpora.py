"""Weighing two corpora in one retrieval index: benchmark pairs with specific requests, pages with generic ones.

NL2Bash requests name their values ("files older than 7 days in /tmp"), tldr
descriptions are generic ("Find files modified in the last n days"); in one
index the 27k generic rows crowd out the specific ones. So a page row's
cosine counts PAGE_MARGIN less than a benchmark row's, and any row whose
command the request names ("use rsync to …", "with ss") counts
COMMAND_BONUS more: a request that names a command gets that command.
"""

from __future__ import annotations

import re

import torch

PAGE_MARGIN = 0.03
COMMAND_BONUS = 0.05
_PREFIXES = {"sudo", "doas", "env", "nohup", "time", "command"}
_WORD = re.compile(r"[a-z0-9][a-z0-9_.+-]*")
# Words too common in requests to be taken as naming a command ("find the files", "sort the lines" do name find
# and sort, and keep their bonus); these name commands only by accident.
_NOT_COMMANDS = {"a", "an", "the", "in", "of", "to", "and", "or", "for", "with", "all", "as", "at", "by", "on", "it",
                 "file", "files", "list", "show", "make", "get", "set", "run", "use", "from", "into", "is", "be",
                 "do", "up", "out", "new", "last", "first", "each", "every", "that", "this", "which"}


def command_of(code: str) -> str:
    """The command a program runs first (after sudo, env and the like), lower-cased: `sudo ss -lt` -> `ss`."""
    words = code.split()
    while words and (words[0] in _PREFIXES or "=" in words[0]):
        words = words[1:]
    return words[0].rsplit("/", 1)[-1].strip("()").lower() if words else ""


# Where a shell program starts another command: pipes and lists, substitutions, and the utilities that run one.
_COMMAND_STARTS = re.compile(r"\|\|?|&&|;|\$\(|`|\bxargs(?:\s+-\S+)*|-exec(?:dir)?\b|\b(?:then|do|else)\b")


def commands_of(code: str) -> list[str]:
    """Every command a program runs, in order, lower-cased: `find . -exec grep x {} \\; | less` runs find, grep
    and less."""
    return [command for command in map(command_of, _COMMAND_STARTS.split(code)) if command]


def named_commands(request: str) -> set[str]:
    """The words of a request that could be command names."""
    return {word for word in _WORD.findall(request.lower()) if word not in _NOT_COMMANDS}


class CommandColumns:
    """Column numbers of the programs that run a command (commands_of), found when a request first names that
    command and kept: parsing every program up front would cost each cold start a third of a second. Once
    `LOOKUPS_BEFORE_ALL` words have been looked up (training attaches neighbours to thousands of requests, each
    new word a scan of every program), every program is read once instead and the rest are lookups."""

    LOOKUPS_BEFORE_ALL = 256

    def __init__(self, programs: list[str]) -> None:
        self.programs = programs
        self._found: dict[str, list[int]] = {}
        self._read_all = False

    def columns_running(self, command: str) -> list[int]:
        if command not in self._found:
            if self._read_all:
                return []
            if len(self._found) >= self.LOOKUPS_BEFORE_ALL:
                self._found, self._read_all = self._every_command(), True
                return self._found.get(command, [])
            self._found[command] = [column for column, program in enumerate(self.programs)
                                    if command in program and command in commands_of(program)]
        return self._found[command]

    def _every_command(self) -> dict[str, list[int]]:
        found: dict[str, list[int]] = {}
        for column, program in enumerate(self.programs):
            for command in dict.fromkeys(commands_of(program)):
                found.setdefault(command, []).append(column)
        return found


def columns_by_command(programs: list[str]) -> CommandColumns:
    """Column numbers of the programs that run each command."""
    return CommandColumns(programs)


def adjustment(requests: list[str], columns: CommandColumns, from_pages: torch.Tensor,
               margin: float = PAGE_MARGIN, bonus: float = COMMAND_BONUS) -> torch.Tensor:
    """(Q, N) to add to the cosines of Q requests with N rows (`columns`: columns_by_command of the rows;
    `from_pages[j]`: whether row j comes from pages)."""
    result = (-margin * from_pages.float()).expand(len(requests), -1).clone()
    for q, request in enumerate(requests):
        hits = [column for word in named_commands(request) for column in columns.columns_running(word)]
        if hits and bonus:
            result[q, hits] += bonus
    return result

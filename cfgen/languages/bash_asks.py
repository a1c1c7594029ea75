"""What a Bash request asks of a command beyond its values: the utility it names (or an archive's extension
names), which end of a file its lines come from, whether it writes a file, whether it negates, and whether it looks
for files or folders. The tables of words are here; bash_values.py reads the values themselves.
"""

from __future__ import annotations

import re

from cfgen.languages.bash_values import NUMBER_WORDS

# Phrases in which a utility's name is an ordinary word, not the request naming the utility ("directory tree").
NOT_NAMING = {"tree": r"(?:directory|folder|dir|file|source|work(?:ing)?) tree", "less": r"less than",
              "column": r"\b(?:the|a|each|every|one|which|what|first|second|third|fourth|fifth|sixth|\d+(?:st|nd|rd|th)"
                        r"|last)\s+columns?\b",
              "more": r"more than", "head": r"head of", "top": r"(?:the )?top \d+|on top", "time": r"(?:a|the) time",
              "file": r"(?:a|the|each|every) file", "find": r"(?:and|to) find", "yes": r"yes or no",
              "go": r"\bgo (?:to|into|back|up|down|in|through|over)\b"}

# The tool an archive's extension names: "extract b.tar" asks for tar as "with tar" would (the last extension
# that is an archive's decides: `a.tar.gz` is tar's).
EXTENSION_TOOLS = {"tar": ("tar",), "tgz": ("tar",), "tbz2": ("tar",), "txz": ("tar",), "zip": ("zip", "unzip"),
                   "gz": ("gzip", "gunzip", "zcat"), "bz2": ("bzip2", "bunzip2", "bzcat"),
                   "xz": ("xz", "unxz", "xzcat"),
                   "7z": ("7z", "7za"), "rar": ("unrar", "rar"), "zst": ("zstd", "unzstd"), "lz4": ("lz4",)}
_ARCHIVE = re.compile(rf"(?<![\w-])[\w.-]*?\.({'|'.join(EXTENSION_TOOLS)})((?:\.[A-Za-z0-9]+)*)(?![\w.])", re.I)
# Which end of a file a request's lines are taken from, and the utility that shows that end; a request that
# removes lines there ("drop the last line": `head -n -1`) asks the other.
LINE_ENDS = {"first": "head", "top": "head", "last": "tail", "bottom": "tail", "final": "tail"}
_LINES_AT_END = re.compile(rf"\b(?P<end>{'|'.join(LINE_ENDS)})\s+(?:(?:\d+|{NUMBER_WORDS})\s+)?lines?\b", re.I)
_REMOVING = re.compile(r"\b(?:remove|delete|drop|skip|strip|cut|without|except|all but|but)\b", re.I)


def names_utility(utility: str, request: str) -> bool:
    """Whether the request names the utility ("with rsync", "aspell"), not only says an ordinary word that is its
    name ("the directory tree" is not `tree`)."""
    phrase = NOT_NAMING.get(utility)
    text = re.sub(phrase, " ", request, flags=re.I) if phrase else request
    # a word in capitals is a marker or a value ("lines with TODO", "ERROR"), not a utility's name; nor is a name
    # ("processes named sleep"), nor a file's extension (b.tar)
    return any(not (found.group().isupper() and len(found.group()) > 1)
               and not _NAMED_BEFORE.search(text[:found.start()])
               for found in re.finditer(rf"(?<![\w./-]){re.escape(utility)}(?![\w-]|\.\w)", text, re.I))


_NAMED_BEFORE = re.compile(r"\b(?:named|called)\s+$", re.I)


def archive_tool(utility: str, request: str) -> bool:
    """Whether `utility` is the tool the extension of an archive the request names calls for (`tar` for
    "extract b.tar" or "a.tar.gz")."""
    return any(utility in EXTENSION_TOOLS[match.group(1).lower()] for match in _ARCHIVE.finditer(request))


# Words by which a request asks to write a file (then a command may redirect into one it names).
_WRITING = re.compile(r"\b(?:writes?|sav(?:e|es|ing)|stor(?:e|es|ing)|append\w*|redirect\w*|output|put|puts|into|"
                      r"creat\w*|make|overwrit\w*|add|adds|empty|truncat\w*|clear|log|record|dump|export|generate)\b",
                      re.I)


def asks_to_write(request: str) -> bool:
    """Whether the request asks to write, save or create a file (else it only reads those it names)."""
    return bool(_WRITING.search(request))


_NEGATION_WORDS = re.compile(r"\b(?:not|no|none|never|without|except|excluding|exclude|other than|lacking|missing|"
                             r"but|non|\w+n't|unless|ignor\w*|skip\w*|invert\w*|negat\w*)\b", re.I)


def says_negation(request: str) -> bool:
    """Whether the request asks for what does not match ("files not named", "lines without INFO")."""
    return bool(_NEGATION_WORDS.search(request))


def shows_other_end(utility: str, request: str) -> bool:
    """Whether `utility` (head or tail) shows the other end of the file than the lines the request asks for
    ("the last 3 lines" is not `head`)."""
    said = _LINES_AT_END.search(request)
    if utility not in ("head", "tail") or said is None:
        return False
    wanted = LINE_ENDS[said.group("end").lower()]
    if _REMOVING.search(request[:said.start()]):
        wanted = "tail" if wanted == "head" else "head"
    return utility != wanted


_FOLDER_WORDS = re.compile(r"\b(?:folders?|director(?:y|ies)|dirs?|subfolders?|subdirector(?:y|ies))\b", re.I)
_FILE_WORDS = re.compile(r"\bfiles?\b", re.I)


def entry_type(request: str, held: str) -> str:
    """`-type`'s argument as the request asks: `d` where it speaks of folders first, `f` where of files first
    ("all files under the src directory"), else the program's own (both at once: "files and directories")."""
    request = _WHERE_FOLDER.sub(" ", request)  # "the current directory", "the src directory tree": where, not what
    folders, files = _FOLDER_WORDS.search(request), _FILE_WORDS.search(request)
    if folders and files and re.search(rf"{_ENTRY_WORDS}\s*(?:/|,|\band\b|\bor\b|&)\s*{_ENTRY_WORDS}", request, re.I):
        return held
    if folders and (not files or folders.start() < files.start()):
        return "d"
    return "f" if files else held


_WHERE_FOLDER = re.compile(r"\b(?:current|this|working|home|parent|same|root|my|your)\s+(?:folder|directory|dir)\b|"
                           r"\b(?:folder|directory|dir)\s+(?:tree|structure|hierarchy)\b|"
                           r"\S*[/'\"`]\S*\s+(?:folder|directory|dir)\b|"
                           r"\b(?:folder|directory|dir)\s+\S*[/'\"`$~]\S*", re.I)
_ENTRY_WORDS = r"\b(?:files?|folders?|director(?:y|ies)|dirs?)\b"

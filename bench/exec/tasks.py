"""Everyday Bash tasks, written for this bench (none come from a data set): each a setup, a request and a check.

A task runs in a fresh empty folder (`/work` in the sandbox, HOME is `/work/home`): `setup` makes the files it
needs (and may `cd` into a folder it made), the candidate command runs once there (its output kept in $OUT, its exit status in $RC), then `check` decides,
exit 0 for a pass. Checks judge the outcome (files made, moved, changed; what was printed), not the command's
text, so any command that does what was asked passes. Helpers the checks may call (sandbox.py defines them):
`printed WORD` (the output holds WORD as a whole word), `printed_only WORD...` (every non-empty output line is
one of them, and each is printed), `lines N` (the output has N non-empty lines), `ok` (the command exited 0).
"""

from __future__ import annotations

from typing import NamedTuple


class Task(NamedTuple):
    setup: str
    request: str
    check: str
    area: str


def _t(area: str, setup: str, request: str, check: str) -> Task:
    return Task(setup, request, check, area)


AGED = "touch -d '5 days ago' old.log; touch -d '2 days ago' mid.log; touch new.log"
TREE = "mkdir -p src/lib docs; echo a > src/a.py; echo b > src/lib/b.py; echo c > docs/c.md; echo d > notes.txt"
TEXT = "printf 'apple 3\\nbanana 5\\ncherry 7\\napple 9\\n' > fruit.txt"
LOG = "printf 'INFO start\\nERROR disk full\\nINFO retry\\nERROR timeout\\nINFO done\\n' > app.log"
CSV = "printf 'name,age,city\\nann,31,oslo\\nbob,25,rome\\ncid,40,oslo\\n' > people.csv"
GIT = ("git init -q repo && cd repo && git config user.email t@t && git config user.name t && echo x > a.txt && "
       "git add a.txt && git commit -qm first && cd ..")

TASKS: list[Task] = [
    # -- files: find, list, copy, move, remove ---------------------------------------------------------------
    _t("files", AGED, "list files older than 3 days", "printed old.log && ! printed new.log && ! printed mid.log"),
    _t("files", AGED, "find files modified in the last 24 hours", "printed new.log && ! printed old.log"),
    _t("files", AGED, "delete files older than 4 days", "[ ! -e old.log ] && [ -e mid.log ] && [ -e new.log ]"),
    _t("files", "touch a.txt b.txt c.md", "list files", "printed a.txt && printed c.md"),
    _t("files", "touch a.txt b.txt c.md", "list all txt files", "printed a.txt && printed b.txt && ! printed c.md"),
    _t("files", "touch a.txt .hidden", "list all files including hidden ones", "printed .hidden && printed a.txt"),
    _t("files", "head -c 3000 /dev/zero > big.bin; echo x > small.txt", "list files sorted by size",
       "[ \"$(grep -n big.bin \"$OUT\" | cut -d: -f1)\" -lt \"$(grep -n small.txt \"$OUT\" | cut -d: -f1)\" ]"),
    _t("files", "echo hi > notes.txt", "show the contents of notes.txt", "printed hi"),
    _t("files", "echo hi > notes.txt", "copy notes.txt to backup.txt", "[ \"$(cat backup.txt)\" = hi ] && [ -e notes.txt ]"),
    _t("files", "echo hi > notes.txt", "rename notes.txt to todo.txt", "[ -e todo.txt ] && [ ! -e notes.txt ]"),
    _t("files", "echo {} > old.json; echo keep > new.json", "delete the file old.json",
       "[ ! -e old.json ] && [ -e new.json ]"),
    _t("files", "mkdir out; echo hi > notes.txt", "move notes.txt into out", "[ -e out/notes.txt ] && [ ! -e notes.txt ]"),
    _t("files", "mkdir in out; touch in/a.csv in/b.csv in/c.txt", "copy every .csv file from in to out",
       "[ -e out/a.csv ] && [ -e out/b.csv ] && [ ! -e out/c.txt ]"),
    _t("files", "mkdir in out; touch in/a.csv in/b.csv in/c.txt", "move all csv files from in to out",
       "[ -e out/a.csv ] && [ ! -e in/a.csv ] && [ -e in/c.txt ]"),
    _t("files", "touch a.tmp b.tmp c.txt", "remove all .tmp files", "[ ! -e a.tmp ] && [ ! -e b.tmp ] && [ -e c.txt ]"),
    _t("files", TREE, "find all python files", "printed a.py && printed b.py && ! printed c.md"),
    _t("files", TREE, "find all python files under src", "printed a.py && printed b.py"),
    _t("files", TREE, "find files named c.md", "printed c.md && ! printed a.py"),
    _t("files", TREE, "count the files under here", "printed 4"),
    _t("files", TREE, "count the directories under here", "printed 4 || printed 3"),
    _t("files", "head -c 30000000 /dev/zero > big.bin; echo x > small.txt", "find files bigger than 20MB",
       "printed big.bin && ! printed small.txt"),
    _t("files", "mkdir data; head -c 30000000 /dev/zero > data/big.bin; echo x > data/s.txt",
       "find files bigger than 20MB in data", "printed big.bin && ! printed s.txt"),
    _t("files", "head -c 3000 /dev/zero > a.bin; echo x > b.txt", "find files smaller than 2k",
       "printed b.txt && ! printed a.bin"),
    _t("files", "touch empty.txt; echo x > full.txt", "find empty files", "printed empty.txt && ! printed full.txt"),
    _t("files", "touch empty.txt; echo x > full.txt", "delete empty files", "[ ! -e empty.txt ] && [ -e full.txt ]"),
    _t("files", "echo x > a.txt", "create an empty file called todo.md", "[ -f todo.md ] && [ ! -s todo.md ]"),
    _t("files", "echo hi > a.txt", "make a symbolic link to a.txt named link.txt", "[ -L link.txt ]"),
    _t("files", "echo hi > notes.txt", "show the size of notes.txt", "printed 3 || printed 4.0K || printed 4"),
    _t("files", "echo hello > a.txt", "print the sha256 checksum of a.txt",
       "printed 5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"),
    _t("files", "echo hello > a.txt", "print the md5 checksum of a.txt", "printed b1946ac92492d2347c6235b4d2611184"),
    _t("files", "echo a > a.txt; echo b > b.txt", "compare a.txt and b.txt", "printed differ || (printed a && printed b)"),
    _t("files", "printf 'a\\nb\\n' > x.txt; printf 'a\\nc\\n' > y.txt", "show the differences between x.txt and y.txt",
       "printed b && printed c"),
    _t("files", "touch report.pdf", "show the type of report.pdf", "printed empty || printed report.pdf"),
    _t("files", TREE, "find all markdown files and delete them", "[ ! -e docs/c.md ] && [ -e src/a.py ]"),
    _t("files", "touch a.log b.log", "find all .log files and compress them with gzip", "[ -e a.log.gz ] && [ -e b.log.gz ]"),
    # -- folders -----------------------------------------------------------------------------------------------
    _t("folders", "", "make a directory called reports", "[ -d reports ]"),
    _t("folders", "", "create the folders a/b/c", "[ -d a/b/c ]"),
    _t("folders", "mkdir old", "remove the empty folder old", "[ ! -e old ]"),
    _t("folders", "mkdir -p build/x; touch build/x/y", "delete the folder build and everything in it", "[ ! -e build ]"),
    _t("folders", TREE, "copy the folder src to src2", "[ -e src2/lib/b.py ] && [ -e src/a.py ]"),
    _t("folders", "mkdir drafts", "rename the folder drafts to final", "[ -d final ] && [ ! -e drafts ]"),
    _t("folders", TREE, "show the disk usage of src", "printed src"),
    _t("folders", TREE, "show the total size of this folder", "printed . || printed total"),
    _t("folders", TREE, "list the directories here", "printed src && printed docs && ! printed notes.txt"),
    _t("folders", TREE, "show the directory tree", "printed src && printed lib"),
    _t("folders", "mkdir -p a/empty b; touch b/f", "find empty directories", "printed empty && ! printed b"),
    _t("folders", "mkdir -p a/empty b; touch b/f", "delete all empty directories", "[ ! -e a/empty ] && [ -e b/f ]"),
    _t("folders", TREE, "list files in src recursively", "printed a.py && printed b.py && ! printed c.md"),
    _t("folders", "", "print the current directory", "printed /work"),
    _t("folders", "mkdir -p x/y", "count the files in x", "printed 0 || printed 1"),
    # -- text: grep, sed, awk, sort, counts ----------------------------------------------------------------------
    _t("text", "printf 'a\\nb\\nc\\n' > notes.txt", "count the lines in notes.txt", "printed 3"),
    _t("text", "printf 'one two\\nthree\\n' > notes.txt", "count the words in notes.txt", "printed 3"),
    _t("text", LOG, "show the lines of app.log that contain ERROR", "lines 2 && printed full && printed timeout"),
    _t("text", LOG, "count the lines containing ERROR in app.log", "printed 2 && lines 1"),
    _t("text", LOG, "show lines of app.log without INFO", "lines 2 && ! printed INFO"),
    _t("text", LOG, "show the first 2 lines of app.log", "lines 2 && printed start"),
    _t("text", LOG, "show the last 3 lines of app.log", "lines 3 && printed done && ! printed start"),
    _t("text", LOG, "show the last line of app.log", "lines 1 && printed done"),
    _t("text", TEXT, "sort fruit.txt", "[ \"$(head -1 \"$OUT\")\" = 'apple 3' ]"),
    _t("text", TEXT, "sort the lines of fruit.txt in reverse order", "[ \"$(head -1 \"$OUT\")\" = 'cherry 7' ]"),
    _t("text", "printf 'b\\na\\nb\\n' > x.txt", "show the unique lines of x.txt", "lines 2"),
    _t("text", "printf 'b\\na\\nb\\n' > x.txt", "remove duplicate lines from x.txt", "lines 2 || [ \"$(wc -l < x.txt)\" -eq 2 ]"),
    _t("text", "printf 'b\\na\\nb\\n' > x.txt", "count how many times each line occurs in x.txt",
       "printed 2 && printed 1"),
    _t("text", TEXT, "print the first column of fruit.txt", "printed apple && ! printed 3"),
    _t("text", TEXT, "print the second column of fruit.txt", "printed 5 && ! printed apple"),
    _t("text", CSV, "print the second field of people.csv", "printed 31 && ! printed ann"),
    _t("text", TEXT, "replace apple with pear in fruit.txt", "grep -q pear fruit.txt && ! grep -q apple fruit.txt"),
    _t("text", TEXT, "search for banana in fruit.txt", "printed banana && lines 1"),
    _t("text", TREE + "; echo 'TODO fix' > src/lib/t.py", "search for TODO in all files under src", "printed t.py"),
    _t("text", TREE + "; echo 'TODO fix' > src/lib/t.py", "list the files that contain TODO",
       "printed src/lib/t.py && ! printed a.py"),
    _t("text", "printf 'Hello\\nhello\\n' > h.txt", "search for hello in h.txt ignoring case", "lines 2"),
    _t("text", TEXT, "print fruit.txt with line numbers", "printed 1 && printed 4 && printed cherry"),
    _t("text", "printf 'abc\\n' > x.txt", "convert x.txt to upper case", "printed ABC || grep -q ABC x.txt"),
    _t("text", "printf 'a\\n\\nb\\n\\n' > x.txt", "remove empty lines from x.txt", "lines 2 || [ \"$(grep -c . x.txt)\" = \"$(wc -l < x.txt)\" ]"),
    _t("text", "printf 'x\\n' > a.txt; printf 'y\\n' > b.txt", "join a.txt and b.txt into c.txt",
       "[ \"$(cat c.txt)\" = \"$(printf 'x\\ny')\" ]"),
    _t("text", "printf 'x\\n' > a.txt", "append the line done to a.txt", "[ \"$(tail -1 a.txt)\" = done ]"),
    _t("text", "", "write hello into greeting.txt", "grep -q hello greeting.txt"),
    _t("text", "printf 'a b c\\n' > x.txt", "count the characters in x.txt", "printed 6"),
    _t("text", LOG, "show line 3 of app.log", "lines 1 && printed retry"),
    _t("text", TEXT, "sum the numbers in the second column of fruit.txt", "printed 24"),
    _t("text", "printf 'a\\nb\\nc\\nd\\n' > x.txt", "print x.txt in reverse line order", "[ \"$(head -1 \"$OUT\")\" = d ]"),
    _t("text", "printf '3\\n10\\n2\\n' > n.txt", "sort n.txt numerically", "[ \"$(tail -1 \"$OUT\")\" = 10 ]"),
    _t("text", LOG, "show the lines of app.log that start with ERROR", "lines 2"),
    _t("text", "printf 'a\\tb\\n' > t.txt", "replace tabs with spaces in t.txt", "printed a || ! grep -qP '\\t' t.txt"),
    # -- archives ------------------------------------------------------------------------------------------------
    _t("archives", TREE, "create a tar.gz archive of src named src.tar.gz", "tar tzf src.tar.gz | grep -q a.py"),
    _t("archives", TREE + "; tar czf backup.tar.gz src; rm -r src", "extract backup.tar.gz", "[ -e src/lib/b.py ]"),
    _t("archives", TREE + "; tar czf backup.tar.gz src", "list the contents of backup.tar.gz", "printed src/a.py"),
    _t("archives", TREE + "; tar cf b.tar src; rm -r src; mkdir dest", "extract b.tar into dest", "[ -e dest/src/a.py ]"),
    _t("archives", "echo hello > a.txt", "compress a.txt with gzip", "[ -e a.txt.gz ]"),
    _t("archives", "echo hello > a.txt; gzip a.txt", "decompress a.txt.gz", "[ \"$(cat a.txt)\" = hello ]"),
    _t("archives", TREE, "make a zip of docs called docs.zip", "unzip -l docs.zip | grep -q c.md"),
    _t("archives", TREE + "; (zip -qr d.zip docs); rm -r docs", "unzip d.zip", "[ -e docs/c.md ]"),
    _t("archives", "echo hello > a.txt", "compress a.txt with xz", "[ -e a.txt.xz ]"),
    _t("archives", TREE + "; tar czf backup.tar.gz src", "show the files in backup.tar.gz", "printed src/lib/b.py"),
    # -- permissions ---------------------------------------------------------------------------------------------
    _t("permissions", "printf 'echo hi\\n' > backup.sh", "make backup.sh executable", "[ -x backup.sh ]"),
    _t("permissions", "echo x > a.txt", "set the permissions of a.txt to 600", "[ \"$(stat -c %a a.txt)\" = 600 ]"),
    _t("permissions", "echo x > a.txt; chmod 644 a.txt", "make a.txt read only", "[ \"$(stat -c %a a.txt)\" = 444 ] || [ \"$(stat -c %a a.txt)\" = 400 ] || [ \"$(stat -c %a a.txt)\" = 440 ]"),
    _t("permissions", "echo x > a.txt", "show the permissions of a.txt", "printed a.txt || printed 644 || printed -rw-r--r--"),
    _t("permissions", TREE + "; chmod 600 src/a.py src/lib/b.py", "make every file under src readable by everyone",
       "[ \"$(stat -c %A src/a.py | cut -c8)$(stat -c %A src/lib/b.py | cut -c8)\" = rr ]"),
    _t("permissions", "echo x > a.sh; chmod 755 a.sh", "remove execute permission from a.sh", "[ ! -x a.sh ] || [ \"$(stat -c %a a.sh)\" = 644 ]"),
    _t("permissions", "mkdir d; chmod 700 d", "give the folder d permissions 755", "[ \"$(stat -c %a d)\" = 755 ]"),
    _t("permissions", "touch a.sh b.sh c.txt", "make all .sh files executable", "[ -x a.sh ] && [ -x b.sh ] && [ ! -x c.txt ]"),
    _t("permissions", "touch a.sh; chmod 777 a.sh; touch b.sh", "find files with permission 777", "printed a.sh && ! printed b.sh"),
    _t("permissions", "touch a.sh; chmod 755 a.sh; touch b.txt", "find executable files", "printed a.sh && ! printed b.txt"),
    # -- processes and the system ---------------------------------------------------------------------------------
    _t("processes", "(sleep 300 &)", "kill all processes named sleep", "sleep 0.3; ! pgrep -x sleep >/dev/null"),
    _t("processes", "(sleep 300 &)", "list processes named sleep", "printed sleep || printed [0-9]*"),
    _t("processes", "", "show all running processes", "lines 2 || [ \"$(grep -c . \"$OUT\")\" -gt 1 ]"),
    _t("processes", "", "print the current date", "printed \"$(date +%Y)\""),
    _t("processes", "", "show how long the system has been up", "printed up || printed load"),
    _t("processes", "", "print the name of this machine", "lines 1"),
    _t("processes", "", "show the free disk space", "printed Filesystem || printed Avail || printed Size"),
    _t("processes", "", "show memory usage", "printed Mem || printed total"),
    _t("processes", "", "print the value of the HOME variable", "printed /work/home"),
    _t("processes", "", "print the current user name", "lines 1"),
    # -- git in a temporary repository ---------------------------------------------------------------------------
    _t("git", GIT, "show the git log of repo", "printed first"),
    _t("git", GIT + "; cd repo", "show the status of the git repository", "printed branch || printed clean"),
    _t("git", GIT + "; cd repo", "create a git branch called feature", "git branch | grep -q feature"),
    _t("git", GIT + "; cd repo", "list git branches", "printed master || printed main"),
    _t("git", GIT + "; cd repo; echo y > b.txt", "add b.txt to git", "git diff --cached --name-only | grep -q b.txt"),
    _t("git", GIT + "; cd repo; echo y > b.txt; git add b.txt", "commit with the message add b",
       "git log -1 --format=%s | grep -q 'add b'"),
    _t("git", GIT + "; cd repo; echo z >> a.txt", "show the changes not yet staged", "printed a.txt || printed +z"),
    _t("git", GIT + "; cd repo; echo z >> a.txt", "discard the changes to a.txt", "[ \"$(cat a.txt)\" = x ]"),
    _t("git", GIT + "; cd repo", "switch to a new branch called fix", "[ \"$(git branch --show-current)\" = fix ]"),
    _t("git", GIT + "; cd repo", "show the last commit", "printed first"),
    _t("git", "", "initialise a git repository in the folder proj", "[ -d proj/.git ]"),
    _t("git", GIT + "; cd repo; git tag v1", "list git tags", "printed v1"),
    # -- more files, with values in many shapes ------------------------------------------------------------------
    _t("files", "mkdir -p logs; touch logs/a.log logs/b.txt", "find all log files in logs", "printed a.log && ! printed b.txt"),
    _t("files", "mkdir -p /work/srv 2>/dev/null; touch srv/x", "list the files in srv", "printed x"),
    _t("files", TREE, "find files with the extension .md", "printed c.md && ! printed a.py"),
    _t("files", "touch 'my file.txt'", "delete the file named \"my file.txt\"", "[ ! -e 'my file.txt' ]"),
    _t("files", "echo x > a.txt", "copy a.txt into the folder backup", "[ -e backup/a.txt ] || [ -e backup ]"),
    _t("files", TREE, "count the python files under src", "printed 2"),
    _t("files", "touch a.JPG b.jpg c.png", "find jpg files ignoring case", "printed a.JPG && printed b.jpg && ! printed c.png"),
    _t("files", "seq 1 100 > n.txt", "show the first 5 lines of n.txt", "lines 5 && printed 5 && ! printed 6"),
    _t("files", "seq 1 100 > n.txt", "show lines 10 to 12 of n.txt", "lines 3 && printed 10 && printed 12"),
    _t("files", "seq 1 100 > n.txt", "split n.txt into files of 50 lines", "[ \"$(ls | grep -v n.txt | wc -l)\" -ge 2 ]"),
]

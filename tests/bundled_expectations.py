"""What the bundled model (cfgen/weights/default) is expected to answer: the one file to update when it is
retrained. test_bundled.py reads these; the unit tests never depend on them."""

# One request per language: the top answer must be valid code.
QUERIES = {
    "bash": "list files older than 3 days",
    "cf": "highlight cells greater than 100",
    "python": "reverse the list x",
}
# The bash request, piped through a fresh `cfgen` process: a find with an age test on the request's 3 days.
BASH_TOP_ANSWER = r"^find .*-[acm]time [+-]?3\b"
# CF: the network (default strength 1, from noise) writes a rule retrieval alone does not give.
CF_EDIT = ("highlight cells greater than 250", "GreaterThan(250)")
# CF: a request of two conditions, each written by the network, joined (README's example).
CF_JOINED = ("color cells greater than 10 and less than 50", "AND(GreaterThan(10), LessThan(50))")
# Python: the value the request names appears in the top answer.
PYTHON_VALUE = ("sort list `my_scores` in descending order", "my_scores")
# The languages whose retrieval uses the retrieval head.
RETRIEVAL_HEAD_LANGUAGES = {"bash"}
MAX_SIZE_BYTES = 40 * 2**20
# Bash: a retrieved program's file and folder (a page's `{{path/to/source.tar[.gz|.bz2|.xz]}}`, read as one
# placeholder) take the request's paths (README, "How it works").
BASH_VALUES = ("extract backup.tar into /srv", "tar xf backup.tar --directory /srv")
# Bash: requests whose names would pull retrieval toward other requests that say them ("app.log" toward app logs,
# TODO toward the `todo` tool), found by their plain text too (bash_values.with_places_as_words).
BASH_PLAIN = [("show the first 2 lines of app.log", "head -n 2 app.log"),
              ("replace TODO with DONE in notes.md", "sed -i 's/TODO/DONE/g' notes.md")]

"""How often the language guessed from a request (no --lang; cfgen/answering/language_guess.py) is the right one.

    python bench/language_guess.py [--model SPEC] [--data ../shared/data/codefusion]

Every dev request of the three benchmarks, the README's examples and 100 requests written for this bench: the share guessed right per language,
the share answered in the right language (an unsure guess is answered in Bash), and how many were unsure.
Prints a table and writes bench/results/language_guess.json.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from everyday_requests import EVERYDAY_BASH

from cfgen.training.data import benchmark_path, load_benchmark
from cfgen.model_files.hub import default_model_directory, resolve_model_directory
from cfgen.languages import language_names
from cfgen.pipeline import Pipeline

ROOT = Path(__file__).resolve().parents[1]
# 100 requests written for this bench (none from a data set): what people ask a command line for.
HAND_WRITTEN = [(request, "bash") for request in EVERYDAY_BASH + [
    "make a directory called reports", "go to the folder /srv", "stop the container named api",
    "find files bigger than 20MB in /data", "show which process listens on port 8080",
    "extract backup.tar.gz into /tmp", "show the first 5 lines of data.csv", "replace foo with bar in config.ini",
    "show hidden files in my home folder", "check whether the file /etc/hosts exists",
    "print the current date and time", "show the size of each subfolder", "create an empty file called todo.txt",
    "list the files in /var/log sorted by modification time"]] + [(request, "python") for request in [
    "reverse the list x", "sort the list by the key age", "sort dictionary `scores` by value",
    "read a json file into a dict", "check if a file exists in python", "convert a string to an integer",
    "remove duplicates from a list while keeping the order", "merge two dictionaries a and b",
    "get the current time as a string", "split a string on commas", "find the index of the largest value in a list",
    "flatten a list of lists", "read a csv file with pandas", "count the occurrences of each word in a string",
    "check if a string starts with a prefix", "join a list of strings with spaces", "get the keys of a dictionary",
    "convert a list to a set", "write a list to a text file, one item per line", "parse a date from a string",
    "make a dictionary from two lists", "get the last element of a list", "round a float to two decimals",
    "make every string in the list upper case", "filter the list to the even numbers", "open a url and read the page",
    "get the length of a string", "sum the values of a dictionary", "zip two lists into a list of tuples",
    "strip whitespace from every line of a file", "check if a key is in a dictionary",
    "sort a list of tuples by the second element", "turn a dataframe column into a list"]] + [
    (request, "cf") for request in [
    "highlight cells greater than 100", "color cells greater than 10 and less than 50",
    "highlight the values below zero", "color cells that say Shipped", "shade the biggest value in the column",
    "colour the rows where the amount is over 500", "highlight duplicate values", "highlight blank cells",
    "format cells that contain late", "highlight the top 3 scores", "shade the bottom 10 percent",
    "color scale for the prices", "add data bars to the sales column", "highlight values above average",
    "highlight cells that start with A", "highlight cells that end with .com", "mark errors in the column",
    "highlight scores between 60 and 80", "highlight cells not equal to 0", "color cells that do not contain US",
    "highlight the lowest price", "format the cells where stock is below 10 or price is above 80",
    "highlight names longer than 10 characters", "format values less than or equal to 5",
    "highlight cells equal to Done", "shade rows whose status is overdue", "highlight the maximum",
    "add icons to the ratings", "highlight values that are at least 75", "color negative numbers red",
    "highlight cells whose text is exactly Pending", "highlight the top 10 percent of sales",
    "format cells greater than the average"]]
README_EXAMPLES = [("list files older than 3 days", "bash"), ("highlight cells greater than 100", "cf"),
                   ("reverse the list x", "python"), ("show which process listens on port 8080", "bash"),
                   ("sort the list by the key age", "python")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "codefusion")
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "results" / "language_guess.json")
    args = parser.parse_args()

    pipeline = Pipeline.from_directory(resolve_model_directory(args.model) if args.model else default_model_directory())
    sets = {f"{lang} dev": [(pair.nl, lang) for pair in load_benchmark(benchmark_path(args.data, lang), "dev", lang)]
            for lang in language_names()}
    sets["README examples"] = README_EXAMPLES
    for lang in language_names():
        sets[f"hand-written {lang}"] = [(request, asked) for request, asked in HAND_WRITTEN if asked == lang]
    rows = {}
    for name, items in sets.items():
        guesses = pipeline.guess_languages([query for query, _ in items])
        rows[name] = {"requests": len(items),
                      "guessed": sum(g.lang == lang for g, (_, lang) in zip(guesses, items)) / len(items),
                      "answered_in": sum(g.answered_in == lang for g, (_, lang) in zip(guesses, items)) / len(items),
                      "unsure": sum(not g.sure for g in guesses) / len(items)}
    print(f"{'requests':<20}{'n':>6}{'guessed':>10}{'answered in':>13}{'unsure':>8}")
    for name, row in rows.items():
        print(f"{name:<20}{row['requests']:>6}{row['guessed']:>10.3f}{row['answered_in']:>13.3f}{row['unsure']:>8.3f}")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({"rows": rows}, indent=1))


if __name__ == "__main__":
    main()

"""Everyday Bash requests written for the benches (none from a data set): bench/prompt.py times them at the
prompt, bench/language_guess.py checks they are answered in Bash."""

EVERYDAY_BASH = [
    "list files older than 3 days", "count the lines in notes.txt", "show the disk usage of this folder",
    "find all python files below here", "delete empty directories", "show running processes of user bob",
    "compress the folder logs into logs.tar.gz", "print the last 20 lines of server.log",
    "search for the word error in all log files", "make the script run.sh executable",
    "copy report.pdf to the backup folder", "show free memory", "list the 10 largest files",
    "rename all .txt files to .md", "print my ip address", "kill the process listening on port 8080",
    "show the git log of the last week", "download https://example.com/file.zip",
    "sort the lines of names.txt and remove duplicates", "count the files in the current directory",
]

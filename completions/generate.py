"""Write the static shell-completion scripts from the typer app.

    python completions/generate.py

tests/test_cli.py fails when the committed scripts differ from what this writes.
"""

from pathlib import Path

FILES = {"bash": "cfgen.bash", "zsh": "_cfgen", "fish": "cfgen.fish"}


def scripts() -> dict[str, str]:
    from typer._completion_shared import get_completion_script

    return {
        FILES[shell]: get_completion_script(prog_name="cfgen", complete_var="_CFGEN_COMPLETE", shell=shell).strip() + "\n"
        for shell in FILES
    }


if __name__ == "__main__":
    here = Path(__file__).parent
    for name, text in scripts().items():
        (here / name).write_text(text)
        print(f"wrote {here / name}")

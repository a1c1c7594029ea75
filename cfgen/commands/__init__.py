"""One module per `cfgen` command, each a plain function that cli.py registers on the typer app. Options shared by
several commands are declared once in cli_options.py; the model code is imported inside each command, so that
`--help` and completion never import torch."""

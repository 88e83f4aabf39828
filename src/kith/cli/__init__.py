"""The command line (Typer + Rich): parse arguments, call actions, print."""

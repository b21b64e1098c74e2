"""The `iadsim` command line: one typer app, thin over the Python API."""

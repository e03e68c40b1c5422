"""The command-line face: Typer commands over the service functions of each capability."""

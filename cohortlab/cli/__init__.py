"""The command line. ``main`` is the entry point: it imports the commands itself, so that Ctrl-C while they
load (or at any moment of a run) ends with one line and exit code 130, never a traceback."""


def main() -> None:
    try:
        from cohortlab.cli.app import app

        app(prog_name="cohortlab")
    except KeyboardInterrupt:  # outside a command's own handling: while loading, or while typer parses
        import sys

        sys.stderr.write("interrupted\n")
        sys.exit(130)

"""The command line. ``main`` is the entry point: it imports the commands itself, so that Ctrl-C while they
load, while typer parses the arguments, or at any moment of a run ends with one line and exit code 130,
never a traceback."""

INTERRUPTED = 130  # 128 + SIGINT, as shells report a command stopped by Ctrl-C


def main() -> None:
    import sys

    try:
        from cohortlab.cli.app import app

        app(prog_name="cohortlab")
    except KeyboardInterrupt:  # while the commands load
        say_interrupted()
        sys.exit(INTERRUPTED)
    except SystemExit as exit:
        # Ctrl-C while typer parses the arguments (it loads its converters then): typer (or click) turns the
        # interrupt into an exit of its own; a command's own interrupt has said so already
        if _caused_by_interrupt(exit):
            say_interrupted()
            sys.exit(INTERRUPTED)
        raise


def _caused_by_interrupt(error: BaseException) -> bool:
    seen = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, KeyboardInterrupt):
            return True
        seen.add(id(error))
        error = error.__cause__ if error.__cause__ is not None else (
            None if error.__suppress_context__ else error.__context__)
    return False


def say_interrupted() -> None:
    """The one line an interrupted run prints (on stderr)."""
    import sys

    sys.stderr.write("interrupted\n")
    sys.stderr.flush()

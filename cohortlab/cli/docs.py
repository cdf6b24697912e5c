"""`cohortlab docs [TOPIC]`: the user documentation, shipped inside the package.

The pages are the repository's ``docs/*.md``. A wheel carries them as the package data
``cohortlab/docs/*.md`` (``pyproject.toml`` maps the folder into the package), so an installed
cohortlab can show them; a source checkout reads ``docs/`` beside the package.
"""

from __future__ import annotations

import sys
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Annotated

import typer

from cohortlab.cli.errors import user_errors, writing
from cohortlab.cli.options import DebugOption


def pages_folder() -> Traversable:
    """Where the pages are: the package data of an installed cohortlab, else a checkout's ``docs/``."""
    packaged = resources.files("cohortlab") / "docs"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "docs"


def pages() -> dict[str, Traversable]:
    """Topic (a page's file stem: ``data``, ``ci``…) -> its Markdown file, sorted by topic."""
    folder = pages_folder()
    found = {entry.name.removesuffix(".md"): entry for entry in folder.iterdir() if entry.name.endswith(".md")} \
        if folder.is_dir() else {}
    return dict(sorted(found.items()))


def title(page: Traversable) -> str:
    """A page's first heading, without its ``#``."""
    for line in page.read_text(encoding="utf-8").splitlines():
        if line.startswith("# "):
            return line[2:].strip()
    return ""


def page(topic: str) -> Traversable:
    """The page of a topic, also when written as a file name (``data.md``, ``docs/data.md``)."""
    from cohortlab.errors import InputError

    known = pages()
    if not known:
        raise InputError("the documentation pages are not installed with this copy of cohortlab",
                         hint="read them at https://github.com/cohortlab/cohortlab/tree/main/docs")
    name = topic.strip().removeprefix("docs/").removesuffix(".md").lower()
    if name not in known:
        raise InputError(f"no documentation page '{topic}'", hint=f"the topics are: {', '.join(known)}")
    return known[name]


def docs(
    topic: Annotated[str | None, typer.Argument(help="The page to show (default: list the topics).",
                                                show_default=False)] = None,
    debug: DebugOption = False,
) -> None:
    """Show a documentation page: formatted on a terminal, plain Markdown when piped."""
    with user_errors(debug):
        if topic is None:
            known = pages()
            width = max((len(name) for name in known), default=0)
            with writing("the topics to standard output"):
                for name, entry in known.items():
                    sys.stdout.write(f"  {name:<{width}}  {title(entry)}\n")
                sys.stdout.write("\nShow one with: cohortlab docs TOPIC\n")
            return
        text = page(topic).read_text(encoding="utf-8")
        from rich.console import Console

        console = Console()
        with writing("the page to standard output"):
            if console.is_terminal:
                from rich.markdown import Markdown

                console.print(Markdown(text))
            else:
                sys.stdout.write(text)
                sys.stdout.flush()

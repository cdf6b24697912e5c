"""Ctrl-C at any moment of a compare: exit code 130, one line, no output file, no temporary file.

Each test runs the real command line in a new process and delivers a real SIGINT to it at one
point of the run: while the commands load, while the data is checked, while DuckDB runs a query,
while the bootstrap runs, and while the report is written.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from faults import make_project, tables

# the process under test: a hook that sends SIGINT to itself at the moment under test, then the real entry point
DRIVER = textwrap.dedent('''
    import importlib.abc, os, signal, sys, threading

    moment = sys.argv[1]
    sys.argv = ["cohortlab", *sys.argv[2:]]

    def interrupt():
        os.kill(os.getpid(), signal.SIGINT)

    if moment == "loading":  # while the commands' modules load
        class Finder(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path, target=None):
                if name == "pandas":
                    interrupt()
                return None
        sys.meta_path.insert(0, Finder())
    elif moment == "checking":  # while the data is checked against the contract
        import cohortlab.data.duckdb_source as source
        original = source.check_contract
        def checking(*args, **kwargs):
            interrupt()
            return original(*args, **kwargs)
        source.check_contract = checking
    elif moment == "query":  # while DuckDB runs a long query
        import cohortlab.data.duckdb_source as source
        original = source.check_contract
        def querying(db, *args, **kwargs):
            threading.Timer(0.3, interrupt).start()
            db.con.execute("SELECT count(*) FROM range(100000000000) t(i) WHERE i % 7 = 3").fetchall()
            return original(db, *args, **kwargs)
        source.check_contract = querying
    elif moment == "bootstrap":  # while the bootstrap replicates run
        import cohortlab.engine.estimates as build
        original = build.estimate_replicates
        def replicating(*args, **kwargs):
            threading.Timer(0.3, interrupt).start()
            return original(*args, **kwargs)
        build.estimate_replicates = replicating
    elif moment == "renaming":  # between the renames of the two outputs into place
        import cohortlab.outputs as outputs
        real, calls = os.replace, []
        def replacing(source, target):
            calls.append(target)
            if len(calls) == 2:
                interrupt()
            real(source, target)
        outputs.os.replace = replacing
    elif moment == "writing":  # halfway through writing the report
        from cohortlab.report.render import RENDERERS
        def half(reports, stream, color):
            stream.write('{"schema_version": 1, ')
            stream.flush()
            interrupt()
            stream.write("never")
        RENDERERS["json"] = half

    from cohortlab.cli import main
    main()
''')


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    return make_project(tmp_path_factory.mktemp("interrupts") / "project", tables())


@pytest.mark.parametrize("moment", ["loading", "checking", "query", "bootstrap", "writing"])
def test_interrupt_exits_130_with_one_line_and_no_output(project, tmp_path, moment):
    output, weights = tmp_path / "report.json", tmp_path / "weights.csv"
    replicates = "20000" if moment == "bootstrap" else "100"  # long enough for the signal to land inside it
    run = subprocess.run([sys.executable, "-c", DRIVER, moment, "compare", str(project.experiment), "--format",
                          "json", "--output", str(output), "--weights", str(weights), "--replicates", replicates],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 130, run.stderr
    assert run.stderr == "interrupted\n"
    assert run.stdout == ""
    assert list(tmp_path.iterdir()) == []  # no report, no weights, no temporary file


def test_interrupt_while_validate_loads(project):
    run = subprocess.run([sys.executable, "-c", DRIVER, "loading", "validate", "--check-data", str(project.root)],
                         capture_output=True, text=True, timeout=120)
    assert (run.returncode, run.stderr, run.stdout) == (130, "interrupted\n", "")


def test_without_interrupt_the_driver_runs_to_the_end(project, tmp_path):
    """The driver itself changes nothing but the moment of the signal: without one the run completes."""
    output = tmp_path / "report.json"
    run = subprocess.run([sys.executable, "-c", DRIVER, "none", "compare", str(project.experiment), "--format",
                          "json", "--output", str(output)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert output.read_text().startswith('{\n  "schema_version": 1')


def test_any_exception_while_a_query_waits_stops_the_query_first():
    """A timeout's signal (here SIGALRM raising TimeoutError) while a long query runs: the query is stopped
    before the error goes on, so the connection is free at once for the next query."""
    import signal
    import time

    import duckdb

    from cohortlab.data.source import Connection

    def timeout(signum, frame):
        raise TimeoutError("too slow")

    connection = Connection(duckdb.connect(), {})
    previous = signal.signal(signal.SIGALRM, timeout)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.3)
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            connection.execute("SELECT count(*) FROM range(100000000000) t(i) WHERE i % 7 = 3").fetchall()
        assert time.monotonic() - started < 10  # the query alone runs for minutes
        assert connection.execute("SELECT 42").fetchall() == [(42,)]
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        connection.close()


def test_a_failed_comparison_leaves_no_connection_behind(tmp_path):
    """The data's worker thread ends with its connection, also when the comparison fails (a notebook keeps
    the error, and would keep one thread per failed run)."""
    import threading

    import numpy as np

    import cohortlab
    from cohortlab.errors import DataError

    data = tables()
    revenue = data["revenue"].copy()
    revenue.loc[revenue.index[0], "amount"] = np.nan
    project = make_project(tmp_path / "project", {**data, "revenue": revenue})
    before = {thread for thread in threading.enumerate() if thread.name == "cohortlab-query"}
    errors = []
    for _ in range(3):
        with pytest.raises(DataError) as caught:
            cohortlab.compare(project.experiment)
        errors.append(caught.value)
    started = {thread for thread in threading.enumerate() if thread.name == "cohortlab-query"} - before
    for thread in started:
        thread.join(5)
    assert len(errors) == 3 and not [thread for thread in started if thread.is_alive()]


def test_the_interpreter_exits_while_another_thread_runs_a_query():
    """A query still running on another thread at exit is interrupted, not waited for (minutes)."""
    code = textwrap.dedent('''
        import threading, time, duckdb
        from cohortlab.data.source import Connection
        connection = Connection(duckdb.connect(), {})
        def long():
            try:
                connection.execute("SELECT count(*) FROM range(100000000000) t(i) WHERE i % 7 = 3").fetchall()
            except BaseException:
                pass
        threading.Thread(target=long, daemon=True).start()
        time.sleep(0.5)
        print("done")
    ''')
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert (run.returncode, run.stdout, run.stderr) == (0, "done\n", "")


def test_interrupt_between_the_two_renames_leaves_both_outputs_whole(project, tmp_path):
    """Ctrl-C as the second output is renamed into place: it waits until both are there, never one of two."""
    import json

    output, weights = tmp_path / "report.json", tmp_path / "weights.csv"
    run = subprocess.run([sys.executable, "-c", DRIVER, "renaming", "compare", str(project.experiment), "--format",
                          "json", "--output", str(output), "--weights", str(weights), "--replicates", "100"],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 130 and run.stderr == "interrupted\n"
    report = json.loads(output.read_text())
    cohorts = report["cohorts"]
    assert len(weights.read_text().splitlines()) == 1 + cohorts["treatment"]["accounts"] + cohorts["baseline"]["accounts"]
    assert sorted(path.name for path in tmp_path.iterdir()) == ["report.json", "weights.csv"]

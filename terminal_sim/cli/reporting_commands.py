"""``pos-sim explain``, ``pos-sim report`` and ``pos-sim studio``: looking at runs.

==========================================  ==============================================
command                                     what it does
==========================================  ==============================================
``explain RUN_DIR [--finding N]             the causal chain of the findings (or of
[--lang en|zh-CN]``                         finding N, 1-based as in the report), in
                                            sentences a trainer can read out
``report RUN_DIR [-o FILE] [--lang ...]``   (re)write the self-contained ``report.html``
                                            of a run from its artifacts
``studio [--port 8000] [--profile P]        the trainer's page on 127.0.0.1: one live
[--seed N] [--replay RUN_DIR]               terminal, or a replay of RUN_DIR; the URL is
[--speed X] [--out DIR]``                   the first line on stdout (``--port 0``: any
                                            free port, for scripts and tests)
==========================================  ==============================================

Each takes ``--lang en|zh-CN`` (default: the locale's language, English for ``C``):
:mod:`terminal_sim.cli.lang_option`.

Exit codes as in the rest of ``pos-sim``: 0 done, 2 bad input (not a run directory, a
finding number out of range, a port in use), with a one-line message on stderr.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

import click

from terminal_sim.cli.exit_codes import cli_errors as _errors
from terminal_sim.cli.lang_option import lang_option
from terminal_sim.errors import ConfigurationError

__all__ = ["explain", "report", "studio"]



@click.command("explain")
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.option("--finding", "-f", "number", type=int, metavar="N",
              help="Tell only finding N (1-based, as numbered in report.html).")
@lang_option("the story")
def explain(run_dir: Path, number: int | None, lang: str) -> None:
    """Tell the causal chain of RUN_DIR's findings in plain words.

    What happened, in order, with times (calendar time and virtual time since the start
    of the run); where paper and books part; what the customer holds against what the
    journal, the host ledger and the back office say; and the fault or crash point that
    caused it. Alike findings are told once, with their count.
    """
    from terminal_sim.reporting.explain import explain_text
    from terminal_sim.reporting.run_view import load_run_dir

    with _errors():
        view = load_run_dir(run_dir)
        click.echo(explain_text(view, finding=number, lang=lang), nl=False)


@click.command("report")
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the page (default: RUN_DIR/report.html).")
@lang_option("the page")
def report(run_dir: Path, output: Path | None, lang: str) -> None:
    """Write RUN_DIR's report.html from its artifacts (self-contained: open it from disk)."""
    from terminal_sim.reporting.report_html import render_report_html, write_report_html
    from terminal_sim.reporting.run_view import load_run_dir

    with _errors():
        if output is None:
            target = write_report_html(run_dir, lang=lang)
        else:
            target = output
            target.write_text(render_report_html(load_run_dir(run_dir), lang=lang),
                              encoding="utf-8")
        click.echo(str(target))


def _profile_names() -> list[str]:
    from terminal_sim.core.profiles import PROFILES

    return sorted(PROFILES)


@click.command("studio")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True,
              help="Port on 127.0.0.1 (0: any free one).")
@click.option("--profile", default="naive", show_default=True,
              help="Firmware profile of the live terminal: naive or robust.")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True,
              help="Seed of the live terminal's world.")
@click.option("--replay", "replay_dir", type=click.Path(path_type=Path),
              help="Step through this run directory instead of a live terminal.")
@click.option("--speed", type=click.FloatRange(min=0), default=1.0, show_default=True,
              help="Virtual seconds per real second (0: the clock moves only when told).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="On exit, write the live session's artifacts and report.html here "
                   "(missing, empty or a previous run directory; anything else is refused).")
@click.option("--max-connections", type=click.IntRange(min=1), default=32, show_default=True,
              help="Connections served at once, one thread each; more get 503.")
@lang_option("the page and its stories")
@click.option("--request-timeout", type=click.FloatRange(min=0, min_open=True), default=10.0,
              show_default=True,
              help="Seconds a request may take to arrive (or a kept-alive connection may "
                   "stay silent) before the connection is closed.")
def studio(port: int, profile: str, seed: int, replay_dir: Path | None, speed: float,
           out_dir: Path | None, max_connections: int, request_timeout: float,
           lang: str) -> None:
    """Serve the trainer's page: one terminal, its paper and its books, in a browser.

    Customer and operator controls, fault switches (cold weather, pull the plug, break
    the sync, tonight's update, paper out, a power dip at a crash point), the state
    diagram with the current state lit, the receipt roll as it prints, the journal, host
    and back-office panes and the findings as they appear. Listens on 127.0.0.1 only;
    the first line on stdout is the URL. Stop with Ctrl+C.
    """
    from terminal_sim.studio.server import StudioServer

    with _errors():
        make: Callable[[], Any]
        if replay_dir is not None:
            from terminal_sim.studio.replay import Replay

            def make() -> Any:
                return Replay(replay_dir, speed=speed, lang=lang)
        else:
            if profile not in _profile_names():
                raise ConfigurationError(f"unknown profile {profile!r}; known: "
                                         f"{', '.join(_profile_names())}")
            from terminal_sim.harness.out_dir import check_replaceable
            from terminal_sim.harness.run import RUN_OUTPUT
            from terminal_sim.studio.live import LiveTerminal

            if out_dir is not None:  # refused now, not when the session is saved
                check_replaceable(out_dir, RUN_OUTPUT)

            def make() -> Any:
                return LiveTerminal(profile=profile, seed=seed, speed=speed, out_dir=out_dir,
                                    lang=lang)
        try:
            server = StudioServer(make, port=port, max_connections=max_connections,
                                  request_timeout=request_timeout)
        except OSError as exc:
            raise ConfigurationError(f"cannot listen on 127.0.0.1:{port}: {exc.strerror}"
                                     ) from exc
        click.echo(server.url)
        sys.stdout.flush()
        from terminal_sim.reporting.i18n import Catalogue

        _ = Catalogue(lang)
        what = (_("replay of {run_dir}", run_dir=replay_dir) if replay_dir is not None
                else _("a {profile} terminal, seed {seed}", profile=profile, seed=seed))
        click.echo(_("studio: {what}, clock at {speed}x; Ctrl+C stops", what=what,
                     speed=f"{speed:g}"), err=True)
        with _stop_on(signal.SIGTERM):
            try:
                server.serve_forever()
            except KeyboardInterrupt:
                pass
            finally:
                written = server.shutdown(finish=_save)
                if written is not None:
                    click.echo(_("studio: session saved in {path}", path=written), err=True)


def _save(studio: Any) -> Any:
    """A live terminal writes its session (when it has --out); a replay has nothing to."""
    save = getattr(studio, "save", None)
    return save() if callable(save) else None


@contextmanager
def _stop_on(signum: int) -> Iterator[None]:
    """Let ``signum`` stop the server the way Ctrl+C does (so it shuts down cleanly)."""

    def interrupt(_signum: int, _frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous: Callable[[int, FrameType | None], Any] | int | None = None
    try:
        previous = signal.signal(signum, interrupt)
    except ValueError:  # not the main thread: leave signals alone
        previous = None
    try:
        yield
    finally:
        if previous is not None:
            signal.signal(signum, previous)

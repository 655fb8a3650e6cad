"""Running a Typer app so that every radswift error becomes one message and an exit code."""

from __future__ import annotations

import sys

import typer

from radswift.errors import RadswiftError, TransferError


def run_app(app: typer.Typer, argv: list[str] | None = None) -> int:
    """Run `app`; map RadswiftError to a message on stderr and its exit code, never a traceback."""
    try:
        app(args=argv, standalone_mode=False)
    except RadswiftError as err:
        report_error(err)
        return err.exit_code
    except typer.Abort:
        typer.echo("aborted", err=True)
        return 130
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        return 130
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except Exception as exc:  # click's usage errors come here in non-standalone mode
        from click.exceptions import ClickException, Exit

        if isinstance(exc, Exit):
            return exc.exit_code
        if isinstance(exc, ClickException):
            exc.show()
            return exc.exit_code
        raise
    return 0


def report_error(err: RadswiftError) -> None:
    """One line saying what went wrong, plus the failed files of a transfer."""
    typer.echo(f"radswift: error: {err.message}", err=True)
    if isinstance(err, TransferError):
        for path, reason in err.failures[:50]:
            typer.echo(f"  {path}: {reason}", err=True)
        if len(err.failures) > 50:
            typer.echo(f"  ... and {len(err.failures) - 50} more", err=True)
    sys.stderr.flush()

"""Running a Typer app so that every radswift error becomes one message and an exit code."""

from __future__ import annotations

import sys

import typer

from radswift.errors import RadswiftError, TransferError


def run_app(app: typer.Typer, argv: list[str] | None = None) -> int:
    """Run `app`; map RadswiftError to a message on stderr and its exit code, never a traceback."""
    try:
        # Without standalone mode, click hands back a raised typer.Exit(N) (and typer a
        # Ctrl-C, as Exit(130)) as the return value: that is the exit code.
        code = app(args=argv, standalone_mode=False)
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
    except typer.Exit as exc:
        return exc.exit_code
    except typer.TyperException as exc:  # usage errors: bad option, missing argument
        return _report_usage_error(exc)
    except Exception as exc:  # a plain click usage error, when click itself is used
        from click.exceptions import ClickException, Exit

        if isinstance(exc, Exit):
            return exc.exit_code
        if isinstance(exc, ClickException):
            return _report_usage_error(exc)
        raise
    if isinstance(code, int) and not isinstance(code, bool):
        if code == 130:
            typer.echo("interrupted", err=True)
        return code
    return 0


def _report_usage_error(exc: Exception) -> int:
    show = getattr(exc, "show", None)
    if callable(show):
        show()
    else:
        typer.echo(f"radswift: error: {exc}", err=True)
    code = getattr(exc, "exit_code", 2)
    return code if isinstance(code, int) else 2


def report_error(err: RadswiftError) -> None:
    """One line saying what went wrong, plus the failed files of a transfer."""
    typer.echo(f"radswift: error: {err.message}", err=True)
    if isinstance(err, TransferError):
        for path, reason in err.failures[:50]:
            typer.echo(f"  {path}: {reason}", err=True)
        if len(err.failures) > 50:
            typer.echo(f"  ... and {len(err.failures) - 50} more", err=True)
    sys.stderr.flush()

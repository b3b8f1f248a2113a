"""`workbench web`: the Gradio web UI (Arena, Run, Results, History, Stacks)."""

from __future__ import annotations

from pathlib import Path

import typer

from workbench.cli.app import app, fail


@app.command("web")
def web_command(
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to bind (non-loopback "
                             "needs --auth-user/--auth-password)."),
    port: int = typer.Option(7860, "--port", help="TCP port."),
    auth_user: str = typer.Option(None, "--auth-user", envvar="WORKBENCH_WEB_USER",
                                  help="Login username (env WORKBENCH_WEB_USER)."),
    auth_password: str = typer.Option(None, "--auth-password", envvar="WORKBENCH_WEB_PASSWORD",
                                      help="Login password (env WORKBENCH_WEB_PASSWORD).",
                                      show_default=False),
    db: Path = typer.Option(None, "--db", help="Results database (default: the settings')."),
) -> None:
    """Serve the web UI on http://HOST:PORT (no public share link is ever created)."""
    # why here: the web UI imports Gradio (heavy, and only this command needs it)
    import gradio as gr

    from workbench.web.app import AuthRequiredError, build_app, check_auth, launch_app
    from workbench.web.common import WebConfig

    try:
        auth = check_auth(host, auth_user, auth_password)
    except AuthRequiredError as exc:
        raise fail(str(exc)) from exc
    typer.echo(f"workbench web UI on http://{host}:{port}"
               + (" (login required)" if auth else "") + "; Ctrl-C to stop")


    try:
        demo = build_app(WebConfig(db=db))
    except gr.Error as exc:  # e.g. a corrupt results database: its message names the file
        raise fail(str(exc.message)) from exc
    try:
        launch_app(demo, host=host, port=port, auth=auth)
    except OSError as exc:  # port taken, host not bindable
        raise fail(f"cannot serve on {host}:{port}: {exc}") from exc

"""`loginbot chat`: the terminal channel.

Two modes. On a terminal: a rich, interactive chat with numbered choices and completion that narrows
the list as you type (prompt_toolkit). Otherwise (a pipe, another program): line mode, one user
message per input line; the replies to each message are printed and flushed, followed by one empty
line, so that a program can hold the conversation. The channel only translates: text in, replies out.

On a real tenant (`LOGINBOT_BACKEND=wxcc`) the user first proves their email with a six-digit code
sent to it (`identity.py`, S14). In line mode that is part of the same protocol: the "code sent" line
ends a turn, the code is the next input line, and the confirmation opens the greeting's turn.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, TextIO
from urllib.parse import urlsplit

from bot.assistant import Assistant, Replies
from bot.channels.render import plain_lines
from bot.channels.terminal.goodbye import farewell, is_goodbye
from bot.channels.terminal.identity import prove_email
from bot.channels.terminal.window import Window, terminal_catalog
from bot.flow.replies import Reply, ReplyKind
from bot.identity import EmailVerifier, normalize_email
from bot.progress import Progress
from storage import ConversationKey

if TYPE_CHECKING:
    from rich.console import Console

log = logging.getLogger(__name__)

CHANNEL = "terminal"
WORKSPACE = "local"


def conversation_key(email: str) -> ConversationKey:
    return ConversationKey(CHANNEL, WORKSPACE, normalize_email(email) or email.strip().casefold())


def looks_like_email(text: str) -> bool:
    """One valid address: a line with a NUL, a control character or bytes that are not UTF-8 is not."""
    return normalize_email(text) is not None


def _shown(text: str) -> str:
    """What the user typed, fit to be echoed: printable, short."""
    printable = "".join(ch if ch.isprintable() else "?" for ch in text[:80])
    return printable.encode("utf-8", "replace").decode("utf-8")


# --- line mode ---------------------------------------------------------------------------------------


def _print_turn(replies: list[Reply], out: TextIO, lead: list[str] | None = None) -> None:
    for line in lead or []:
        out.write(line + "\n")
    for reply in replies:
        for line in plain_lines(reply):
            out.write(line + "\n")
    out.write("\n")
    out.flush()


async def _prove_in_line_mode(
    verifier: EmailVerifier, email: str, language: str | None, stdin: TextIO, out: TextIO
) -> tuple[int | None, list[str]]:
    """The code step as turns: (None, lines to print before the greeting) once proven, else the exit
    code (0 at the end of input, 1 when the code could not be sent or checked)."""
    pending: list[str] = []
    ended = False

    async def ask() -> str | None:
        nonlocal ended
        _print_turn([], out, pending)
        pending.clear()
        line = stdin.readline()
        if not line:
            ended = True
            return None
        return line.rstrip("\r\n")

    if await prove_email(verifier, email, language, ask=ask, say=pending.append):
        return None, pending
    if ended:
        return 0, []
    _print_turn([], out, pending)
    return 1, []


async def run_line_mode(
    assistant: Assistant,
    email: str | None,
    language: str | None,
    stdin: TextIO,
    out: TextIO,
    verifier: EmailVerifier | None = None,
) -> int:
    """Read messages line by line until end of input. Without `--user`, the first line is the email.
    With a `verifier` (a real tenant), the email is proven by a code before the conversation."""
    if email is None:
        first = stdin.readline()
        if not first:
            return 0
        email = first.strip()
    if not looks_like_email(email):
        out.write(terminal_catalog().text(language, "not_an_email", email=_shown(email)) + "\n")
        out.flush()
        return 2
    lead: list[str] = []
    if verifier is not None:
        code, lead = await _prove_in_line_mode(verifier, email, language, stdin, out)
        if code is not None:
            return code
    window = Window(assistant, conversation_key(email), language, progress=_progress_line(out))
    _print_turn(await window.open(), out, lead)
    for line in stdin:
        text = line.rstrip("\r\n")
        if is_goodbye(text):
            _print_turn([farewell(window.shown, window.shown.language or language)], out)
            return 0
        _print_turn(await window.handle(text), out)
    return 0


def _progress_line(out: TextIO) -> Progress:
    """A slow call in line mode: one line saying what is under way, as part of the turn's output
    (the outcome follows, then the empty line that ends the turn)."""

    @contextlib.asynccontextmanager
    async def show(reply: Reply) -> AsyncIterator[None]:
        for line in plain_lines(reply):
            out.write(line + "\n")
        out.flush()
        yield

    return show


# --- interactive mode --------------------------------------------------------------------------------

_STYLE = {
    ReplyKind.ERROR: "yellow",
    ReplyKind.FAILURE: "bold red",
    ReplyKind.SUCCESS: "bold green",
    ReplyKind.SUMMARY: "bold cyan",
    ReplyKind.PROMPT: "bold",
    ReplyKind.INFO: "",
}


async def run_interactive(
    assistant: Assistant, email: str | None, language: str | None, verifier: EmailVerifier | None = None
) -> int:
    from prompt_toolkit import PromptSession
    from prompt_toolkit.completion import FuzzyWordCompleter
    from rich.console import Console
    from rich.padding import Padding
    from rich.table import Table
    from rich.text import Text

    from bot.channels.terminal.documents import render_document

    console = Console()
    session: PromptSession[str] = PromptSession()

    def show(replies: list[Reply]) -> None:
        # Text objects, not markup: a user's or a tenant's text may contain [brackets].
        for reply in replies:
            if reply.document is not None:  # a checklist or a report, laid out (the text has it all too)
                console.print(Text("loginbot ›", style="cyan"))
                console.print(Padding(render_document(reply.document), (0, 0, 0, 2)))
            else:
                console.print(Text.assemble(("loginbot › ", "cyan"), (reply.text, _STYLE[reply.kind])))
            if reply.fields:
                table = Table(show_header=False, box=None, padding=(0, 2))
                for label, value in reply.fields.items():
                    table.add_row(Text(label, style="dim"), Text(value))
                console.print(table)
            for index, choice in enumerate(reply.choices, start=1):
                console.print(Text.assemble(("   " + str(index), "bold magenta"), ". " + choice.label))

    console.print(
        "[bold]loginbot[/bold] — sign in to your contact-center station. [dim]Ctrl-D to quit.[/dim]"
    )
    while email is None or not looks_like_email(email):
        try:
            typed = await session.prompt_async("Your work email: ")
        except (EOFError, KeyboardInterrupt):
            return 0
        email = typed.strip() or None
    if verifier is not None:

        async def ask_code() -> str | None:
            try:
                return await session.prompt_async("Code: ")
            except (EOFError, KeyboardInterrupt):
                return None

        def say(text: str) -> None:
            console.print(Text.assemble(("loginbot › ", "cyan"), text))

        if not await prove_email(verifier, email, language, ask=ask_code, say=say):
            return 1
    window = Window(assistant, conversation_key(email), language, progress=_spinner(console))
    show(await window.open())
    while True:
        labels = [c.label for r in window.shown for c in r.choices]
        completer = FuzzyWordCompleter(labels) if labels else None
        try:
            text = await session.prompt_async("you › ", completer=completer, complete_while_typing=True)
        except KeyboardInterrupt:
            continue
        except EOFError:
            return _leave(console, window.shown, language)
        if is_goodbye(text):
            return _leave(console, window.shown, language)
        show(await window.handle(text))


def _leave(console: Console, shown: Replies, language: str | None) -> int:
    """Ctrl-D or a goodbye: the last line, saying that answers given so far are kept."""
    from rich.text import Text

    bye = farewell(shown, shown.language or language)
    console.print(Text.assemble(("loginbot › ", "cyan"), (bye.text, "dim")))
    return 0


def _spinner(console: Console) -> Progress:
    """A slow call on a terminal: a spinner with what is under way, gone once the outcome is shown."""

    @contextlib.asynccontextmanager
    async def show(reply: Reply) -> AsyncIterator[None]:
        from rich.text import Text

        with console.status(Text(reply.text), spinner="dots"):
            yield

    return show


@contextlib.contextmanager
def oauth_callback(assistant: Assistant) -> Iterator[None]:
    """On a real tenant the user proves who they are by the contact center's own sign-in (S14): the
    terminal listens on the redirect URI (loopback) while the chat runs, for the browser to come back."""
    oauth = getattr(assistant.backend, "oauth", None)
    if oauth is None:
        yield
        return
    from bot.backend.wxcc.callback import serve_callback

    with serve_callback(oauth, host=urlsplit(oauth.redirect_uri).hostname or "127.0.0.1"):
        yield


async def run_chat(
    assistant: Assistant, email: str | None, language: str | None, verifier: EmailVerifier | None = None
) -> int:
    """The chat; with a `verifier` (a real tenant), the email is proven by a code first (S14)."""
    try:
        with oauth_callback(assistant):
            if sys.stdin.isatty() and sys.stdout.isatty():
                return await run_interactive(assistant, email, language, verifier)
            return await run_line_mode(assistant, email, language, sys.stdin, sys.stdout, verifier)
    except OSError as error:
        print(f"loginbot could not listen for the contact center's sign-in: {error}")
        return 1
    except Exception:
        log.exception("the terminal chat stopped")
        print("loginbot stopped after an unexpected error. Your conversation is saved: run it again.")
        return 1
    finally:
        await assistant.aclose()

"""Where `email` steps read: an SMTP sink started for the run, a folder of messages, or an IMAP mailbox.

A scenario names one with `mailbox:`:

- `mailbox: smtp` (or `{smtp: PORT}`): an SMTP server on 127.0.0.1 (aiosmtpd) for the run; its address is
  `${mailbox.host}` / `${mailbox.port}` / `${mailbox.smtp}`, and an embedded portal is told to send there;
- `mailbox: {folder: PATH}`: a Maildir, a folder of `.eml` files, or the files a web framework's file
  e-mail back-end writes (Django's: several messages per file, separated by a line of 79 dashes);
- `mailbox: {imap: {host, port, user, password, folder, ssl}}`: a real mailbox (stdlib imaplib; the password
  a secret variable).

Messages already there when the run starts are not this run's: only later ones are offered to `email` steps,
in the order they arrived, each to one step.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import imaplib
import re
import socket
import threading
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from email.message import EmailMessage
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, Protocol

from . import model as M
from .variables import Context

MAX_MESSAGE_BYTES = 10 * 1024 * 1024  # a confirmation e-mail is a few KB; ten megabytes is already absurd
MAX_MESSAGES = 500  # kept per run: a site that mails in a loop cannot fill the memory
DJANGO_SEPARATOR = re.compile(rb"\r?\n-{79}\r?\n")


class MailboxUnavailable(RuntimeError):
    """The mailbox cannot be opened or read; the message is one line naming it."""


class _Text(HTMLParser):
    """An HTML body's visible text and its links' addresses."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.links: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "head"):
            self._skip += 1
        if tag == "a":
            self.links += [v for k, v in attrs if k == "href" and v]
        if tag in ("br", "p", "div", "tr", "li", "h1", "h2", "h3"):
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "head") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


@dataclass
class Message:
    """One received message, parsed once."""

    raw: bytes
    sender: str
    to: list[str]
    subject: str
    date: str
    text: str  # the plain part, or the HTML part's text
    html: str | None
    links: list[str] = field(default_factory=list)

    @classmethod
    def parse(cls, raw: bytes, envelope_to: list[str] | None = None) -> Message:
        msg: EmailMessage = email.message_from_bytes(raw, policy=email.policy.default)
        plain = msg.get_body(preferencelist=("plain",))
        rich = msg.get_body(preferencelist=("html",))
        html = _content(rich) if rich is not None else None
        text = _content(plain) if plain is not None else ""
        links: list[str] = []
        if html is not None:
            parser = _Text()
            parser.feed(html)
            links = parser.links
            if not text:
                text = re.sub(r"[ \t]+", " ", "".join(parser.parts)).strip()
        links += [u for u in re.findall(r"https?://[^\s<>\"']+", text) if u not in links]
        # The header's recipients, then the envelope's (Bcc), each once: a To header may hold several.
        header = [a for field in msg.get_all("to") or [] for a in getattr(field, "addresses", ())]
        known = {a.addr_spec.lower() for a in header}
        to = [str(a) for a in header] + [e for e in dict.fromkeys(envelope_to or []) if e.lower() not in known]
        return cls(raw, str(msg.get("from", "")), to, str(msg.get("subject", "")), str(msg.get("date", "")), text, html, links)

    def masked(self, mask: Any) -> Message:
        """A copy with every secret masked (`mask`: str -> str), its raw form rebuilt from the masked parts, so
        a kept .eml holds no secret in any transfer encoding."""
        msg: EmailMessage = email.message_from_bytes(self.raw, policy=email.policy.default)
        for part in msg.walk():
            if part.is_multipart():
                continue
            if part.get_content_maintype() == "text":
                subtype = part.get_content_subtype()
                disposition = part.get("Content-Disposition")
                part.set_content(mask(_content(part)), subtype=subtype, cte="8bit" if subtype == "plain" else "base64")
                if disposition and part.get("Content-Disposition") is None:
                    part["Content-Disposition"] = disposition
        for name, value in list(msg.items()):
            if name.lower() not in ("content-type", "content-transfer-encoding", "mime-version"):
                masked = mask(str(value))
                if masked != str(value):
                    msg.replace_header(name, masked)
        return Message(
            msg.as_bytes(), mask(self.sender), [mask(t) for t in self.to], mask(self.subject), self.date, mask(self.text),
            mask(self.html) if self.html is not None else None, [mask(link) for link in self.links],
        )  # fmt: skip

    def haystack(self) -> str:
        """What `save` patterns search: the text, then every link's address."""
        return self.text + "\n" + "\n".join(self.links)

    def matches(self, want: M.EmailArg) -> bool:
        def has(hay: str, needle: str | None) -> bool:
            return needle is None or needle.casefold() in hay.casefold()

        return (
            has(" ".join(self.to), want.to)
            and has(self.sender, want.from_)
            and has(self.subject, want.subject)
            and has(self.text + " " + (self.html or ""), want.text)
        )


def _content(part: Any) -> str:
    try:
        return str(part.get_content())
    except (LookupError, ValueError):  # an unknown charset: the bytes as well as they decode
        payload = part.get_payload(decode=True) or b""
        return payload.decode("utf-8", "replace") if isinstance(payload, bytes) else str(payload)


class Mailbox(Protocol):
    """What an `email` step needs from a mailbox."""

    def describe(self) -> str: ...

    def variables(self) -> dict[str, str]: ...

    def fetch(self) -> list[Message]: ...


class Messages:
    """Hands each new message to one step, in arrival order."""

    def __init__(self, box: Mailbox) -> None:
        self.box = box
        self.taken: set[int] = set()

    def take(self, want: M.EmailArg, timeout_s: float, every_s: float = 0.25) -> Message | None:
        """The first message not taken yet that matches `want`, waiting up to `timeout_s` for it."""
        deadline = time.monotonic() + timeout_s
        while True:
            for i, message in enumerate(self.box.fetch()):
                if i not in self.taken and message.matches(want):
                    self.taken.add(i)
                    return message
            if time.monotonic() >= deadline:
                return None
            time.sleep(every_s)

    def describe(self) -> str:
        return self.box.describe()

    def others(self, limit: int = 3) -> str:
        """What did arrive and was not taken, in words: why a wait for a message may have failed."""
        left = [m for i, m in enumerate(self.box.fetch()) if i not in self.taken]
        if not left:
            return "nothing else arrived"
        shown = "; ".join(f"'{m.subject}' to {', '.join(m.to) or '?'}" for m in left[-limit:])
        return f"{len(left)} other message(s) arrived, the last: {shown}" if len(left) > limit else f"arrived: {shown}"

    def variables(self) -> dict[str, str]:
        return self.box.variables()


class _Sink:
    """aiosmtpd's handler: keeps what arrives."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.messages: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content or b""
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "replace")
        with self.lock:
            if len(self.messages) >= MAX_MESSAGES:
                return "452 mailbox full (this run keeps 500 messages)"
            self.messages.append(Message.parse(raw, list(envelope.rcpt_tos)))
        return "250 OK"


class SmtpMailbox:
    """An SMTP server on 127.0.0.1 for one run (aiosmtpd in its own thread)."""

    def __init__(self, stack: ExitStack, port: int = 0) -> None:
        from aiosmtpd.controller import Controller

        class _Controller(Controller):
            def _trigger_server(self) -> None:
                if self.port == 0 and self.server is not None:  # an ephemeral port: learn which one first
                    self.port = self.server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
                super()._trigger_server()

        self.sink = _Sink()
        self.controller = _Controller(self.sink, hostname="127.0.0.1", port=port, data_size_limit=MAX_MESSAGE_BYTES)
        try:
            self.controller.start()
        except (OSError, TimeoutError) as exc:
            raise MailboxUnavailable(f"mailbox: the SMTP sink could not listen on 127.0.0.1:{port} ({exc})") from None
        stack.callback(self.controller.stop)
        self.port = int(self.controller.port)

    def describe(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def variables(self) -> dict[str, str]:
        return {"mailbox.host": "127.0.0.1", "mailbox.port": str(self.port), "mailbox.smtp": f"127.0.0.1:{self.port}"}

    def fetch(self) -> list[Message]:
        with self.sink.lock:
            return list(self.sink.messages)


class FolderMailbox:
    """A Maildir, a folder of .eml files, or a web framework's file back-end's folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.known: dict[tuple[str, int], Message] = {}
        self.before = set(self._chunks())  # already there: not this run's

    def describe(self) -> str:
        return str(self.folder)

    def variables(self) -> dict[str, str]:
        return {"mailbox.folder": str(self.folder)}

    def _files(self) -> list[Path]:
        subdirs = [self.folder / d for d in ("new", "cur")] if (self.folder / "cur").is_dir() else [self.folder]
        files = [p for d in subdirs if d.is_dir() for p in d.iterdir() if p.is_file() and not p.name.startswith(".")]
        return sorted(files, key=lambda p: (p.stat().st_mtime_ns, p.name))

    def _chunks(self) -> dict[tuple[str, int], bytes]:
        out: dict[tuple[str, int], bytes] = {}
        try:
            files = self._files()
        except OSError as exc:
            raise MailboxUnavailable(f"mailbox: {self.folder} cannot be read ({exc.strerror or exc})") from None
        for path in files:
            try:
                if path.stat().st_size > MAX_MESSAGE_BYTES * 4:
                    continue
                data = path.read_bytes()
            except OSError:
                continue  # written as we read; the next look finds it whole
            for n, chunk in enumerate(DJANGO_SEPARATOR.split(data)):
                if chunk.strip():
                    key = (f"{path.name}:{hashlib.sha256(chunk).hexdigest()[:16]}", n)
                    out[key] = chunk
        return out

    def fetch(self) -> list[Message]:
        for key, chunk in self._chunks().items():
            if key not in self.before and key not in self.known and len(self.known) < MAX_MESSAGES:
                self.known[key] = Message.parse(chunk)
        return list(self.known.values())


class ImapMailbox:
    """A real mailbox over IMAP (stdlib imaplib): messages whose UID is above the highest at the start."""

    def __init__(self, stack: ExitStack, account: M.ImapAccount, password: str) -> None:
        self.account = account
        try:
            cls = imaplib.IMAP4_SSL if account.ssl else imaplib.IMAP4
            self.conn = cls(account.host, account.port or (993 if account.ssl else 143), timeout=15)
            self.conn.login(account.user, password)
            status, _ = self.conn.select(account.folder, readonly=True)
            if status != "OK":
                raise MailboxUnavailable(f"mailbox: IMAP folder '{account.folder}' cannot be opened")
        except (OSError, imaplib.IMAP4.error) as exc:
            raise MailboxUnavailable(f"mailbox: IMAP {account.host}: {_imap_reason(exc)}") from None
        stack.callback(self._close)
        self.start = self._highest()
        self.messages: dict[int, Message] = {}

    def _close(self) -> None:
        try:
            self.conn.logout()
        except (OSError, imaplib.IMAP4.error):
            pass

    def _uids(self, criteria: str) -> list[int]:
        status, data = self.conn.uid("SEARCH", None, criteria)  # type: ignore[arg-type]
        if status != "OK":
            return []
        return [int(u) for u in (data[0] or b"").split()]

    def _highest(self) -> int:
        return max(self._uids("ALL"), default=0)

    def describe(self) -> str:
        return f"imap://{self.account.user}@{self.account.host}/{self.account.folder}"

    def variables(self) -> dict[str, str]:
        return {}

    def fetch(self) -> list[Message]:
        try:
            self.conn.noop()  # lets the server tell us about new messages
            for uid in self._uids(f"UID {self.start + 1}:*"):
                if uid <= self.start or uid in self.messages or len(self.messages) >= MAX_MESSAGES:
                    continue
                status, data = self.conn.uid("FETCH", str(uid), "(BODY.PEEK[])")
                raw = next((part[1] for part in data if isinstance(part, tuple)), None) if status == "OK" else None
                if isinstance(raw, bytes) and len(raw) <= MAX_MESSAGE_BYTES:
                    self.messages[uid] = Message.parse(raw)
        except (OSError, imaplib.IMAP4.error) as exc:
            raise MailboxUnavailable(f"mailbox: IMAP {self.account.host}: {_imap_reason(exc)}") from None
        return [self.messages[u] for u in sorted(self.messages)]


def _imap_reason(exc: BaseException) -> str:
    text = str(exc.args[0] if exc.args else exc)
    if isinstance(exc.args[0] if exc.args else None, bytes):
        text = exc.args[0].decode("utf-8", "replace")
    if isinstance(exc, socket.timeout):
        return "no answer within 15 s"
    return text[:200]


def open_mailbox(spec: Any, stack: ExitStack, ctx: Context, base: Path) -> Messages | None:
    """The scenario's mailbox, open for the run (closed by `stack`), or None when it names none."""
    if spec is None:
        return None
    if spec == "smtp" or isinstance(spec, M.SmtpSink):
        return Messages(SmtpMailbox(stack, 0 if spec == "smtp" else spec.smtp))
    if isinstance(spec, M.FolderSpec):
        folder = Path(str(ctx.substitute(spec.folder))).expanduser()
        folder = folder if folder.is_absolute() else base / folder
        if not folder.is_dir():
            raise MailboxUnavailable(f"mailbox: {folder} is not a folder")
        return Messages(FolderMailbox(folder))
    account = spec.imap.model_copy(
        update={"host": str(ctx.substitute(spec.imap.host)), "user": str(ctx.substitute(spec.imap.user))}
    )
    return Messages(ImapMailbox(stack, account, str(ctx.substitute(spec.imap.password))))


MAIL_PAGE = """<!doctype html><html lang="{lang}"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">
<title>{subject}</title><style>
body {{ margin: 0; background: #eef0f3; font: 15px/1.55 'Noto Sans', 'Noto Sans CJK SC', sans-serif; color: #1f2328; }}
.head {{ background: #fff; border-bottom: 1px solid #d0d7de; padding: 18px 28px; }}
.head h1 {{ font-size: 20px; margin: 0 0 10px; }}
.head dl {{ display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; margin: 0; color: #57606a; }}
.head dt {{ font-weight: 600; }} .head dd {{ margin: 0; }}
.body {{ background: #fff; margin: 18px 28px; padding: 18px 24px; border: 1px solid #d0d7de; border-radius: 6px; }}
.body pre {{ white-space: pre-wrap; font: inherit; margin: 0; }}
</style></head><body>
<div class="head"><h1>{subject}</h1><dl><dt>{l_from}</dt><dd>{sender}</dd><dt>{l_to}</dt><dd>{to}</dd><dt>{l_date}</dt><dd>{date}</dd></dl></div>
<div class="body">{body}</div></body></html>"""


def render_mail(message: Message, lang: str) -> str:
    """A received message as a page: its headers, then its HTML (scripts and requests barred by the page's
    policy) or its text."""
    from html import escape

    from .i18n import gettext_for

    _ = gettext_for(lang)
    body = message.html if message.html is not None else f"<pre>{escape(message.text)}</pre>"
    return MAIL_PAGE.format(
        lang=lang, subject=escape(message.subject or _("(no subject)")), sender=escape(message.sender),
        to=escape(", ".join(dict.fromkeys(message.to))), date=escape(message.date), body=body,
        l_from=_("From"), l_to=_("To"), l_date=_("Date"),
    )  # fmt: skip

"""Mailboxes an `email` step reads, with real peers: an SMTP sink that smtplib sends to, folders as Django's
file back-end and Maildir write them, an IMAP mailbox served by Dovecot; and the step in the browser —
waiting, matching, keeping the message masked, saying what did not arrive."""

from __future__ import annotations

import json
import shutil
import smtplib
import subprocess
import tempfile
import threading
import time
from contextlib import ExitStack
from email.message import EmailMessage
from pathlib import Path

import pytest
from support import free_port, run_cli

from tuiding import model as M
from tuiding.mail import FolderMailbox, ImapMailbox, MailboxUnavailable, Message, Messages, SmtpMailbox

DOVECOT = shutil.which("dovecot") or ("/usr/sbin/dovecot" if Path("/usr/sbin/dovecot").exists() else None)


def message(to: str, subject: str, text: str, html: str | None = None, sender: str = "news@example.com") -> EmailMessage:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, to, subject
    msg.set_content(text)
    if html is not None:
        msg.add_alternative(html, subtype="html")
    return msg


def want(**kw: str) -> M.EmailArg:
    return M.EmailArg.model_validate(kw)


def test_a_message_is_read_with_its_links_and_masked_in_every_transfer_encoding():
    token = "tok-3f9a-ÜÖ-" + "x" * 90  # long enough that quoted-printable breaks its line
    msg = message("bob@example.com", "Confirm", f"Follow https://site.test/activate/{token}/ now",
                  html=f'<p>Follow <a href="https://site.test/activate/{token}/">this link</a></p>')  # fmt: skip
    parsed = Message.parse(msg.as_bytes(policy=msg.policy.clone(cte_type="7bit")))
    assert parsed.subject == "Confirm" and parsed.to == ["bob@example.com"]
    assert parsed.links[0] == f"https://site.test/activate/{token}/"
    assert parsed.matches(want(to="BOB@example", subject="conf", text="follow"))
    assert not parsed.matches(want(subject="Welcome"))
    masked = parsed.masked(lambda t: t.replace(token, "••••••"))
    assert token.encode() not in masked.raw and "••••••" in Message.parse(masked.raw).text
    for encoded in (token.encode("utf-8"), b"tok-3f9a"):
        assert encoded not in masked.raw


def test_the_smtp_sink_keeps_what_is_sent_to_it_and_hands_each_message_to_one_step():
    with ExitStack() as stack:
        box = Messages(SmtpMailbox(stack))
        port = int(box.variables()["mailbox.port"])
        with smtplib.SMTP("127.0.0.1", port, timeout=5) as smtp:
            smtp.send_message(message("a@example.com", "First", "one"))
            smtp.send_message(message("b@example.com", "Second", "two"))
        assert box.take(want(to="b@"), 2).subject == "Second"
        assert box.others() == "arrived: 'First' to a@example.com"  # what a failed wait names
        assert box.take(want(), 2).subject == "First"  # the next one not taken yet
        assert box.others() == "nothing else arrived"
        started = time.monotonic()
        assert box.take(want(), 0.5) is None and time.monotonic() - started >= 0.5
    with pytest.raises(OSError):  # stopped with the run
        smtplib.SMTP("127.0.0.1", port, timeout=2)


def test_a_folder_of_the_site_s_mail_offers_only_what_arrived_during_the_run(tmp_path):
    old = message("old@example.com", "Before", "sent before the run")
    (tmp_path / "20261120-1.log").write_bytes(old.as_bytes())
    box = FolderMailbox(tmp_path)
    # Django's file back-end: several messages in one file, each followed by a line of 79 dashes.
    sep = b"\n" + b"-" * 79 + b"\n"
    (tmp_path / "20261120-2.log").write_bytes(message("x@example.com", "One", "1").as_bytes() + sep
                                              + message("y@example.com", "Two", "2").as_bytes() + sep)  # fmt: skip
    assert [m.subject for m in box.fetch()] == ["One", "Two"]
    maildir = tmp_path / "maildir"
    for sub in ("new", "cur", "tmp"):
        (maildir / sub).mkdir(parents=True)
    md = FolderMailbox(maildir)
    (maildir / "new" / "1.eml").write_bytes(message("z@example.com", "In new", "n").as_bytes())
    (maildir / "cur" / "2.eml").write_bytes(message("z@example.com", "In cur", "c").as_bytes())
    assert sorted(m.subject for m in md.fetch()) == ["In cur", "In new"]


@pytest.fixture
def dovecot(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A Dovecot IMAP server of the test's own on 127.0.0.1 (plaintext login, one user, Maildir under tmp)."""
    if DOVECOT is None:
        pytest.skip("Dovecot is not installed (make bootstrap installs dovecot-imapd as root)")
    # Short paths: Dovecot's sockets live under base_dir, and a socket's path may not exceed 107 bytes.
    port, root = free_port(), Path(tempfile.mkdtemp(prefix="dv-", dir="/tmp"))
    root.chmod(0o755)  # Dovecot's auth process (user dovecot) reads the passwd file in it
    for d in ("run", "state", "home"):
        (root / d).mkdir(parents=True)
    (root / "home").chmod(0o777)
    (root / "passwd").write_text("reader@example.test:{PLAIN}imap-secret-1\n")
    conf = root / "dovecot.conf"
    conf.write_text(
        f"protocols = imap\nlisten = 127.0.0.1\nbase_dir = {root}/run\nstate_dir = {root}/state\nlog_path = {root}/log\n"
        "ssl = no\ndisable_plaintext_auth = no\nauth_mechanisms = plain login\nfirst_valid_uid = 0\n"
        f"mail_location = maildir:{root}/home/%u/Maildir\n"
        f"passdb {{\n  driver = passwd-file\n  args = scheme=PLAIN username_format=%u {root}/passwd\n}}\n"
        f"userdb {{\n  driver = static\n  args = uid=nobody gid=nogroup home={root}/home/%u\n}}\n"
        f"service imap-login {{\n  chroot =\n  inet_listener imap {{\n    address = 127.0.0.1\n    port = {port}\n  }}\n"
        "  inet_listener imaps {\n    port = 0\n  }\n}\nservice anvil {\n  chroot =\n}\n"
    )
    # The master daemonizes: nothing may wait on pipes it inherits.
    subprocess.run(
        [DOVECOT, "-c", str(conf)], check=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    maildir = root / "home" / "reader@example.test" / "Maildir"
    for sub in ("new", "cur", "tmp"):
        (maildir / sub).mkdir(parents=True, exist_ok=True)
    for path in [root / "home" / "reader@example.test", *(root / "home" / "reader@example.test").rglob("*")]:
        shutil.chown(path, "nobody", "nogroup")  # the mail user's own Maildir: Dovecot moves messages new/ → cur/
    try:
        yield port, maildir
    finally:
        subprocess.run(
            [DOVECOT, "-c", str(conf), "stop"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 10
        while (root / "run" / "master.pid").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        shutil.rmtree(root, ignore_errors=True)


def deliver(maildir: Path, msg: EmailMessage, name: str) -> None:
    (maildir / "tmp" / name).write_bytes(msg.as_bytes())
    (maildir / "tmp" / name).rename(maildir / "new" / name)


def test_an_imap_mailbox_offers_the_messages_that_arrive_after_it_is_opened(dovecot):
    port, maildir = dovecot
    deliver(maildir, message("reader@example.test", "Old", "before the run"), "1.eml")
    account = M.ImapAccount(host="127.0.0.1", port=port, user="reader@example.test", password="${pw}", ssl=False)
    with ExitStack() as stack:
        box = Messages(ImapMailbox(stack, account, "imap-secret-1"))
        assert box.take(want(), 0.3) is None  # the old one is not this run's
        deliver(maildir, message("reader@example.test", "Your code", "code 424242"), "2.eml")
        got = box.take(want(subject="code"), 10)
        assert got is not None and "424242" in got.text
    with ExitStack() as stack, pytest.raises(MailboxUnavailable) as err:
        ImapMailbox(stack, account, "wrong")
    assert str(err.value).startswith("mailbox: IMAP 127.0.0.1: ") and "\n" not in str(err.value)


IMAP_SCENARIO = """\
name: read a code from an IMAP mailbox
portal: migu
locale: en-US
mailbox: {{imap: {{host: 127.0.0.1, port: {port}, user: reader@example.test, password: "${{imap_password}}", ssl: false}}}}
vars: {{imap_password: "${{env:IMAP_PASSWORD}}"}}
secrets: [imap_password]
steps:
  - goto: /login
  - email: {{subject: Your code, save: {{code: "code (\\\\d+)"}}, secret: true}}
    timeout: 20s
  - fill: {{账号: "${{code}}"}}
"""


@pytest.mark.browser
def test_an_email_step_reads_a_real_imap_mailbox_and_no_artefact_holds_the_password(dovecot, tmp_path):
    port, maildir = dovecot
    scenario = tmp_path / "imap.yaml"
    scenario.write_text(IMAP_SCENARIO.format(port=port), encoding="utf-8")
    stop = threading.Event()

    def deliver_once_the_journey_has_begun() -> None:
        # Mail already in the box when the run opens it is not the run's: deliver only after step 1 is on disk.
        while not stop.wait(0.1):
            if any(p.stat().st_size for p in (tmp_path / "runs").glob("*/steps.jsonl")):
                deliver(maildir, message("reader@example.test", "Your code", "Your code 735172"), "9.eml")
                return

    sender = threading.Thread(target=deliver_once_the_journey_has_begun)
    sender.start()
    try:
        r = run_cli(
            "run",
            scenario,
            "--out",
            tmp_path / "runs",
            "--no-a11y",
            env={**__import__("os").environ, "IMAP_PASSWORD": "imap-secret-1"},
        )
    finally:
        stop.set()
        sender.join()
    assert r.returncode == 0, r.stdout + r.stderr
    (run_dir,) = (tmp_path / "runs").iterdir()
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["mailbox"] == "imap://reader@example.test@127.0.0.1/INBOX" and manifest["metrics"]["emails"] == 1
    for path in [p for p in run_dir.rglob("*") if p.is_file()]:
        data = path.read_bytes()
        assert b"imap-secret-1" not in data and b"735172" not in data, path  # the password, and the saved code
    assert "735172" not in r.stdout + r.stderr


NO_MAIL = """\
name: an e-mail that never comes
portal: migu
locale: en-US
{mailbox}
steps:
  - goto: /login
  - email: {{to: nobody@example.com, subject: Welcome}}
    timeout: 1s
"""


@pytest.mark.browser
@pytest.mark.parametrize(
    ("mailbox", "why"),
    [
        (
            "mailbox: smtp",
            "no e-mail with to 'nobody@example.com', subject 'Welcome' arrived within 1s (mailbox smtp://127.0.0.1:",
        ),
        ("", "this scenario has no mailbox to read: add `mailbox: smtp` (or {folder: …} or {imap: …})"),
    ],
)
def test_an_email_that_does_not_arrive_fails_its_step_in_words(tmp_path, mailbox, why):
    scenario = tmp_path / "none.yaml"
    scenario.write_text(NO_MAIL.format(mailbox=mailbox), encoding="utf-8")
    r = run_cli("run", scenario, "--out", tmp_path / "runs", "--no-a11y", "--json")
    assert r.returncode == 1
    assert json.loads(r.stdout)["failure"]["message"].startswith(why)

"""A small IMAP server on 127.0.0.1 for the tests: it answers imaplib's commands with the
responses RFC 3501 documents (greeting with CAPABILITY, LOGIN, SELECT with EXISTS and
UIDVALIDITY, UID SEARCH, UID FETCH of header fields as literals, LOGOUT), over a mailbox held
in memory, and records the commands it received."""

from __future__ import annotations

import re
import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass
class Mailbox:
    username: str = "replies@acme.example.com"
    password: str = "imap-pass"
    validity: int = 3857529045
    messages: dict[int, bytes] = field(default_factory=dict)  # UID -> header block
    commands: list[str] = field(default_factory=list)

    def add(self, uid: int, in_reply_to: str, references: str = "") -> None:
        lines = [f"In-Reply-To: {in_reply_to}"]
        if references:
            lines.append(f"References: {references}")
        self.messages[uid] = ("\r\n".join(lines) + "\r\n\r\n").encode()


class _Handler(socketserver.StreamRequestHandler):
    mailbox: Mailbox

    def send(self, line: str | bytes) -> None:
        data = line if isinstance(line, bytes) else line.encode()
        self.wfile.write(data + b"\r\n")

    def handle(self) -> None:
        self.send("* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] test server ready")
        while raw := self.rfile.readline():
            tag, _, rest = raw.decode().rstrip("\r\n").partition(" ")
            self.mailbox.commands.append(rest)
            verb = rest.split(" ", 1)[0].upper()
            if not self.answer(tag, verb, rest):
                return

    def answer(self, tag: str, verb: str, rest: str) -> bool:
        box = self.mailbox
        if verb == "CAPABILITY":
            self.send("* CAPABILITY IMAP4rev1 AUTH=PLAIN")
            self.send(f"{tag} OK CAPABILITY completed")
        elif verb == "LOGIN":
            given = re.findall(r'"((?:[^"\\]|\\.)*)"|(\S+)', rest.split(" ", 1)[1])
            user, password = ("".join(pair) for pair in given[:2])
            if (user, password) != (box.username, box.password):
                self.send(f"{tag} NO [AUTHENTICATIONFAILED] Invalid credentials")
            else:
                self.send(f"{tag} OK LOGIN completed")
        elif verb in ("SELECT", "EXAMINE"):
            self.send(f"* {len(box.messages)} EXISTS")
            self.send("* 0 RECENT")
            self.send(f"* OK [UIDVALIDITY {box.validity}] UIDs valid")
            self.send(f"* OK [UIDNEXT {max(box.messages, default=0) + 1}] Predicted next UID")
            self.send("* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)")
            self.send(f"{tag} OK [READ-ONLY] {verb} completed")
        elif verb == "UID":
            self.uid(tag, rest.split(" ", 2)[1].upper(), rest.split(" ", 2)[2])
        elif verb == "LOGOUT":
            self.send("* BYE IMAP4rev1 Server logging out")
            self.send(f"{tag} OK LOGOUT completed")
            return False
        else:
            self.send(f"{tag} BAD unknown command")
        return True

    def uid(self, tag: str, command: str, args: str) -> None:
        box = self.mailbox
        uids = sorted(box.messages)
        if command == "SEARCH":
            low = int(re.search(r"UID (\d+):\*", args).group(1))  # type: ignore[union-attr]
            # RFC 3501: "n:*" always includes the highest UID, even below n.
            found = [u for u in uids if u >= low] or uids[-1:]
            self.send("* SEARCH " + " ".join(map(str, found)))
            self.send(f"{tag} OK UID SEARCH completed")
            return
        wanted = [int(u) for u in args.split(" ", 1)[0].split(",")]
        for seq, uid in enumerate(uids, start=1):
            if uid not in wanted:
                continue
            block = box.messages[uid]
            head = f"* {seq} FETCH (UID {uid} BODY[HEADER.FIELDS (IN-REPLY-TO REFERENCES)] "
            self.send(f"{head}{{{len(block)}}}".encode() + b"\r\n" + block + b")")
        self.send(f"{tag} OK UID FETCH completed")


@contextmanager
def running_imap_server(mailbox: Mailbox) -> Iterator[tuple[str, int]]:
    handler = type("Handler", (_Handler,), {"mailbox": mailbox})
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield "127.0.0.1", server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()

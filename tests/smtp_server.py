"""A small SMTP server for tests (stdlib only): EHLO, AUTH PLAIN, MAIL, RCPT, DATA, RSET,
NOOP, QUIT; no STARTTLS. It keeps the parsed messages and the credentials it was given."""

from __future__ import annotations

import base64
import socketserver
import threading
from email import message_from_bytes, policy


class _Handler(socketserver.StreamRequestHandler):
    def reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self) -> None:
        server: SmtpTestServer = self.server.owner
        self.reply("220 test ESMTP")
        sender, recipients = None, []
        while line := self.rfile.readline():
            command = line.decode().rstrip("\r\n")
            verb = command.split(" ", 1)[0].upper()
            if verb == "EHLO":
                self.reply("250-test")
                self.reply("250-8BITMIME")
                self.reply("250 AUTH PLAIN" if server.username else "250 HELP")
            elif verb == "AUTH":
                _, login, password = base64.b64decode(command.split()[2]).split(b"\0")
                server.logins.append((login.decode(), password.decode()))
                ok = (login.decode(), password.decode()) == (server.username, server.password)
                self.reply("235 ok" if ok else "535 authentication failed")
            elif verb == "MAIL":
                sender, recipients = command.split(":", 1)[1].split()[0].strip("<>"), []
                self.reply("250 ok")
            elif verb == "RCPT":
                if server.refuse:
                    self.reply("550 no such user")
                    continue
                recipients.append(command.split(":", 1)[1].strip().strip("<>"))
                self.reply("250 ok")
            elif verb == "DATA":
                self.reply("354 go ahead")
                data = b""
                while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                    data += chunk[1:] if chunk.startswith(b".") else chunk
                server.messages.append(
                    (sender, recipients, message_from_bytes(data, policy=policy.default)))
                self.reply("250 queued")
            elif verb in ("RSET", "NOOP"):
                self.reply("250 ok")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("502 not implemented")


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


class SmtpTestServer:
    """``with SmtpTestServer() as smtp:`` listens on 127.0.0.1, a free port (``smtp.port``)."""

    def __init__(self, username: str = "", password: str = ""):
        self.username, self.password = username, password
        self.messages: list = []
        self.logins: list[tuple[str, str]] = []
        self.refuse = False

    def __enter__(self):
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.owner = self
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

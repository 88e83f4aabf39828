"""Sending e-mail: one SMTP connection per message, built from the ``KITH_SMTP_*`` settings.

The container holds a :class:`Mailer` when ``smtp_host`` is set, and None otherwise (mail
is off). Failures surface as :class:`MailError` so that callers record them and retry.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage

from kith.config import Settings


class MailError(Exception):
    """The message could not be handed to the SMTP server; the text says why."""


@dataclass(frozen=True, slots=True)
class Mailer:
    host: str
    port: int
    sender: str
    username: str = ""
    password: str = ""
    starttls: bool = False
    use_ssl: bool = False
    timeout: float = 30.0

    def send(self, message: EmailMessage) -> None:
        """Hand ``message`` to the SMTP server (its ``From`` set when missing)."""
        if "From" not in message:
            message["From"] = self.sender
        try:
            with self._connect() as smtp:
                if self.starttls and not self.use_ssl:
                    smtp.starttls(context=ssl.create_default_context())
                if self.username:
                    smtp.login(self.username, self.password)
                refused = smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            raise MailError(f"{self.host}:{self.port}: {exc}") from exc
        if refused:
            raise MailError(f"{self.host}:{self.port} refused {', '.join(sorted(refused))}")

    def _connect(self) -> smtplib.SMTP:
        if self.use_ssl:
            context = ssl.create_default_context()
            return smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        return smtplib.SMTP(self.host, self.port, timeout=self.timeout)


def build_mailer(settings: Settings) -> Mailer | None:
    """The mailer the settings describe, or None when no SMTP host is set (mail off)."""
    if not settings.smtp_host:
        return None
    return Mailer(
        host=settings.smtp_host,
        port=settings.smtp_port,
        sender=settings.smtp_from,
        username=settings.smtp_username,
        password=settings.smtp_password,
        starttls=settings.smtp_starttls,
        use_ssl=settings.smtp_ssl,
        timeout=settings.smtp_timeout_seconds,
    )

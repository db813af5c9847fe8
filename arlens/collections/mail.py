"""A dunning notice as an email (RFC 5322, `email.message.EmailMessage`) with its PDF attached.

The .eml files are written for review (`X-Unsent: 1`: Outlook and Thunderbird open one as a draft
to send). Nothing is ever sent unless SMTP settings are given ([smtp] in arlens.toml) and the
caller asks (`arlens dunning run --send`).
"""

from __future__ import annotations

import os
import smtplib
import ssl
from collections.abc import Sequence
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from arlens.collections.config import Company, Smtp


class MailError(ValueError):
    """Mail cannot be sent as configured; one line. `sent`: the references sent before it."""

    def __init__(self, message: str, sent: Sequence[str] = ()):
        super().__init__(message)
        self.sent = list(sent)


def addresses(name: str | None, text: str | None) -> tuple[Address, ...]:
    """The valid addresses in an email cell ("a@x.com; b@x.com"), each with the contact's name."""
    found = []
    for part in (text or "").replace(";", ",").split(","):
        part = part.strip()
        if part.count("@") != 1 or " " in part:
            continue
        try:
            found.append(Address(display_name=name or "", addr_spec=part))
        except (ValueError, IndexError):  # the email package's parse errors are ValueErrors
            continue
    return tuple(found)


def notice_message(notice, company: Company, pdf: bytes, sender: str | None = None) -> EmailMessage:
    """The notice's subject and letter text, to the customer's billing contact (no To header when
    the customers table has no email for it), with the letter and statement PDF attached."""
    message = EmailMessage()
    message["Subject"] = notice.subject(company)
    sender = sender or company.email
    if sender:
        message["From"] = Address(display_name=company.name, addr_spec=sender)
    customer = notice.customer
    to = addresses(customer.contact_name or customer.name, customer.email)
    if to:
        message["To"] = to
    message["Date"] = formatdate(localtime=True)
    domain = sender.rpartition("@")[2] if sender and "@" in sender else None
    message["Message-ID"] = make_msgid(idstring=notice.reference, domain=domain)
    message["X-Unsent"] = "1"
    message["X-Arlens-Reference"] = notice.reference
    message.set_content(notice.body(company, statement_attached=True) + "\n")
    message.add_attachment(pdf, maintype="application", subtype="pdf",
                           filename=f"{notice.reference}.pdf")  # fmt: skip
    return message


def write_eml(message: EmailMessage, path: Path) -> Path:
    path.write_bytes(message.as_bytes())
    return path


def send(messages: Sequence[EmailMessage], smtp: Smtp | None) -> list[str]:
    """Send each message that has a To address; returns the references sent. Raises MailError
    when there are no SMTP settings or the server refuses the login."""
    if smtp is None:
        raise MailError("no [smtp] settings in arlens.toml: nothing was sent")
    password = os.environ.get(smtp.password_env) if smtp.password_env else None
    if smtp.password_env and password is None:
        raise MailError(f"[smtp] password_env names ${smtp.password_env}, which is not set")
    context = ssl.create_default_context()
    try:
        if smtp.security == "ssl":
            server = smtplib.SMTP_SSL(smtp.host, smtp.port, context=context, timeout=30)
        else:
            server = smtplib.SMTP(smtp.host, smtp.port, timeout=30)
    except OSError as error:
        raise MailError(f"cannot reach {smtp.host}:{smtp.port}: {error}") from None
    sent: list[str] = []
    try:
        with server:
            if smtp.security == "starttls":
                server.starttls(context=context)
            if smtp.username:
                server.login(smtp.username, password or "")
            for message in messages:
                if message["To"]:
                    del message["X-Unsent"]
                    server.send_message(message, from_addr=smtp.sender)
                    sent.append(str(message["X-Arlens-Reference"]))
    except (OSError, smtplib.SMTPException) as error:
        raise MailError(
            f"sending through {smtp.host}:{smtp.port} stopped after {len(sent)} messages: {error}",
            sent,
        ) from None
    return sent


def notice_files(store, notice, settings, start=None) -> tuple[bytes, EmailMessage]:
    """A notice's letter PDF (with the customer's open-items statement, or its statement of
    account from `start`) and its email with that PDF attached: what a page offers to download."""
    from arlens.collections import render
    from arlens.collections import statements as st

    statements = st.statements(store, notice.as_of, start, [notice.customer.customer_id],
                               open_items_only=start is None)  # fmt: skip
    pdf = render.letter_pdf(notice, statements, settings)
    sender = settings.smtp.sender if settings.smtp else None
    return pdf, notice_message(notice, settings.company, pdf, sender)

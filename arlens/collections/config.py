"""Company settings for the documents AR Lens writes: `arlens.toml` beside the store, or `--config`.

    [company]   name, address (lines), email, phone, website, logo (a PNG or JPEG; a relative path
                is read from beside the settings file), remittance (lines: bank, IBAN, reference)
    [smtp]      host, port, username, password_env (the environment variable holding the
                password: never the password itself), security ("starttls", "ssl" or "none"),
                sender (the From address; default the company's email)
    [pdf]       font, font_bold (TTF files for letters and statements; default DejaVu Sans)
    [dunning]   policy (the dunning policy file; default the shipped one)

Every section is optional (arlens.example.toml shows them all); a mistake is one SettingsError line.
"""

from __future__ import annotations

import difflib
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

FILE_NAME = "arlens.toml"
KEYS = {
    "company": ("name", "address", "email", "phone", "website", "logo", "remittance"),
    "smtp": ("host", "port", "username", "password_env", "security", "sender"),
    "pdf": ("font", "font_bold"),
    "dunning": ("policy",),
    # team use (arlens/team/roles.py reads these)
    "roles": ("viewer", "collector", "credit_manager", "admin"),
    "access": ("groups_claim", "collectors_see"),
    "credit": ("limit_approval_above",),
}
SECURITY = ("starttls", "ssl", "none")


class SettingsError(ValueError):
    """The settings file is wrong; the message is one line naming the file and the key."""


@dataclass(frozen=True)
class Company:
    name: str = ""
    address: tuple[str, ...] = ()
    email: str | None = None
    phone: str | None = None
    website: str | None = None
    logo: Path | None = None
    remittance: tuple[str, ...] = ()


@dataclass(frozen=True)
class Smtp:
    host: str
    port: int = 587
    username: str | None = None
    password_env: str | None = None
    security: str = "starttls"
    sender: str | None = None


@dataclass(frozen=True)
class Settings:
    company: Company = field(default_factory=Company)
    smtp: Smtp | None = None
    font: Path | None = None
    font_bold: Path | None = None
    policy: Path | None = None
    path: Path | None = None  # the file they were read from (None: no file, the defaults)


def settings_path(config: str | Path | None, db_path: str | Path | None) -> Path | None:
    """`--config`, else arlens.toml beside the store when there is one."""
    if config:
        return Path(config)
    if db_path:
        beside = Path(db_path).parent / FILE_NAME
        if beside.exists():
            return beside
    return None


def read_settings_file(path: Path) -> dict:
    """The file's sections, checked against KEYS (SettingsError: one line naming file and key)."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise SettingsError(f"{path}: {error}") from None
    check_sections(path, data)
    return data


def load_settings(config: str | Path | None = None, db_path: str | Path | None = None) -> Settings:
    """The settings from `--config` (which must exist) or from arlens.toml beside the store."""
    path = settings_path(config, db_path)
    if path is None:
        return Settings()
    data = read_settings_file(path)
    here = path.parent
    company = data.get("company", {})
    smtp = data.get("smtp")
    pdf = data.get("pdf", {})
    policy = data.get("dunning", {}).get("policy")
    return Settings(
        company=Company(
            name=str(company.get("name", "")),
            address=_lines(company.get("address")),
            email=company.get("email"),
            phone=company.get("phone"),
            website=company.get("website"),
            logo=_path(here, company.get("logo")),
            remittance=_lines(company.get("remittance")),
        ),
        smtp=_smtp(path, smtp) if smtp is not None else None,
        font=_path(here, pdf.get("font")),
        font_bold=_path(here, pdf.get("font_bold")),
        policy=_path(here, policy),
        path=path,
    )


def _lines(value) -> tuple[str, ...]:
    """An address or remittance: a list of lines, or one text with newlines."""
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(line.strip() for line in value.strip().splitlines())
    return tuple(str(line) for line in value)


def _path(here: Path, value) -> Path | None:
    if not value:
        return None
    path = Path(str(value)).expanduser()
    return path if path.is_absolute() else here / path


def _smtp(where: Path, smtp: dict) -> Smtp:
    if not smtp.get("host"):
        raise SettingsError(f"{where}: [smtp] needs host (the mail server, e.g. smtp.example.com)")
    security = str(smtp.get("security", "starttls"))
    if security not in SECURITY:
        raise SettingsError(f"{where}: [smtp] security = {security!r}: use {', '.join(SECURITY)}")
    port = smtp.get("port", 465 if security == "ssl" else 587)
    if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
        raise SettingsError(f"{where}: [smtp] port = {port!r}: give a port number, e.g. 587")
    return Smtp(
        host=str(smtp["host"]),
        port=port,
        username=smtp.get("username"),
        password_env=smtp.get("password_env"),
        security=security,
        sender=smtp.get("sender"),
    )


def check_sections(where: Path, data: dict) -> None:
    for section, values in data.items():
        if section not in KEYS:
            close = difflib.get_close_matches(section, list(KEYS), n=1)
            hint = f"; did you mean [{close[0]}]?" if close else ""
            raise SettingsError(
                f"{where}: unknown section [{section}]{hint} (sections: "
                f"{', '.join(f'[{s}]' for s in KEYS)})"
            )
        if not isinstance(values, dict):
            raise SettingsError(f"{where}: {section} must be a section: [{section}]")
        for key in values:
            if key not in KEYS[section]:
                raise SettingsError(
                    f"{where}: [{section}] {key}: unknown setting (settings: "
                    f"{', '.join(KEYS[section])})"
                )

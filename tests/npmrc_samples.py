"""Credentials and helpers shared by the `.npmrc` and CLI tests.

The tokens are made here with the documented checksum (CRC32 of the 30-character body,
base62, 6 digits), independently of `npm_guard.secrets`; none of them was ever issued.
"""

from __future__ import annotations

import base64
import os
import random
import string
import subprocess
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

_ALPHABET = string.digits + string.ascii_uppercase + string.ascii_lowercase


def _base62(number: int) -> str:
    digits = ""
    while number:
        number, rest = divmod(number, 62)
        digits = _ALPHABET[rest] + digits
    return digits.rjust(6, "0")


def make_token(prefix: str, seed: int, *, valid: bool = True) -> str:
    rng = random.Random(seed)
    body = "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(30))
    check = _base62(zlib.crc32(body.encode()) & 0xFFFFFFFF)
    if not valid:
        check = check[:-1] + ("A" if check[-1] != "A" else "B")
    return prefix + body + check


NPM_TOKEN = make_token("npm_", 101)
NPM_TOKEN_2 = make_token("npm_", 102)
NPM_TOKEN_BAD_CHECKSUM = make_token("npm_", 103, valid=False)
GITHUB_TOKEN = make_token("ghp_", 104)
UUID_TOKEN = "5f0c2a7e-91b3-4d8e-a6f4-0c9d8e7b6a51"
OPAQUE_TOKEN = "AKCp8kqX7T3vLm9ZRb2Wd4YcNf6Hs1Gu"
AUTH_USER, AUTH_PASSWORD = "ci-bot", "Tr0ub4dor&3-horse"
AUTH_VALUE = base64.b64encode(f"{AUTH_USER}:{AUTH_PASSWORD}".encode()).decode()
PASSWORD_PLAIN = "correct horse battery staple"
PASSWORD_VALUE = base64.b64encode(PASSWORD_PLAIN.encode()).decode()
URL_PASSWORD = "s3cr3t-Pa55w0rd"
HTTP_URL_PASSWORD = "SuperSecretPw123"
SCOPED_HTTP_URL_PASSWORD = "AnotherSecret999"
# A token where a user name belongs: messages name users, never this one.
TOKEN_AS_USER = make_token("npm_", 105)
TOKEN_USER_AUTH_VALUE = base64.b64encode(f"{TOKEN_AS_USER}:pw-of-a-token-user".encode()).decode()


def redacted(token: str) -> str:
    """How npm's token list shows an npm token."""
    return f"{token[:8]}…{token[-4:]}"


# One file with every kind of credential, each on its own line.
EVERY_CREDENTIAL_NPMRC = (
    f"//registry.npmjs.org/:_authToken={NPM_TOKEN}\n"
    f"//registry.example.com/:_authToken={NPM_TOKEN_BAD_CHECKSUM}\n"
    f"//npm.pkg.github.com/:_authToken={GITHUB_TOKEN}\n"
    f"//legacy.example.com/:_authToken={UUID_TOKEN}\n"
    f"//artifactory.example.com/api/npm/:_authToken={OPAQUE_TOKEN}\n"
    f"//basic.example.com/:_auth={AUTH_VALUE}\n"
    f"//pw.example.com/:username=deploy\n"
    f"//pw.example.com/:_password={PASSWORD_VALUE}\n"
    f"@corp:registry=https://deploy:{URL_PASSWORD}@npm.corp.example/\n"
    f"# the previous token was {NPM_TOKEN_2}\n"
    f"registry=http://alice:{HTTP_URL_PASSWORD}@registry.example.com/\n"
    f"@corp2:registry=http://bob:{SCOPED_HTTP_URL_PASSWORD}@corp.example.com/npm/\n"
    f"//corp.example.com/npm/:_authToken=${{CORP_TOKEN}}\n"
    f"//z.example.com/:username={TOKEN_AS_USER}\n"
    f"//z.example.com/:_password={PASSWORD_VALUE}\n"
    f"//y.example.com/:_auth={TOKEN_USER_AUTH_VALUE}\n"
)
EVERY_SECRET = (
    NPM_TOKEN,
    NPM_TOKEN_2,
    NPM_TOKEN_BAD_CHECKSUM,
    GITHUB_TOKEN,
    UUID_TOKEN,
    OPAQUE_TOKEN,
    AUTH_VALUE,
    AUTH_PASSWORD,
    PASSWORD_VALUE,
    PASSWORD_PLAIN,
    URL_PASSWORD,
    HTTP_URL_PASSWORD,
    SCOPED_HTTP_URL_PASSWORD,
    TOKEN_AS_USER,
    TOKEN_USER_AUTH_VALUE,
)


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_bytes(text.encode("utf-8"))
    return path


def git(cwd: Path, *args: str) -> str:
    """Run git with a throw-away identity and no user or system configuration."""
    env = {
        **os.environ,
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "npm-guard tests",
        "GIT_AUTHOR_EMAIL": "tests@npm-guard.invalid",
        "GIT_COMMITTER_NAME": "npm-guard tests",
        "GIT_COMMITTER_EMAIL": "tests@npm-guard.invalid",
    }
    proc = subprocess.run(
        ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True
    )
    return proc.stdout


Runner = Callable[..., tuple[int, str, str]]


def make_runner(
    main: Callable[[Sequence[str] | None], int], capsys: pytest.CaptureFixture[str]
) -> Runner:
    """Call a `main(argv)` in process; return (exit code, stdout, stderr)."""

    def run(*argv: str) -> tuple[int, str, str]:
        capsys.readouterr()
        try:
            code = main(list(argv))
        except SystemExit as exit_:  # argparse usage errors
            code = exit_.code if isinstance(exit_.code, int) else 2
        out, err = capsys.readouterr()
        return code, out, err

    return run


def as_unprivileged() -> list[str]:
    """A command prefix under which file modes hold, also when the suite runs as root.

    Root reads a mode-000 file anyway (CAP_DAC_OVERRIDE), so as root the command runs
    under util-linux's `setpriv` with the two capabilities that bypass file modes dropped.
    """
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return []
    import shutil

    setpriv = shutil.which("setpriv")
    assert setpriv, "running as root: the unreadable-file tests need util-linux's setpriv"
    return [setpriv, "--bounding-set=-dac_override,-dac_read_search"]

# Copyright (c) hci.arc_ml contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the hci.arc_ml collection
# and may change in any release, even a bugfix release. Do not use them from outside.

"""The errors a module turns into one clear failure line, and lazy imports of optional libraries."""

from __future__ import annotations

import importlib
import re
import traceback
from urllib.parse import unquote


class ArcMLError(Exception):
    """An expected failure: `message` is one line that says what happened and what to do next.

    `details` become extra keys of the failed task result. Neither may contain a secret.
    """

    def __init__(self, message, **details):
        super().__init__(message)
        self.message = message
        self.details = details

    def __str__(self):
        return self.message


class MissingDependency(ArcMLError):
    """A Python library the module's code path needs is not installed on the controller (or EE)."""

    def __init__(self, package, reason, import_traceback=None):
        super().__init__(f"{package} ({reason})")
        self.package = package
        self.reason = reason
        self.import_traceback = import_traceback


def import_optional(module_name, package):
    """Import `module_name` when a code path needs it; raise MissingDependency naming the pip `package`."""
    try:
        return importlib.import_module(module_name)
    except ImportError as exc:
        raise MissingDependency(package, f"cannot import {module_name}: {exc}", traceback.format_exc()) from None


def one_line(text, limit=600):
    """Collapse whitespace so a multi-line library message fits one result line, and cap its length."""
    text = re.sub(r"\s+", " ", str(text)).strip()
    if len(text) > limit:
        text = text[: limit - 3].rstrip() + "..."
    return text


def redact(text, secrets):
    """Replace every occurrence of each secret in `text` with ********."""
    if not isinstance(text, str):
        return text
    for secret in sorted((s for s in secrets if isinstance(s, str) and s), key=len, reverse=True):
        text = text.replace(secret, "********")
    return text


# `scheme://` and what follows it up to the next whitespace: where a URL's userinfo can be.
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://(\S*)")


def url_passwords(value):
    """The passwords of every URL in `value` (a string, or any option value: dicts and lists are walked).

    The userinfo is everything between `scheme://` and the LAST `@` after it, so a password holding `/`, `#`,
    `?` or `@` unescaped is found whole (urlsplit would end the authority at the first `/`, `?` or `#`); the
    password is what follows the first `:` of the userinfo. Each comes back as written and, when it holds
    %-escapes, percent-decoded too (the form a tool may print). A URL with a path holding `@` gives a longer
    string than the password: more is masked, never less.
    """
    found = []
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(reversed(list(item.values())))
        elif isinstance(item, (list, tuple, set, frozenset)):
            stack.extend(reversed(list(item)))
        elif isinstance(item, str) and "://" in item:
            for match in _URL.finditer(item):
                userinfo, at, _host = match.group(1).rpartition("@")
                password = userinfo.partition(":")[2] if at else ""
                for form in (password, unquote(password)):
                    if form and form not in found:
                        found.append(form)
    return found

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

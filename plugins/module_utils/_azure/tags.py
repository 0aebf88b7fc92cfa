# Copyright (c) hci.arc_ml contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the hci.arc_ml collection
# and may change in any release, even a bugfix release. Do not use them from outside.

"""The tags of an ARM resource: which set to send, given the tags it has and the tags a task asks for.

By default the requested tags are merged into the existing ones, so that tags added by Azure Policy or by people
stay; only `append_tags: false` makes the requested set the complete one. That is azure.azcollection's `tags` and
`append_tags` (default true), where `AzureRMModuleBase.update_tags` returns the whole new set to assign:
https://github.com/ansible-collections/azure/blob/dev/plugins/doc_fragments/azure_tags.py,
https://github.com/ansible-collections/azure/blob/dev/plugins/module_utils/azure_rm_common.py
ARM writes `tags` as a whole (a PUT body's, and a PATCH body's too), so the merged set is what is sent.

Tag names are compared without case, values with case: "Tag names are case-insensitive for operations. A tag with a
tag name, regardless of casing, is updated or retrieved. [...] Tag values are case-sensitive."
(https://github.com/MicrosoftDocs/azure-docs/blob/main/articles/azure-resource-manager/management/tag-resources.md).
So a requested `Env` updates an existing `env` (which keeps its spelling) instead of adding a second key.
Everything here is pure: no request is made.
"""

from __future__ import annotations

from ansible_collections.hci.arc_ml.plugins.module_utils._common.errors import ArcMLError


class TagsError(ArcMLError):
    """Requested tags that Azure would take as fewer tags than given; raised before any request."""


def desired_tags(current, requested, append=True):
    """(the tags to send, whether they differ from `current`).

    `requested` None leaves the tags as they are. With `append`, the requested tags are added to or update the
    current ones and nothing is removed (so {} changes nothing); without it, the result is exactly the requested
    set (so {} removes every tag). Names match without case; a name that exists keeps its current spelling.
    """
    current = {str(name): str(value) for name, value in (current or {}).items()}
    if requested is None:
        return current, False
    wanted = _by_lower_name(requested)
    result = {}
    for name, value in current.items():
        if name.lower() in wanted:
            result[name] = wanted.pop(name.lower())[1]
        elif append:
            result[name] = value
    for name, value in wanted.values():
        result[name] = value
    return result, result != current


def _by_lower_name(requested):
    """{lower-cased name: (name, value)} of the requested tags, refusing two names Azure takes as one."""
    wanted = {}
    for given_name, given_value in requested.items():
        name = str(given_name)
        other = wanted.get(name.lower())
        if other is not None:
            raise TagsError(
                f"tags names {other[0]!r} and {name!r}, which Azure takes as one tag (tag names are not "
                "case-sensitive): keep one of them. Nothing was sent to Azure."
            )
        wanted[name.lower()] = (name, "" if given_value is None else str(given_value))
    return wanted

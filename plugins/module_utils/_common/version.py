# Copyright (c) hci.arc_ml contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the hci.arc_ml collection
# and may change in any release, even a bugfix release. Do not use them from outside.

"""The collection's name and version, as sent in the User-Agent of every Azure request."""

from __future__ import annotations

COLLECTION_NAME = "hci.arc_ml"
# Kept equal to galaxy.yml's version by a unit test (module code cannot read galaxy.yml at run time).
COLLECTION_VERSION = "0.1.0"
USER_AGENT = f"{COLLECTION_NAME}/{COLLECTION_VERSION}"

# Copyright (c) hci.arc_ml contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the hci.arc_ml collection
# and may change in any release, even a bugfix release. Do not use them from outside.

"""Azure ML instance types: options, validation, the two shapes they take, and comparison.

An instance type is a node selector plus resource requests and limits. It lives in the cluster as an
`InstanceType` custom resource (amlarc.azureml.com/v1alpha1, installed by the Azure ML extension) and
in a Kubernetes compute's `properties.instanceTypes`. The documented rules (Azure ML "Create and manage
instance types"): CPU and memory requests and limits are required and non-zero, a GPU count (integer)
only under limits, nodeSelector a map of strings. Kubernetes adds that a request may not exceed its limit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ansible_collections.hci.arc_ml.plugins.module_utils._common.errors import ArcMLError
from ansible_collections.hci.arc_ml.plugins.module_utils._kube.names import is_dns_subdomain
from ansible_collections.hci.arc_ml.plugins.module_utils._kube.quantity import parse_quantity

GROUP = "amlarc.azureml.com"
VERSION = "v1alpha1"
PLURAL = "instancetypes"
KIND = "InstanceType"
CRD_NAME = f"{PLURAL}.{GROUP}"
GPU_RESOURCE = "nvidia.com/gpu"

# A label key's name part, and a label value.
_LABEL_NAME = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")


class InstanceTypeError(ArcMLError):
    """Instance type options break a documented rule; raised before any request."""


def resources_options(gpu):
    """The argument spec of `requests` / `limits` (limits also take a GPU count)."""
    options = dict(cpu=dict(type="raw", required=True), memory=dict(type="raw", required=True))
    if gpu:
        options["gpu"] = dict(type="int")
    return options


def instance_type_options():
    """The argument spec shared by instance_type and ml_compute's instance_types elements (without name)."""
    return dict(
        node_selector=dict(type="dict"),
        requests=dict(type="dict", options=resources_options(gpu=False)),
        limits=dict(type="dict", options=resources_options(gpu=True)),
    )


@dataclass
class InstanceTypeSpec:
    """One validated instance type: strings for CPU and memory as given, the GPU limit as an int or None."""

    name: str
    node_selector: dict
    requests: dict
    limits: dict
    gpu: int | None = None

    def custom_resource_spec(self):
        """`spec` of the InstanceType custom resource (the GPU count as an integer, as documented)."""
        limits = dict(self.limits)
        if self.gpu is not None:
            limits[GPU_RESOURCE] = self.gpu
        spec = {"resources": {"requests": dict(self.requests), "limits": limits}}
        if self.node_selector:
            spec["nodeSelector"] = dict(self.node_selector)
        return spec

    def compute_schema(self):
        """The entry in a Kubernetes compute's `properties.instanceTypes` (all values strings, as typed by the API)."""
        limits = dict(self.limits)
        if self.gpu is not None:
            limits[GPU_RESOURCE] = str(self.gpu)
        return {
            "nodeSelector": dict(self.node_selector) or None,
            "resources": {"requests": dict(self.requests), "limits": limits},
        }


def check_object_name(name, what):
    if not is_dns_subdomain(name):
        raise InstanceTypeError(
            f"{what} {name!r} is not a Kubernetes object name: at most 253 lower-case letters, digits, '-' and '.', "
            "starting and ending with a letter or digit."
        )
    return name


def build_spec(name, node_selector, requests, limits, what="instance type"):
    """Validate the options of one instance type and return its InstanceTypeSpec; raise listing every problem."""
    check_object_name(name, f"{what} name")
    problems = []
    selector = _node_selector(node_selector, problems)
    requests = requests or {}
    limits = limits or {}
    parsed = {}
    for section, values in (("requests", requests), ("limits", limits)):
        for resource in ("cpu", "memory"):
            value = values.get(resource)
            if value is None or (isinstance(value, str) and not value.strip()):
                problems.append(f"{section}.{resource} is required")
                continue
            try:
                amount = parse_quantity(value)
            except ValueError:
                problems.append(f"{section}.{resource} {value!r} is not a Kubernetes quantity (such as 500m, 2, 4Gi)")
                continue
            if amount <= 0:
                problems.append(f"{section}.{resource} must be more than zero, not {value!r}")
                continue
            parsed[(section, resource)] = amount
    for resource in ("cpu", "memory"):
        request, limit = parsed.get(("requests", resource)), parsed.get(("limits", resource))
        if request is not None and limit is not None and request > limit:
            problems.append(
                f"requests.{resource} {requests[resource]!r} is more than limits.{resource} {limits[resource]!r}"
            )
    gpu = limits.get("gpu")
    if gpu is not None and gpu < 0:
        problems.append(f"limits.gpu must be 0 or more, not {gpu}")
    if problems:
        raise InstanceTypeError(f"Invalid {what} {name}: {'; '.join(problems)}.")
    return InstanceTypeSpec(
        name,
        selector,
        {r: _quantity_text(requests[r]) for r in ("cpu", "memory")},
        {r: _quantity_text(limits[r]) for r in ("cpu", "memory")},
        gpu,
    )


def _quantity_text(value):
    return value.strip() if isinstance(value, str) else str(value)


def _node_selector(selector, problems):
    result = {}
    for key, given in (selector or {}).items():
        if isinstance(given, bool) or not isinstance(given, (str, int)):
            problems.append(f'node_selector value of {key!r} must be a string (quote it, e.g. "{str(given).lower()}")')
            continue
        value = str(given)
        if not _valid_label_key(key):
            problems.append(f"node_selector key {key!r} is not a Kubernetes label key")
        if value and (len(value) > 63 or not _LABEL_NAME.match(value)):
            problems.append(f"node_selector value {value!r} of {key!r} is not a Kubernetes label value")
        result[key] = value
    return result


def _valid_label_key(key):
    prefix, name = key.rpartition("/")[::2]
    if prefix and not is_dns_subdomain(prefix):
        return False
    return 0 < len(name) <= 63 and bool(_LABEL_NAME.match(name))


def normalize(schema):
    """{node_selector, requests, limits} of an instance type in either shape (custom resource spec or compute
    schema), with empty and null values dropped, for comparison and display."""
    schema = schema or {}
    resources = schema.get("resources") or {}

    def clean(mapping):
        return {str(k): v for k, v in (mapping or {}).items() if v is not None and v != ""}

    return {
        "node_selector": {k: str(v) for k, v in clean(schema.get("nodeSelector")).items()},
        "requests": clean(resources.get("requests")),
        "limits": clean(resources.get("limits")),
    }


def same_instance_type(a, b):
    """Whether two normalized instance types are equal; quantities compare by value ("1" == "1000m")."""
    if a["node_selector"] != b["node_selector"]:
        return False
    return all(_same_quantities(a[section], b[section]) for section in ("requests", "limits"))


def _same_quantities(a, b):
    if set(a) != set(b):
        return False
    for key, value in a.items():
        try:
            if parse_quantity(value) != parse_quantity(b[key]):
                return False
        except ValueError:
            if str(value) != str(b[key]):
                return False
    return True

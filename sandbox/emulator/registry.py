"""A read-only OCI distribution registry (the /v2/ API) serving helm charts, like MCR serves the Arc agents.

`helm pull oci://HOST/REPOSITORY --version V` resolves the tag V with
HEAD/GET /v2/REPOSITORY/manifests/V, then fetches the config and chart layer
blobs. Pulls are anonymous, as on MCR.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

from aiohttp import web

from .arm import ArmRequest, Router, json_response
from .charts import ChartPackage

MANIFEST_TYPE = "application/vnd.oci.image.manifest.v1+json"
HELM_CONFIG_TYPE = "application/vnd.cncf.helm.config.v1+json"
HELM_CHART_TYPE = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"
API_HEADER = {"Docker-Distribution-API-Version": "registry/2.0"}


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass
class Repository:
    name: str
    tags: dict = field(default_factory=dict)
    manifests: dict = field(default_factory=dict)
    blobs: dict = field(default_factory=dict)


class Registry:
    def __init__(self):
        self.repositories: dict[str, Repository] = {}

    def publish_chart(self, repository: str, chart: ChartPackage) -> str:
        """Push `chart` as REPOSITORY:VERSION; returns the manifest digest."""
        repo = self.repositories.setdefault(repository, Repository(repository))
        manifest = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": MANIFEST_TYPE,
                "config": {"mediaType": HELM_CONFIG_TYPE, "digest": _digest(chart.config), "size": len(chart.config)},
                "layers": [{"mediaType": HELM_CHART_TYPE, "digest": chart.digest, "size": len(chart.archive)}],
                "annotations": {
                    "org.opencontainers.image.title": chart.name,
                    "org.opencontainers.image.version": chart.version,
                },
            },
            sort_keys=True,
        ).encode()
        digest = _digest(manifest)
        repo.manifests[digest] = manifest
        repo.tags[chart.version] = digest
        repo.blobs[_digest(chart.config)] = chart.config
        repo.blobs[chart.digest] = chart.archive
        return digest


def _error(status: int, code: str, message: str, detail=None) -> web.Response:
    return json_response({"errors": [{"code": code, "message": message, "detail": detail}]}, status, API_HEADER)


def _repository(req: ArmRequest) -> Repository | None:
    return req.ctx.registry.repositories.get(req.params["name"])


def _content(req: ArmRequest, data: bytes, content_type: str, digest: str) -> web.Response:
    headers = {**API_HEADER, "Docker-Content-Digest": digest, "Content-Type": content_type}
    if req.method == "HEAD":
        headers["Content-Length"] = str(len(data))
        return web.Response(status=200, headers=headers)
    return web.Response(status=200, body=data, headers=headers)


async def get_base(req: ArmRequest) -> web.Response:
    return json_response({}, 200, API_HEADER)


async def get_manifest(req: ArmRequest) -> web.Response:
    repo = _repository(req)
    if repo is None:
        return _error(404, "NAME_UNKNOWN", "repository name not known to registry", {"name": req.params["name"]})
    reference = req.params["reference"]
    digest = reference if reference.startswith("sha256:") else repo.tags.get(reference)
    manifest = repo.manifests.get(digest or "")
    if manifest is None:
        return _error(404, "MANIFEST_UNKNOWN", "manifest unknown", {"tag": reference})
    return _content(req, manifest, MANIFEST_TYPE, digest)


async def get_blob(req: ArmRequest) -> web.Response:
    repo = _repository(req)
    blob = repo.blobs.get(req.params["digest"]) if repo else None
    if blob is None:
        return _error(404, "BLOB_UNKNOWN", "blob unknown to registry", {"digest": req.params["digest"]})
    return _content(req, blob, "application/octet-stream", req.params["digest"])


async def get_tags(req: ArmRequest) -> web.Response:
    repo = _repository(req)
    if repo is None:
        return _error(404, "NAME_UNKNOWN", "repository name not known to registry", {"name": req.params["name"]})
    return json_response({"name": repo.name, "tags": sorted(repo.tags)}, 200, API_HEADER)


def register(router: Router) -> None:
    anonymous = {"auth": "none", "api_versions": "skip"}
    router.add("GET", "/v2/", get_base, **anonymous)
    router.add("GET", "/v2/{name:.+}/manifests/{reference}", get_manifest, **anonymous)
    router.add("GET", "/v2/{name:.+}/blobs/{digest}", get_blob, **anonymous)
    router.add("GET", "/v2/{name:.+}/tags/list", get_tags, **anonymous)

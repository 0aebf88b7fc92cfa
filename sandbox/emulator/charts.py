"""Package the sandbox's helm charts (sandbox/charts/*) the way `helm package` does, reproducibly."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from dataclasses import dataclass
from pathlib import Path

import yaml

CHARTS_DIR = Path(__file__).resolve().parent.parent / "charts"
ARC_AGENT_CHART_DIR = CHARTS_DIR / "azure-arc"
AZUREML_CHART_DIR = CHARTS_DIR / "azureml"


@dataclass(frozen=True)
class ChartPackage:
    name: str
    version: str
    archive: bytes
    config: bytes

    @property
    def digest(self) -> str:
        return "sha256:" + hashlib.sha256(self.archive).hexdigest()


def _files(chart_dir: Path):
    for path in sorted(chart_dir.rglob("*")):
        if path.is_file() and not path.name.startswith(".") and "__pycache__" not in path.parts:
            yield path


def package(chart_dir: Path) -> ChartPackage:
    """The chart as a .tgz whose top directory is the chart's name, with fixed timestamps and owners."""
    chart_dir = Path(chart_dir)
    metadata = yaml.safe_load((chart_dir / "Chart.yaml").read_text())
    name, version = metadata["name"], str(metadata["version"])
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path in _files(chart_dir):
            data = path.read_bytes()
            info = tarfile.TarInfo(f"{name}/{path.relative_to(chart_dir).as_posix()}")
            info.size, info.mode, info.mtime = len(data), 0o644, 0
            tar.addfile(info, io.BytesIO(data))
    archive = gzip.compress(raw.getvalue(), mtime=0)
    config = json.dumps(metadata, sort_keys=True, separators=(",", ":")).encode()
    return ChartPackage(name, version, archive, config)

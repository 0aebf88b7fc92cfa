"""The running emulator's shared state, handed to every handler as `ctx`."""

from __future__ import annotations

from dataclasses import dataclass, field

from . import rbac
from .arm import Router
from .faults import FaultRules
from .lro import Operations
from .paths import EmulatorPaths
from .pki import Pki
from .registry import Registry
from .requestlog import RequestLog
from .store import Store
from .throttle import Throttle

CLOUD_NAME = "ArcMLSandbox"
# The audience ARM and the Arc config data plane accept besides the ARM URL itself; like
# https://management.core.windows.net/ in the public cloud, an identifier that is never contacted.
MANAGEMENT_AUDIENCE = "https://management.core.arcml-sandbox.invalid/"


@dataclass
class Emulator:
    paths: EmulatorPaths
    store: Store
    pki: Pki
    router: Router
    requests: RequestLog = field(default_factory=RequestLog)
    faults: FaultRules = field(default_factory=FaultRules)
    registry: Registry = field(default_factory=Registry)
    throttle: Throttle = field(default_factory=Throttle)
    base_url: str = ""
    cloud_name: str = CLOUD_NAME
    # The stand-in Arc agent chart, as published in the registry (charts.ChartPackage).
    agent_chart: object = None

    def __post_init__(self):
        self.operations = Operations(self)

    @property
    def login_url(self) -> str:
        """The Entra ID stand-in shares the emulator's origin (AZURE_AUTHORITY_HOST)."""
        return self.base_url

    @property
    def tenant_domain(self) -> str:
        return "arcmlsandbox.onmicrosoft.com"

    @property
    def arm_audiences(self) -> list:
        return [MANAGEMENT_AUDIENCE, self.base_url + "/"]

    @property
    def token_audiences(self) -> list:
        """Resources the token endpoint issues tokens for."""
        return self.arm_audiences

    @property
    def registry_host(self) -> str:
        return self.base_url.split("://", 1)[1]

    def authorize(self, principal: rbac.Principal, action: str, scope: str) -> None:
        rbac.authorize(self.store, principal, action, scope)

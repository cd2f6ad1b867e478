"""The fault proxy: the simulators' transport faults in front of any HTTP endpoint (``egov sim proxy``)."""

from simulators.proxy.proxy import PROXY_KINDS, FaultProxy, ProxyInjector

__all__ = ["PROXY_KINDS", "FaultProxy", "ProxyInjector"]

"""The service's routes, one module per system or concern; :mod:`service.app` mounts them.

Each router carries its full path prefix (``/api/v1/...``), so that a route's template, as the
request metrics and the access log show it, is the path a caller uses.
"""

API_PREFIX = "/api/v1"
"""Version 1 of the JSON API."""

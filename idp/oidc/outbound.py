"""Outbound HTTP of the OpenID provider (back-channel logout, client ``jwks_uri``): a port.

The provider never calls the network except through :func:`http`, so the effect has
one place, one timeout policy and one implementation to replace.
"""

from __future__ import annotations

from typing import Protocol

import httpx
from flask import current_app


class OutboundError(Exception):
    """The peer could not be reached, timed out or answered garbage."""


class HttpPort(Protocol):
    def post_form(self, url: str, data: dict, timeout: float) -> int:
        """POST ``data`` form-encoded; return the status code."""

    def get_json(self, url: str, timeout: float) -> dict:
        """GET a JSON object."""


class HttpxPort:
    """The real implementation: httpx, no redirects followed, explicit timeouts."""

    def post_form(self, url: str, data: dict, timeout: float) -> int:
        try:
            response = httpx.post(url, data=data, timeout=timeout, follow_redirects=False,
                                  headers={"Cache-Control": "no-store"})
        except httpx.HTTPError as e:
            raise OutboundError(type(e).__name__) from e
        return response.status_code

    def get_json(self, url: str, timeout: float) -> dict:
        try:
            response = httpx.get(url, timeout=timeout, follow_redirects=False)
            response.raise_for_status()
            value = response.json()
        except (httpx.HTTPError, ValueError) as e:
            raise OutboundError(type(e).__name__) from e
        if not isinstance(value, dict):
            raise OutboundError("not a JSON object")
        return value


def http() -> HttpPort:
    return current_app.extensions["idp.oidc_http"]

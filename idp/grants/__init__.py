"""What was granted and issued: consents, grants (token families), codes and tokens.

The one owner of these records, below the OpenID provider (``idp.oidc`` adapts them to
Authlib) and the account and admin services. Revoking lives in ``revocation`` only,
with one rule: a grant ends with every refresh and access token issued under it.
Nothing here imports Authlib or reads the request.
"""

from __future__ import annotations

from .revocation import (
    revoke_access_token,
    revoke_family,
    revoke_for_client,
    revoke_for_code,
    revoke_for_session,
    revoke_for_user,
)

__all__ = ["revoke_access_token", "revoke_family", "revoke_for_client", "revoke_for_code",
           "revoke_for_session", "revoke_for_user"]

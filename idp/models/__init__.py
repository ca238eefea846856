"""SQLAlchemy models. No model imports Flask, services or Authlib."""

from .admin import AdminRecoveryCode, InitialAccessToken
from .audit import AuditEvent
from .base import Base
from .client import Client
from .registry import RegistryRecord
from .security import OtpChallenge, OtpThrottle, RegistrationDraft, SmsMessage
from .session import BackchannelLogoutJob, PendingAuthorization, SessionClient, SsoSession
from .token import AccessToken, AuthorizationCode, Consent, RefreshToken, TokenFamily, UsedJti
from .user import User

__all__ = [
    "AccessToken",
    "AuditEvent",
    "AdminRecoveryCode",
    "AuthorizationCode",
    "BackchannelLogoutJob",
    "Base",
    "Client",
    "Consent",
    "OtpChallenge",
    "InitialAccessToken",
    "OtpThrottle",
    "PendingAuthorization",
    "RefreshToken",
    "RegistrationDraft",
    "RegistryRecord",
    "SessionClient",
    "SmsMessage",
    "SsoSession",
    "TokenFamily",
    "UsedJti",
    "User",
]

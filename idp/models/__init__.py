"""SQLAlchemy models. No model imports Flask, services or Authlib."""

from .admin import AdminRecoveryCode, InitialAccessToken
from .audit import AuditEvent
from .base import Base
from .client import Client, ClientsVersion
from .mail import EmailChallenge, MailMessage
from .passkey import Passkey, WebauthnChallenge
from .recovery import RecoveryRequest
from .registry import RegistryRecord
from .security import (
    CaptchaChallenge,
    LoginThrottle,
    OtpChallenge,
    OtpThrottle,
    RegistrationDraft,
    SmsMessage,
)
from .session import (
    BackchannelLogoutJob,
    PendingAuthentication,
    PendingAuthorization,
    PushedAuthorizationRequest,
    SessionClient,
    SsoSession,
)
from .signin import SignInRecord
from .token import AccessToken, AuthorizationCode, Consent, RefreshToken, TokenFamily, UsedJti
from .user import User

__all__ = [
    "AccessToken",
    "AdminRecoveryCode",
    "AuditEvent",
    "AuthorizationCode",
    "BackchannelLogoutJob",
    "CaptchaChallenge",
    "Base",
    "Client",
    "ClientsVersion",
    "Consent",
    "EmailChallenge",
    "InitialAccessToken",
    "OtpChallenge",
    "LoginThrottle",
    "MailMessage",
    "OtpThrottle",
    "Passkey",
    "PendingAuthentication",
    "PendingAuthorization",
    "PushedAuthorizationRequest",
    "RecoveryRequest",
    "RefreshToken",
    "RegistrationDraft",
    "RegistryRecord",
    "SessionClient",
    "SignInRecord",
    "SmsMessage",
    "SsoSession",
    "TokenFamily",
    "UsedJti",
    "WebauthnChallenge",
    "User",
]

"""Persian user-facing messages, keyed by ``DomainError.code``.

Each package keeps its own section; add entries inside your section only.
"""

from __future__ import annotations

MESSAGES: dict[str, str] = {
    # --- common ----------------------------------------------------------------
    "required": "پر کردن این فیلد الزامی است.",
    "unavailable": "سامانه در حال حاضر پاسخ نمی‌دهد. لطفاً چند دقیقه دیگر دوباره تلاش کنید.",
    # --- clients (admin) ----------------------------------------------------------
    "client_type_invalid": "نوع برنامه کاربردی نامعتبر است.",
    "client_id_taken": "این شناسه برنامه قبلاً ثبت شده است.",
    "client_not_found": "برنامه کاربردی پیدا نشد.",
    "grant_type_not_allowed": "این نوع مجوز برای این نوع برنامه مجاز نیست.",
    "auth_method_invalid": "روش احراز هویت برنامه نامعتبر است.",
    "auth_method_for_type": "برنامه‌های عمومی فقط بدون رمز (none) و برنامه‌های محرمانه فقط با رمز یا کلید کار می‌کنند.",
    "jwks_required": "برای private_key_jwt باید کلید عمومی (jwks یا jwks_uri) ثبت شود.",
    "redirect_uri_required": "دست‌کم یک نشانی بازگشت لازم است.",
    "redirect_uri_invalid": "نشانی بازگشت باید کامل باشد و # یا * نداشته باشد.",
    "redirect_uri_not_https": "نشانی بازگشت باید https باشد (http فقط برای 127.0.0.1 و localhost).",
    "scope_invalid": "دامنه دسترسی (scope) نامعتبر است.",
    "id_token_alg_invalid": "الگوریتم امضای توکن شناسه باید RS256 یا ES256 باشد.",
    "subject_type_invalid": "نوع شناسه کاربر باید public یا pairwise باشد.",
    "sector_identifier_required": "برای شناسه pairwise، شناسه بخش (sector) لازم است.",
    # --- accounts ------------------------------------------------------------------
    # --- registration ----------------------------------------------------------------
    # --- oidc ----------------------------------------------------------------------------
}


def message(code: str, **params) -> str:
    """Return the Persian message for ``code`` (the code itself if none is written yet)."""
    text = MESSAGES.get(code, code)
    return text.format(**params) if params else text

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
    "sector_identifier_invalid": "شناسه بخش (sector) باید نام میزبان باشد، مانند portal.example.ir.",
    "uri_not_web": "این نشانی باید با https:// آغاز شود.",
    "refresh_needs_code": "مجوز refresh_token فقط همراه با authorization_code معنا دارد.",
    "jwks_both": "فقط یکی از jwks یا jwks_uri را ثبت کنید، نه هر دو.",
    "jwks_invalid": "jwks باید یک JWK Set به شکل JSON با فهرست keys باشد.",
    "redirect_uri_not_allowed": "برنامه‌های ماشینی (سرویس) نشانی بازگشت ندارند.",
    "name_too_long": "نام حداکثر ۲۰۰ نویسه است.",
    "ttl_out_of_range": "عمر توکن باید بین {low} و {high} ثانیه باشد.",
    "client_type_immutable": "نوع برنامه پس از ثبت تغییر نمی‌کند؛ برنامه تازه‌ای ثبت کنید.",
    "client_has_no_secret": "این برنامه رمز (client secret) ندارد.",
    "grace_invalid": "مهلت اعتبار رمز قبلی نمی‌تواند منفی باشد.",
    "not_json": "متن واردشده JSON معتبر نیست.",
    "not_a_number": "یک عدد صحیح وارد کنید.",
    # --- administration: admins, support, audit (issue 6) -----------------------------
    "user_not_found": "کاربری با این مشخصات پیدا نشد.",
    "totp_invalid": "کد تأیید نادرست است یا مهلت آن گذشته است.",
    "totp_too_many": "تعداد تلاش‌های نادرست زیاد بود؛ نشست شما پایان یافت. دوباره وارد شوید.",
    "totp_not_enrolled": "ابتدا برنامه احراز هویت را فعال کنید.",
    "totp_already_enrolled": "احراز هویت دومرحله‌ای قبلاً فعال شده است.",
    "not_admin": "حساب شما دسترسی مدیریتی ندارد.",
    "search_query_invalid": "کد ملی (۱۰ رقم)، کد فیدا (۱۲ رقم) یا شماره همراه (۰۹…) وارد کنید.",
    "cannot_act_on_self": "این کار را نمی‌توانید روی حساب خودتان انجام دهید.",
    "user_status_not_lockable": "وضعیت این حساب اجازه مسدودسازی یا رفع مسدودی نمی‌دهد.",
    "date_range_invalid": "تاریخ شروع باید پیش از تاریخ پایان باشد.",
    "iat_invalid": "توکن ثبت برنامه نامعتبر، منقضی یا مصرف‌شده است.",
    "iat_not_found": "توکن ثبت برنامه پیدا نشد.",
    "max_uses_invalid": "تعداد دفعات استفاده باید بین ۱ و ۱۰۰۰ باشد.",
    "iat_ttl_invalid": "مدت اعتبار باید بین ۱ ساعت و ۳۶۵ روز باشد.",
    # --- accounts ------------------------------------------------------------------
    "id_code_invalid": "کد ملی (۱۰ رقم) یا کد فیدا (۱۲ رقم) را درست وارد کنید.",
    "login_failed": "کد ملی/کد فیدا یا گذرواژه نادرست است.",
    "account_temporarily_locked": "به دلیل چند تلاش ناموفق پیاپی، ورود به این حساب تا {minutes} دقیقه دیگر ممکن نیست. اگر گذرواژه را فراموش کرده‌اید از «فراموشی گذرواژه» استفاده کنید.",
    "account_locked": "حساب کاربری شما مسدود شده است. برای رفع مسدودی به یکی از شعب سازمان مراجعه کنید یا با پشتیبانی تماس بگیرید.",
    "account_disabled": "حساب کاربری شما غیرفعال شده است. برای فعال‌سازی با پشتیبانی تماس بگیرید.",
    "account_deceased": "این حساب کاربری به دلیل ثبت فوت دارنده آن در ثبت احوال غیرفعال شده است.",
    "password_charset": "گذرواژه فقط می‌تواند از حروف بزرگ و کوچک لاتین و رقم‌های انگلیسی تشکیل شود (زبان صفحه‌کلید را انگلیسی کنید).",
    "password_too_short": "گذرواژه باید دست‌کم ۸ نویسه باشد.",
    "password_too_long": "گذرواژه نباید بیش از ۶۴ نویسه باشد.",
    "password_no_upper": "گذرواژه باید دست‌کم یک حرف بزرگ لاتین (A تا Z) داشته باشد.",
    "password_no_lower": "گذرواژه باید دست‌کم یک حرف کوچک لاتین (a تا z) داشته باشد.",
    "password_no_digit": "گذرواژه باید دست‌کم یک رقم (0 تا 9) داشته باشد.",
    "password_contains_id_code": "گذرواژه نباید کد ملی یا کد فیدای شما را در خود داشته باشد.",
    "password_too_common": "این گذرواژه بسیار رایج است و به‌آسانی حدس زده می‌شود؛ گذرواژه دیگری انتخاب کنید.",
    "password_same_as_current": "گذرواژه جدید نباید با گذرواژه فعلی یکسان باشد.",
    "password_mismatch": "تکرار گذرواژه با گذرواژه یکسان نیست.",
    "current_password_wrong": "گذرواژه فعلی نادرست است.",
    "password_rules": "گذرواژه با قوانین گذرواژه سازگار نیست.",
    "password_change_expired": "مهلت تعیین گذرواژه جدید تمام شده است. لطفاً دوباره وارد شوید.",
    # --- registration ----------------------------------------------------------------
    # identity building blocks (codes, mobiles, dates) and one-time SMS codes
    "national_code_invalid": "کد ملی واردشده معتبر نیست. کد ملی ده رقم دارد؛ لطفاً آن را دوباره بررسی کنید.",
    "fida_code_invalid": "کد فیدا (کد فراگیر اتباع) واردشده معتبر نیست. این کد دوازده رقم دارد.",
    "mobile_invalid": "شماره همراه معتبر نیست. آن را به شکل ۰۹۱۲۳۴۵۶۷۸۹ وارد کنید.",
    "email_invalid": "نشانی ایمیل معتبر نیست. آن را به شکل name@example.com وارد کنید.",
    "jalali_date_invalid": "تاریخ واردشده وجود ندارد. روز، ماه و سال را دوباره بررسی کنید.",
    "jalali_date_future": "تاریخ تولد نمی‌تواند بعد از امروز باشد.",
    "otp_invalid": "کد تأیید درست نیست. {attempts_left} بار دیگر می‌توانید تلاش کنید.",
    "otp_expired": "این کد تأیید دیگر معتبر نیست. لطفاً کد تازه‌ای دریافت کنید.",
    "otp_dead": "کد تأیید چند بار اشتباه وارد شد و باطل شده است. لطفاً کد تازه‌ای دریافت کنید.",
    "otp_resend_too_soon": "کد تازه را {seconds} ثانیه دیگر می‌توانید درخواست کنید.",
    "otp_hourly_limit": "در یک ساعت گذشته چند کد به این شماره فرستاده شده است. لطفاً یک ساعت دیگر دوباره تلاش کنید.",
    "sms_unavailable": "فرستادن پیامک در حال حاضر ممکن نیست. لطفاً چند دقیقه دیگر دوباره تلاش کنید.",
    "identity_unavailable": "سامانه استعلام ثبت احوال در حال حاضر پاسخ نمی‌دهد. اطلاعات شما نگه داشته شده است؛ لطفاً چند دقیقه دیگر دوباره تلاش کنید.",
    # --- oidc ----------------------------------------------------------------------------
}


def message(code: str, **params) -> str:
    """Return the Persian message for ``code`` (the code itself if none is written yet)."""
    text = MESSAGES.get(code, code)
    return text.format(**params) if params else text

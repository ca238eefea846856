"""Security policies shared by the packages: hashing, OTP codes, rate limits, headers."""

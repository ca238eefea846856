"""A short, human description of a browser's User-Agent for the sessions list (pure)."""

from __future__ import annotations

import re

# Order matters: Edge and Opera also say "Chrome", Chrome also says "Safari".
_BROWSERS = [
    ("Edge", re.compile(r"\bEdg(?:e|A|iOS)?/(\d+)")),
    ("Opera", re.compile(r"\b(?:OPR|Opera)/(\d+)")),
    ("Samsung Internet", re.compile(r"\bSamsungBrowser/(\d+)")),
    ("Firefox", re.compile(r"\b(?:Firefox|FxiOS)/(\d+)")),
    ("Chrome", re.compile(r"\b(?:Chrome|CriOS)/(\d+)")),
    ("Safari", re.compile(r"\bVersion/(\d+)[.\d]* (?:Mobile/\S+ )?Safari/")),
]
_SYSTEMS = [
    ("Android", re.compile(r"\bAndroid\b")),
    ("iOS", re.compile(r"\b(?:iPhone|iPad|iPod)\b")),
    ("Windows", re.compile(r"\bWindows\b")),
    ("macOS", re.compile(r"\bMac OS X\b|\bMacintosh\b")),
    ("Linux", re.compile(r"\bLinux\b|\bX11\b")),
]


def describe(user_agent: str | None) -> str:
    """Return e.g. ``"Chrome 120 · Android"``; an unknown agent gives ``"مرورگر ناشناخته"``."""
    agent = user_agent or ""
    browser = next((f"{name} {m[1]}" for name, pattern in _BROWSERS
                    if (m := pattern.search(agent))), None)
    system = next((name for name, pattern in _SYSTEMS if pattern.search(agent)), None)
    parts = [p for p in (browser, system) if p]
    return " · ".join(parts) if parts else "مرورگر ناشناخته"

"""Browser tests: Debian's chromium, driven by Playwright, against live servers.

The IdP and both demo portals (examples/portal) run as processes on free loopback ports
with a fresh SQLite instance, the demo seed and the SMS outbox. The tests read the civil
registry and the SMS codes from that database, as a citizen reads the phone. Every page a
test marks with ``person.step(...)`` is checked: ``dir="rtl"`` on Persian pages, no
horizontal scroll at 390 px, a screenshot at 390 px and 1280 px (``e2e/output/``); the whole
run fails on a console error or on a request to any origin but the three servers.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import jdatetime
import pytest
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = Path(os.environ.get("E2E_OUTPUT", ROOT / "e2e" / "output"))
CHROMIUM = os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu"]
PORT_RANGE = range(int(os.environ.get("E2E_PORT_START", "18500")), 65535)
AXE = ROOT / "e2e" / "assets" / "axe.min.js"
AXE_VERSION = "4.14.1"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
PERSIAN_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
#: Issue 11 item 7: the IdP has no /favicon.ico yet (fixed on helper D's branch). Until it
#: is merged, this one console error is set aside here and test_pages.py::test_favicon
#: fails strictly in its place; delete both at merge.
def _launcher():
    spec = importlib.util.spec_from_file_location(
        "run_demo", ROOT / "examples" / "portal" / "run_demo.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def free_ports(count: int) -> list[int]:
    ports = []
    for port in PORT_RANGE:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        ports.append(port)
        if len(ports) == count:
            return ports
    raise RuntimeError("no free loopback ports")


class Database:
    """The IdP's SQLite file, read the way a test reads a phone and the civil registry."""

    def __init__(self, path: Path):
        self.path = path

    def rows(self, sql: str, *args) -> list[sqlite3.Row]:
        with sqlite3.connect(self.path) as db:
            db.row_factory = sqlite3.Row
            return db.execute(sql, args).fetchall()

    def free_citizen(self, id_type: str = "national", taken: set | None = None) -> dict:
        """A registry record without an account (and not used by another test)."""
        for row in self.rows(
                "SELECT * FROM registry_records WHERE id_type = ? AND is_deceased = 0 AND "
                "id_code NOT IN (SELECT id_code FROM users) ORDER BY id", id_type):
            if taken is None or row["id_code"] not in taken:
                record = dict(row)
                birth = jdatetime.date.fromgregorian(date=date.fromisoformat(row["birth_date"]))
                record["jalali"] = (birth.year, birth.month, birth.day)
                if taken is not None:
                    taken.add(row["id_code"])
                return record
        raise LookupError(f"no free {id_type} registry record")

    def logout_jobs(self, client_id: str | None = None) -> list[sqlite3.Row]:
        sql = "SELECT * FROM backchannel_logout_jobs"
        return self.rows(sql + " WHERE client_id = ?", client_id) if client_id \
            else self.rows(sql)

    def wait_for_logouts(self, timeout: float = 30) -> None:
        """Wait until every back-channel logout the IdP queued has been attempted."""
        deadline = time.monotonic() + timeout
        while any(job["delivered_at"] is None and job["attempts"] == 0
                  for job in self.logout_jobs()):
            assert time.monotonic() < deadline, "back-channel logouts not attempted"
            time.sleep(0.1)

    def user(self, id_code: str) -> sqlite3.Row:
        return self.rows("SELECT * FROM users WHERE id_code = ?", id_code)[0]

    def last_sms_id(self) -> int:
        return self.rows("SELECT coalesce(max(id), 0) AS n FROM sms_outbox")[0]["n"]

    def sms_code(self, mobile: str, after: int) -> str:
        """The code of the newest SMS to ``mobile`` sent after message ``after``."""
        rows = self.rows("SELECT text FROM sms_outbox WHERE mobile = ? AND id > ? "
                         "ORDER BY id DESC", mobile, after)
        assert rows, f"no SMS to {mobile}"
        return re.search(r"#([0-9]{6})\s*$", rows[0]["text"])[1]


@pytest.fixture(scope="session")
def servers(tmp_path_factory):
    shutil.rmtree(OUTPUT / "screenshots", ignore_errors=True)  # this run's pictures only
    launcher = _launcher()
    idp_port, eservices, profile = free_ports(3)
    instance = tmp_path_factory.mktemp("instance")
    logs = OUTPUT / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    env = {"IDP_KEYS_DIR": str(instance / "keys"), "IDP_LOG_LEVEL": "WARNING"}
    processes, urls = launcher.start(idp_port, {"eservices": eservices, "profile": profile},
                                     instance, env=env, log_dir=logs)
    seed = urls.pop("seed")
    idp_env = {**os.environ, **env, "FLASK_APP": "idp", "IDP_INSTANCE_PATH": str(instance),
               "IDP_ISSUER": urls["idp"]}

    def flask(*args: str) -> str:
        """Run a `flask` command against the live IdP's instance; return its output."""
        done = subprocess.run([sys.executable, "-m", "flask", *args], env=idp_env, cwd=ROOT,
                              capture_output=True, text=True, check=False)
        assert done.returncode == 0, f"flask {args}: {done.stdout}{done.stderr}"
        return done.stdout

    urls["flask"] = flask
    code, password = re.search(r"national code (\d+), password (\S+)", seed).groups()
    urls["demo"] = {"id_code": code, "password": password}
    urls["db"] = Database(instance / "idp.sqlite3")
    yield urls
    launcher.stop(processes)


@pytest.fixture(scope="session")
def taken():
    """Registry codes already used by a test of this run."""
    return set()


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class Person:
    """One citizen's browser (a Playwright context) with the checks of every page."""

    def __init__(self, browser, servers, name: str):
        self.servers = servers
        self.name = name
        self.allowed = {servers[k] for k in ("idp", "eservices", "profile")}
        self.context = browser.new_context(viewport=PHONE, locale="fa-IR",
                                           timezone_id="Asia/Tehran")
        self.context.set_default_timeout(15000)
        self.errors: list[str] = []
        self.foreign: list[str] = []
        self.context.on("request", self._request)
        self.context.on("console", self._console)
        self.context.on("weberror", lambda e: self.errors.append(f"page error: {e.error}"))
        self.page = self.context.new_page()
        self.visited: list[str] = []  # every URL the tab navigated to
        self.page.on("framenavigated", lambda frame: frame.parent_frame is None
                     and self.visited.append(frame.url))
        self.shots = OUTPUT / "screenshots" / name
        self.shots.mkdir(parents=True, exist_ok=True)
        self.count = 0

    def _request(self, request):
        origin = re.match(r"^[a-z-]+://[^/]+", request.url)
        if request.url.startswith(("data:", "blob:", "about:")):
            return
        if origin is None or origin[0] not in self.allowed:
            self.foreign.append(request.url)

    def _console(self, message):
        if message.type == "error":
            error = f"console: {message.text} ({message.location.get('url')})"
            self.errors.append(error)

    def url(self, server: str, path: str = "/") -> str:
        return self.servers[server] + path

    def goto(self, server: str, path: str = "/"):
        self.page.goto(self.url(server, path))
        return self.page

    def step(self, label: str, axe: bool = False) -> None:
        """Check the page as it is now and take its two screenshots."""
        page = self.page
        page.wait_for_load_state("load")
        self.count += 1
        where = page.url
        lang, direction = page.evaluate(
            "[document.documentElement.lang, document.documentElement.dir]")
        if lang.startswith("fa"):
            assert direction == "rtl", f"{label}: dir={direction!r} on {where}"
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{label}: {overflow}px horizontal scroll at 390px on {where}"
        name = f"{self.count:02d}-{label}"
        page.screenshot(path=self.shots / f"{name}-390.png", full_page=True)
        page.set_viewport_size(DESKTOP)
        page.screenshot(path=self.shots / f"{name}-1280.png", full_page=True)
        page.set_viewport_size(PHONE)
        self.assert_clean(label)
        if axe:
            self.assert_accessible(label)

    def assert_clean(self, label: str = "") -> None:
        assert not self.errors, f"{label}: console errors {self.errors}"
        assert not self.foreign, f"{label}: requests to other origins {self.foreign}"

    def axe_violations(self) -> list[dict]:
        """Serious and critical axe-core violations of the page."""
        if not self.page.evaluate("typeof window.axe === 'object'"):
            self.page.evaluate(AXE.read_text(encoding="utf-8"))
        results = self.page.evaluate(
            "axe.run(document, {resultTypes: ['violations']})")
        return [{"id": v["id"], "impact": v["impact"],
                 "nodes": [n["target"] for n in v["nodes"]][:5]}
                for v in results["violations"] if v["impact"] in ("serious", "critical")]

    def assert_accessible(self, label: str) -> None:
        violations = self.axe_violations()
        assert not violations, f"{label}: axe {AXE_VERSION} on {self.page.url}: {violations}"

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def person(browser, servers, request):
    """A new browser (no cookies) for one test."""
    someone = Person(browser, servers, request.node.name)
    yield someone
    someone.close()
    someone.assert_clean("after the test")


def fa(text: str) -> str:
    """ASCII digits as Persian digits: what a citizen with a Persian keyboard types."""
    return str(text).translate(PERSIAN_DIGITS)

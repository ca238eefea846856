"""``make demo``: the IdP (migrated, seeded) and both demo portals on loopback ports.

Prints the three URLs and stops the three processes (by PID) on Ctrl-C. The browser tests
(e2e/) start the same servers through :func:`start` on ports of their own.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
#: client id, title, header colour
PORTALS = [("eservices", "خدمات غیرحضوری", "#1f4e79"), ("profile", "پروفایل", "#5b2c6f")]


def flask(env: dict, *args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "flask", *args], env=env, cwd=ROOT,  # noqa: S603
                          check=True, **kwargs)


def start(idp_port: int, portal_ports: dict[str, int], instance: Path,
          env: dict | None = None, log_dir: Path | None = None) -> tuple[list, dict]:
    """Migrate and seed the IdP in ``instance``, start it and the portals; return the
    processes and ``{"idp": url, "eservices": url, "profile": url}`` once all answer."""
    base_env = {**os.environ, **(env or {})}
    issuer = f"http://127.0.0.1:{idp_port}"
    urls = {"idp": issuer, **{name: f"http://127.0.0.1:{port}"
                              for name, port in portal_ports.items()}}
    idp_env = {**base_env, "FLASK_APP": "idp", "IDP_INSTANCE_PATH": str(instance),
               "IDP_ISSUER": issuer}
    flask(idp_env, "db", "upgrade", capture_output=True)
    seeded = flask(idp_env, "demo", "seed",
                   *[f"--portal={name}={urls[name]}" for name, *_ in PORTALS],
                   capture_output=True, text=True)
    client_secrets = json.loads((instance / "demo-clients.json").read_text())
    processes = []

    def spawn(name: str, env_: dict, *args: str):
        log = open(log_dir / f"{name}.log", "w") if log_dir else None  # noqa: SIM115
        processes.append(subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "flask", *args], env=env_, cwd=ROOT,
            stdout=log, stderr=subprocess.STDOUT if log else None))
        if log:
            log.close()  # the child has its own copy

    spawn("idp", idp_env, "run", "--host", "127.0.0.1", "--port", str(idp_port))
    for name, title, colour in PORTALS:
        spawn(name, {**base_env, "FLASK_APP": str(HERE / "portal.py"),
                     "PORTAL_CLIENT_ID": name, "PORTAL_CLIENT_SECRET": client_secrets[name],
                     "PORTAL_TITLE": title, "PORTAL_COLOR": colour, "PORTAL_ISSUER": issuer,
                     "PORTAL_BASE_URL": urls[name],
                     "PORTAL_SECRET_KEY": secrets.token_urlsafe(32)},
              "run", "--host", "127.0.0.1", "--port", str(portal_ports[name]))
    try:
        for url in [issuer + "/healthz", *(urls[name] + "/" for name, *_ in PORTALS)]:
            wait_for(url, processes)
    except BaseException:
        stop(processes)
        raise
    return processes, {**urls, "seed": seeded.stdout}


def wait_for(url: str, processes: list, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5):  # noqa: S310 (loopback)
                return
        except OSError:
            if time.monotonic() > deadline or any(p.poll() is not None for p in processes):
                raise RuntimeError(f"{url} did not answer") from None
            time.sleep(0.2)


def stop(processes: list) -> None:
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--idp-port", type=int, default=5000)
    parser.add_argument("--eservices-port", type=int, default=5001)
    parser.add_argument("--profile-port", type=int, default=5002)
    parser.add_argument("--instance", type=Path, default=ROOT / "instance")
    args = parser.parse_args()
    # Ctrl-C (SIGINT, even when started in the background) and `kill PID` stop all three.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    processes, urls = start(args.idp_port, {"eservices": args.eservices_port,
                                            "profile": args.profile_port},
                            args.instance.resolve())
    print(urls["seed"])
    print(f"IdP:        {urls['idp']}/login")
    print(f"eservices:  {urls['eservices']}/   (خدمات غیرحضوری)")
    print(f"profile:    {urls['profile']}/   (پروفایل)")
    print("PIDs: " + " ".join(str(p.pid) for p in processes) + "   Ctrl-C stops them.")
    try:
        while all(p.poll() is None for p in processes):
            time.sleep(0.5)
        print("a server stopped; stopping the others", file=sys.stderr)
    except KeyboardInterrupt:
        pass
    finally:
        stop(processes)


if __name__ == "__main__":
    main()

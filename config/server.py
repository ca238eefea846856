"""The production server: load and check the settings, then become Granian.

    IDP_ENV=production python config/server.py

Every ``SERVER_*`` setting (README, Configuration) becomes a Granian option: workers,
threads per worker, the graceful timeout, the access log (JSON with ``LOG_FORMAT =
"json"``). The settings are loaded and checked here, in one process, before any socket
is bound or worker started: an unsafe production configuration (no ``SECRET_KEY`` …) ends
the command with status 1 and the reason, instead of workers that fail and are respawned
forever behind an open port. Then this process execs Granian (same PID, so a supervisor or
``make cluster`` can stop it), whose workers load ``wsgi:app`` with the same settings.

Several workers share their metrics through ``PROMETHEUS_MULTIPROC_DIR`` (the
``prometheus`` folder of the instance folder unless set), emptied here at each start.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def granian_arguments(cfg, instance_path: str) -> list[str]:
    """The Granian command line for the settings ``cfg``."""
    from idp import logs

    workers = cfg.server_workers or os.cpu_count() or 1
    arguments = [
        "--interface", "wsgi", "--host", cfg.server_host, "--port", str(cfg.server_port),
        "--workers", str(workers), "--blocking-threads", str(cfg.server_threads),
        "--workers-kill-timeout", str(cfg.server_graceful_timeout),
        "--respawn-failed-workers", "--working-dir", str(ROOT), "--no-ws",
        "--access-log" if cfg.server_access_log else "--no-access-log",
        "--access-log-fmt", logs.ACCESS_FORMAT,
    ]
    log_config = logs.granian_logging(cfg.log_format)
    if log_config is not None:
        path = Path(instance_path) / "granian-logging.json"
        path.write_text(json.dumps(log_config))
        arguments += ["--log-config", str(path)]
    return [*arguments, "wsgi:app"]


def main() -> None:
    from idp import create_app, settings
    from idp.extensions import db

    app = create_app()  # raises SettingsError (exit status 1, one line) when unsafe
    cfg = settings.of(app)
    with app.app_context():
        for engine in db.engines.values():
            engine.dispose()
    if cfg.metrics_enabled and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        directory = Path(app.instance_path) / "prometheus"
        shutil.rmtree(directory, ignore_errors=True)  # a previous run's counts
        directory.mkdir(parents=True)
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)
    arguments = granian_arguments(cfg, app.instance_path)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, [sys.executable, "-m", "granian", *arguments])  # noqa: S606


if __name__ == "__main__":
    main()

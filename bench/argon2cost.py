"""Print, as JSON, the CPU cost of one argon2id verification with the IdP's own hasher.

Run by ``bench/run.py`` in the environment of the server under test, so the parameters
are the ones that server uses (``PASSWORD_ARGON2_*``, production defaults unless set).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

# The checkout being measured, not whatever an editable install points at.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask import Flask  # noqa: E402

from idp import settings  # noqa: E402
from idp.accounts.passwords import make_hasher  # noqa: E402

ROUNDS = 20


def main() -> None:
    app = Flask(__name__, instance_path=settings.instance_path())
    settings.load(app)
    hasher = make_hasher(settings.of(app))
    password = "Bench1403Citizen"
    stored = hasher.hash(password)
    hasher.verify(stored, password)  # first call: allocations, lazy imports
    started = time.process_time()
    for _ in range(ROUNDS):
        hasher.verify(stored, password)
    cpu_ms = (time.process_time() - started) * 1000 / ROUNDS
    print(json.dumps({
        "time_cost": hasher.time_cost, "memory_cost_kib": hasher.memory_cost,
        "parallelism": hasher.parallelism, "verify_cpu_ms": round(cpu_ms, 2),
        "rounds": ROUNDS}))


if __name__ == "__main__":
    main()

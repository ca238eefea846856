"""``flask oidc``: back-channel logout delivery, once (cron) or as a long-running worker."""

from __future__ import annotations

import logging
import signal
import threading
import time

import click
from flask.cli import AppGroup

from .. import mail
from ..admin import maintenance
from ..extensions import db
from ..oidc import logout

oidc_cli = AppGroup("oidc", help="OpenID provider: back-channel logout delivery.")
logger = logging.getLogger("idp.worker")


@oidc_cli.command("deliver-logouts")
def deliver_logouts():
    """Send due back-channel logout tokens again (run every minute from cron)."""
    delivered, failed = logout.deliver()
    click.echo(f"delivered {delivered}, failed {failed}")


@oidc_cli.command("worker")
@click.option("--interval", type=float, default=10.0, show_default=True,
              help="Seconds between two rounds of due back-channel logout deliveries.")
@click.option("--purge-every", type=float, default=3600.0, show_default=True,
              help="Seconds between two `maintenance purge` runs (0: never).")
@click.option("--rounds", type=int, default=0, help="Stop after this many rounds (0: never).")
def worker(interval, purge_every, rounds):
    """Deliver due logouts and pending mail, purge expired rows, until SIGTERM/SIGINT.

    Safe on every instance at once: a delivery attempt is claimed by one conditional
    UPDATE (whoever loses skips the job), and one purge runs at a time (an advisory lock
    on PostgreSQL). A failing round (database down) is logged and retried next round.
    """
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set())
                for sig in (signal.SIGTERM, signal.SIGINT)}
    click.echo(f"worker started: deliveries every {interval:g} s, purge every {purge_every:g} s")
    try:
        done = _run(stop, interval, purge_every, rounds)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    click.echo(f"worker stopped after {done} rounds")


def _run(stop: threading.Event, interval: float, purge_every: float, rounds: int) -> int:
    next_purge = time.monotonic() + purge_every if purge_every else float("inf")
    done = 0
    while not stop.is_set():
        try:
            delivered, failed = logout.deliver()
            if delivered or failed:
                logger.info("back-channel logouts: delivered %s, failed %s", delivered, failed)
            sent, failed = mail.deliver_pending()
            if sent or failed:
                logger.info("mail: sent %s, failed %s", sent, failed)
            if time.monotonic() >= next_purge:
                next_purge = time.monotonic() + purge_every
                logger.info("purge: %s", maintenance.purge() or "skipped (another instance)")
        except Exception:  # the next round tries again; the worker must not die
            logger.exception("worker round failed")
        finally:
            db.session.remove()
        done += 1
        if rounds and done >= rounds:
            break
        stop.wait(interval)
    return done

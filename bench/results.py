"""Write a run's results as ``bench/results/<date>-<database>[-<label>].json`` and ``.md``."""

from __future__ import annotations

import json
from pathlib import Path

COLUMNS = ("scenario", "unit", "done", "errors", "per s", "p50 ms", "p99 ms",
           "server CPU ms/unit", "DB CPU ms/unit", "other load on server CPU")


def stem(run: dict) -> str:
    """Return the file name without suffix: ``<date>-<database>[-<label>]``."""
    label = f"-{run['label']}" if run.get("label") else ""
    return f"{run['date']}-{run['database']}{label}"


def _num(value, digits: int = 1) -> str:
    return "–" if value is None else f"{value:,.{digits}f}"


def _pct(value) -> str:
    return "–" if value is None else f"{value:.0f}%"


def table_rows(scenarios: list[dict]) -> list[list[str]]:
    """Return the cells of the results table, one row per scenario."""
    rows = []
    for s in scenarios:
        errors = str(s["errors"])
        if s["error_detail"]:
            errors += " (" + ", ".join(f"{k} {v}" for k, v in s["error_detail"].items()) + ")"
        rows.append([s["name"], s["unit"], f"{s['requests']:,}", errors, _num(s["rps"]),
                     _num(s["p50_ms"]), _num(s["p99_ms"]), _num(s["server_cpu_ms_per_req"], 2),
                     _num(s["db_cpu_ms_per_req"], 2), _pct(s["server_core_other_pct"])])
    return rows


def markdown_table(header, rows) -> str:
    """Return a Markdown table of ``header`` and ``rows`` (lists of cell strings)."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def _markdown(run: dict) -> str:
    s, m, a, git = run["settings"], run["machine"], run["argon2"], run["git"]
    pinning = (f"the server pinned to CPU {m['server_cpu']}, the load generator to CPU "
               f"{m['client_cpu']}" if m["pinned"] else "no CPU pinning (fewer than 2 CPUs)")
    lines = [
        f"# Bench {run['database']}, {run['date']}" + (f" ({run['label']})" if run["label"]
                                                       else ""),
        "",
        f"- Code: commit `{git['commit']}`" + (" with uncommitted changes" if git["dirty"]
                                               else "") + ".",
        f"- Server: `{s['server']}`, IdP settings "
        f"`IDP_ENV=production` with `bench/idp.toml`; {pinning}.",
        f"- Database: {s['database_detail']}. Rows at the start: "
        + ", ".join(f"{table} {n:,}" for table, n in s["rows_at_start"].items()) + ".",
        f"- Load: {s['duration_s']:g} s per scenario after {s['warmup_s']:g} s of warm-up; wrk "
        f"{s['wrk_threads']} thread(s), {s['connections']} connections; the sign-in driver "
        f"runs {s['connections']} citizens at once. Token pools: {s['pool']} sign-ins made "
        "before the load.",
        f"- Rate limits: {s['rate_limits']}",
        f"- argon2id (the app's hasher, t={a['time_cost']}, m={a['memory_cost_kib']} KiB, "
        f"p={a['parallelism']}): {a['verify_cpu_ms']:.1f} ms CPU per verification.",
        f"- Machine: {m['cpu_model']}, {m['cpus']} CPUs; load average {m['load_before'][0]:.2f} "
        f"before, {m['load_after'][0]:.2f} after; Python {m['python']}.",
        "",
        markdown_table(COLUMNS, table_rows(run["scenarios"])),
        "",
    ]
    shares = [f"{sc['name']}: argon2id is {sc['argon2_share_pct']:.0f}% of the server CPU"
              for sc in run["scenarios"] if sc.get("argon2_share_pct") is not None]
    if shares:
        lines += ["argon2id share (one verification per unit): " + "; ".join(shares) + ".", ""]
    lines += [
        "How to read it (bench/README.md): *server CPU ms/unit* is the CPU time (user + "
        "system, from /proc) of the server's process tree during the scenario divided by "
        "the completed units; compare that between runs, not req/s, on a shared machine. "
        "*DB CPU* is the same for the PostgreSQL backends serving the bench database. "
        "*Other load on server CPU* is the share of that CPU's time taken by other "
        "processes during the scenario; high values mean noisy latency and throughput.",
        "",
    ]
    return "\n".join(lines)


def write(run: dict, out_dir: Path) -> tuple[Path, Path]:
    """Write the JSON and Markdown files of ``run``; return their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path = out_dir / f"{stem(run)}.json"
    md_path = out_dir / f"{stem(run)}.md"
    json_path.write_text(json.dumps(run, indent=2, ensure_ascii=False) + "\n")
    md_path.write_text(_markdown(run))
    return json_path, md_path

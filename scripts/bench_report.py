"""The benchmark's tables (Markdown, padded so that they also read as plain text) from its results."""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
import urllib.parse
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bench_duty import DAYS, TARGET_S, DutyResult
from bench_http import THREADS, WORKER_CLASS, WrkResult
from bench_lists import TIMED, Shown, Timing
from bench_patrol_records import FIX_EVERY_S, FIXES
from bench_patrols import COVERAGE_TARGET_S, UPLOAD_TARGET, PatrolsResult

NOT_FLAT = 1.5  # province / county median above this: the list does not stay flat as the territory grows


@dataclass
class BackendResult:
    backend: str
    versions: str = ""
    setup: list[tuple[str, str, str]] = field(default_factory=list)  # (step, seconds, rows)
    http: list[WrkResult] = field(default_factory=list)
    http_province: list[WrkResult] = field(default_factory=list)  # the spatial questions at province scale
    county: dict[str, Timing] = field(default_factory=dict)
    province: dict[str, Timing] = field(default_factory=dict)
    plans: list[tuple[str, str]] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)
    patrols: PatrolsResult | None = None  # the patrol targets of issue 10
    duty: DutyResult | None = None  # the duty target of issue 11
    load: list[str] = field(default_factory=list)  # the load average when each part started: is the machine quiet?
    problems: list[str] = field(default_factory=list)


def table(header: list[str], rows: list[list[str]], align: str = "") -> list[str]:
    """A Markdown table, padded so that it also reads as plain text. `align`: one of l/r per column."""
    align = align or "l" * len(header)
    widths = [max(len(str(x)) for x in column) for column in zip(header, *rows, strict=True)]

    def line(cells: list[str]) -> str:
        padded = [
            str(c).rjust(w) if a == "r" else str(c).ljust(w) for c, w, a in zip(cells, widths, align, strict=True)
        ]
        return "| " + " | ".join(padded) + " |"

    rule = ["-" * (w - 1) + ":" if a == "r" else "-" * w for w, a in zip(widths, align, strict=True)]
    return [line(header), line(rule), *(line(r) for r in rows)]


def _ms(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


def _met(ok: bool) -> str:
    return "met" if ok else "**NOT MET**"


def _s(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


def patrol_tables(p: PatrolsResult, worker_class: str) -> list[str]:
    """The patrol targets: the batch upload, the resend, and each township's month of coverage."""
    up = p.upload
    out = [
        f"### Patrols over HTTP (issue 10): batch upload and a township's month of coverage, gunicorn ({worker_class},"
        f" 2 workers" + ("" if worker_class == "sync" else f" x {THREADS} threads") + ")",
        "",
        f"{up.records:,} new grid-patrol records (each one cell, {FIXES} fixes ~{FIX_EVERY_S} s apart, 0-3 check-ins: "
        f"{up.points:,} fixes, {up.check_ins:,} check-ins, {up.findings:,} findings in all) sent as "
        f"{up.batches} batches of up to {up.batch_size} (`POST /api/v1/patrols/batch`) by {up.clients} client "
        f"threads at once, each its own keep-alive connection, as the demo `admin`. Patrols/s: records created / "
        f"the time from the first request to the last answer. Latency: per batch, answered 200.",
        "",
    ]
    refused, failed = up.outcomes["refused"], up.failed_batches
    outcomes = ", ".join(f"{n:,} {k}" for k, n in sorted(up.outcomes.items())) or "none"
    rows = [
        ["patrols stored per second", f"{up.per_second:,.1f}", f"at least {UPLOAD_TARGET:g}",
         _met(up.per_second >= UPLOAD_TARGET)],
        ["batches per second", f"{up.batches_per_second:.2f}", "", ""],
        ["latency per batch, p50 / p95 / max (s)",
         " / ".join(_s(v) for v in (up.latency(50), up.latency(95), max(up.latencies_s, default=None))), "", ""],
        ["upload time (s)", f"{up.seconds:.1f}", "", ""],
        ["answers", f"{outcomes}; {failed} batches failed", "every record created", _met(up.all_created)],
        [f"resend of a stored batch ({sum(up.resend_outcomes.values())} records)",
         f"{_s(up.resend_s)} s: " + (", ".join(f"{n} {k}" for k, n in up.resend_outcomes.items())
                                    or up.resend_failure or "no answer"),
         "every record stored", _met(up.resend_all_stored)],
    ]  # fmt: skip
    out += [*table(["measure", "figure", "target", ""], rows, "lrll"), ""]
    if refused:
        out += [f"Refused: {refused:,}; the first: {up.first_refusal}", ""]
    if failed:
        out += [f"Failed batches: {failed}; the first: {up.first_failure}", ""]
    if p.period:
        out += [
            f"Coverage of a township for {p.period[0]} to {p.period[1]} (`GET /api/v1/patrols/coverage/township/{{id}}"
            f"?from={p.period[0]}&to={p.period[1]}`), {p.repeat} single requests each, one after the other, "
            f"through the same server after the upload. The month holds {p.month_after:,} patrols in the county's "
            f"{p.cells:,} cells ({p.month_before:,} of the demo's before the upload), "
            f"{p.month_after / p.cells if p.cells else 0:.1f} per cell. `uploaded`: of the township's patrols, "
            f"those of this run; `track points`: the fixes of all its patrols of the month. Target: a median under "
            f"{COVERAGE_TARGET_S:g} s.",
            "",
        ]
        rows = [
            [f"{c.name} ({c.township_id})", str(c.cells), f"{c.patrols:,}", f"{c.uploaded:,}", f"{c.track_points:,}",
             f"{c.person_visits:,}", f"{c.check_ins:,}", "" if c.covered_share is None else f"{c.covered_share:.3f}",
             _s(c.median_s), _s(c.max_s), str(len(c.seconds)), c.failure[:80] or _met(c.met)]
            for c in p.coverage
        ]  # fmt: skip
        header = ["township", "cells", "patrols", "uploaded", "track points", "person-visits", "check-ins",
                  "covered_share", "median s", "max s", "runs", f"< {COVERAGE_TARGET_S:g} s"]  # fmt: skip
        out += [*table(header, rows, "lrrrrrrrrrrl"), ""]
    return out


def duty_tables(d: DutyResult) -> list[str]:
    """The duty target: the check of a period across its units, with what its answer held."""
    out = [
        f"### Duty over HTTP (issue 11): the check of a {DAYS}-day period across {d.units} units, gunicorn "
        f"({WORKER_CLASS}, 2 workers x {THREADS} threads)",
        "",
        f"`GET /api/v1/duty/periods/{d.period_id}/check` as the demo `admin`, {d.repeat} single requests one after "
        f"the other, after warm-up. The period (08:30 to 08:30, leader required, day duty until 17:30) names "
        f"{d.units} units ({d.departments_added} departments and {d.accounts_added:,} accounts added for it, bulk "
        f"SQL); each has a roster submitted (bulk SQL, as the service writes one): {d.rosters} rosters, "
        f"{d.shifts:,} shifts, {d.people:,} people on them, {d.split_units} units splitting the day. Planted: "
        + ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in d.planted.items())
        + f". Set up in {d.setup_s:.1f} s (untimed). `in process`: `check_period` alone (no HTTP, no JSON).",
        "",
    ]
    median, s = d.median_s, d.summary
    whole = ("units", "submitted", "not submitted", "late")  # the mismatches about the units rather than problems
    rows = [
        ["the period's check, median / max (s)", f"{_s(median)} / {_s(d.max_s)}", f"under {TARGET_S:g}",
         d.failure[:80] or _met(d.met)],
        ["median / target", f"{median / TARGET_S:.2f}" if median else "", "under 1", ""],
        ["in process, median; each run (s); of which garbage collection",
         f"{d.in_process_median_s:.3f}; " + ", ".join(f"{t:.2f}" for t in d.in_process_s) + "; "
         + ", ".join(f"{t:.2f}" for t in d.in_process_gc_s) if d.in_process_s else "", "", ""],
        ["answer", f"{d.answer_bytes / 1e6:.2f} MB: {d.answered_units} units ({d.submitted_units} submitted, "
         f"{d.late_units} late), {d.problems_answered:,} problems",
         f"{d.units} units submitted, {d.planted.get('late', 0)} late",
         _met(bool(d.answered_units) and not [m for m in d.mismatches if m.startswith(whole)])],
        ["problems found", ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in s.items() if v) or "none",
         "as planted", _met(bool(s) and not d.mismatches)],
    ]  # fmt: skip
    out += [*table(["measure", "figure", "target", ""], rows, "lrll"), ""]
    if d.mismatches:
        out += ["Not as planted: " + "; ".join(d.mismatches), ""]
    if d.profile:
        out += ["`check_period` in process, cProfile (by own time):", "", "```", d.profile.strip(), "```", ""]
    return out


def not_flat(result: BackendResult, limit: float) -> list[tuple[str, float]]:
    out = []
    for label, county in result.county.items():
        prov = result.province.get(label)
        if prov and prov.median_ms and county.median_ms and prov.median_ms / county.median_ms > limit:
            out.append((label, prov.median_ms / county.median_ms))
    return out


def report(results: list[BackendResult], args: argparse.Namespace, tools: str, started: float) -> list[str]:
    out = [
        f"# Grid patrol benchmark, {datetime.now().astimezone():%Y-%m-%d %H:%M %z}",
        "",
        f"Machine: {os.cpu_count()} CPUs, {platform.platform()}, Python {platform.python_version()}; {tools}.",
        f"Command: `{' '.join(sys.argv)}`; the whole run took {(time.perf_counter() - started) / 60:.1f} min.",
        "",
    ]
    for r in results:
        out += [f"## {r.backend} ({r.versions})", ""]
        if r.load:
            out += [
                f"Load average (1 min) as each part started, out of {os.cpu_count()} CPUs: {', '.join(r.load)}.",
                "",
            ]
        out += [*table(["step", "seconds", "rows"], [list(s) for s in r.setup], "lrl"), ""]
        if r.http:
            # the no-op is measured first and again last: the higher of the two is the reference (a busy moment of
            # the machine at either end lowers it, and would flatter every ratio)
            base = max(h.rps for h in r.http if h.label.startswith(r.http[0].label)) or 1
            out += [
                f"### HTTP under gunicorn ({args.worker_class}, 2 workers x {THREADS} threads), "
                f"wrk -t{args.wrk_threads} -c{args.connections} -d{args.duration}s, demo county",
                "",
                "Client and server share the machine's cores. `x no-op`: req/s relative to the no-op without a token "
                "of this run (measured first and again last; the higher of the two). `>=400`: answers wrk counted as "
                "errors (status 400 or more); `pre-check`: one urllib "
                "request per distinct path before the run.",
                "",
            ]
            rows = [
                [
                    h.label, str(h.varied), f"{h.rps:,.0f}", f"{h.rps / base:.2f}", _ms(h.p50_ms), _ms(h.p95_ms),
                    _ms(h.p99_ms), f"{h.requests:,}", str(h.status_errors), str(h.socket_errors), h.check,
                ]
                for h in r.http
            ]  # fmt: skip
            header = ["route", "paths", "req/s", "x no-op", "p50 ms", "p95 ms", "p99 ms", "requests", ">=400",
                      "socket errors", "pre-check"]  # fmt: skip
            out += [*table(header, rows, "lrrrrrrrrrl"), ""]
        if r.http and r.http_province:
            county = {h.label: h for h in r.http}
            base = max(h.rps for h in r.http_province if h.label.startswith(r.http_province[0].label)) or 1
            out += [
                "### The spatial questions at province scale, HTTP (same server and load), province vs county",
                "",
                "The same routes on the province database (points and cells drawn from the whole province), right "
                "after the county's runs above. `p95 ratio`: province p95 / county p95 (target: at most 1.5).",
                "",
            ]
            rows = []
            for h in r.http_province:
                c = county.get(h.label.replace(" (again, last)", ""))
                ratio = f"{h.p95_ms / c.p95_ms:.2f}" if c and c.p95_ms else ""
                rows.append([h.label, f"{h.rps:,.0f}", f"{h.rps / base:.2f}", _ms(h.p50_ms), _ms(h.p95_ms),
                             _ms(c.p95_ms) if c else "", ratio, str(h.status_errors + h.socket_errors)])  # fmt: skip
            header = ["route", "req/s", "x no-op", "p50 ms", "p95 ms", "county p95 ms", "p95 ratio", "errors"]
            out += [*table(header, rows, "lrrrrrrr"), ""]
        if r.patrols is not None:
            out += patrol_tables(r.patrols, args.upload_worker_class)
        if r.duty is not None:
            out += duty_tables(r.duty)
        if r.county:
            out += [
                "### Lists and filters, in-process (Flask test client, admin token unless stated), county vs province",
                "",
                f"Median and p95 in ms over n runs (up to {args.repeat}, at least 5, fewer past {args.budget:g} s). "
                "The two databases sit side by side and each round times one request on each, in alternating "
                "order, so that a busy moment of the machine falls on both. `ratio`: province median / county "
                "median; the control rows (no database work, or the token check only) should read about 1. Varied "
                "requests draw a new point or cell each run, from the whole territory at province scale.",
                "",
            ]
            rows = []
            for item in TIMED:
                c, p = r.county.get(item.label, Timing()), r.province.get(item.label, Timing())
                ratio = f"{p.median_ms / c.median_ms:.2f}" if p.median_ms and c.median_ms else ""
                notes = "; ".join(
                    f"{scale}: {t.note}" for scale, t in (("county", c), ("province", p)) if t.note
                )  # fmt: skip
                rows.append(
                    [item.label, _ms(c.median_ms), _ms(c.p95_ms), _ms(p.median_ms), _ms(p.p95_ms), ratio,
                     str(c.n) if p.n in (0, c.n) else f"{c.n}/{p.n}", notes]
                )  # fmt: skip
            header = ["request", "county med", "county p95", "province med", "province p95", "ratio", "n", "note"]
            out += [*table(header, rows, "lrrrrrrl"), ""]
            flat = not_flat(r, NOT_FLAT)
            if r.province:
                out += [f"Not flat at province scale (ratio > {NOT_FLAT:g}): " + (
                    ", ".join(f"{label} ({ratio:.1f}x)" for label, ratio in sorted(flat, key=lambda x: -x[1]))
                    or "none"
                ), ""]  # fmt: skip
            out += ["URLs with the values used ({point} and {any_cell_id} change on every request):", ""]
            shown = [
                f"- {t.label}: `{t.prefix}{urllib.parse.unquote(t.url.format_map(Shown(r.facts)))}`" for t in TIMED
            ]
            out += [*shown, ""]
        for scale, plan in r.plans:
            out += [f"Locate query plan, {scale}:", "", "```", plan, "```", ""]
        if r.problems:
            out += ["Problems:", ""] + [f"- {p}" for p in r.problems] + [""]
    return out

#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Analyse one `make bench` run: analyze.py RESULTS_DIR.

Reads RESULTS_DIR/raw (written by selftests/vm/guest-bench.sh over 9p) and
writes, next to it:
  table.txt     the summary table with ratios and the goals
  results.json  every summary number, plus the host/guest description
  results.csv   one row per raw measurement (section,case,subject,rep,metric,value)
  *.dat, plot.gp  data and script for bench.png (run gnuplot plot.gp)

Conventions: each case is repeated; the table shows the median over the
repetitions and, in brackets, the min..max. A ratio is taken per
repetition between the two runs that ran next to each other (aiodev ÷
null_blk, ioctl ÷ libaio), and its median and min..max are shown.
Lateness = observed completion latency − requested latency.
"""
import csv
import glob
import json
import os
import re
import statistics
import sys

RES = sys.argv[1] if len(sys.argv) > 1 else "."
RAW = os.path.join(RES, "raw")
rows = []        # csv rows
summary = {}     # results.json
out = []         # table lines
problems = []


def emit(*a):
    out.append(" ".join(str(x) for x in a))


def med(v):
    return statistics.median(v) if v else float("nan")


def spread(v, fmt="{:.0f}"):
    if not v:
        return "n/a"
    return (fmt + " [" + fmt + ".." + fmt + "]").format(med(v), min(v), max(v))


def pct(sorted_v, p):
    if not sorted_v:
        return float("nan")
    rank = max(1, int(-(-p * len(sorted_v) // 100)))
    return sorted_v[min(rank, len(sorted_v)) - 1]


def kv_lines(path, prefix):
    """Lines 'PREFIX k=v k=v ...' of a file as dicts (numbers converted)."""
    res = []
    if not os.path.exists(path):
        return res
    for line in open(path):
        if not line.startswith(prefix + " "):
            continue
        d = {}
        for tok in line.split()[1:]:
            if "=" in tok:
                k, v = tok.split("=", 1)
                try:
                    d[k] = float(v) if "." in v or "e" in v else int(v)
                except ValueError:
                    d[k] = v
        res.append(d)
    return res


def read_kv(path):
    d = {}
    if os.path.exists(path):
        for line in open(path):
            if "=" in line:
                k, v = line.rstrip("\n").split("=", 1)
                d[k] = v
    return d


def fio_jobs():
    """{jobname: result} over every fio JSON(+) output in raw/fio."""
    res = {}
    for path in sorted(glob.glob(os.path.join(RAW, "fio", "*.json"))):
        try:
            j = json.load(open(path))
        except (OSError, ValueError) as e:
            problems.append("unreadable fio result %s: %s" % (path, e))
            continue
        for job in j["jobs"]:
            r = fio_result(job)
            if r:
                res[job["jobname"]] = r
    return res


def fio_result(job):
    """One fio job: iops, clat percentiles and bins, guest CPU and counters."""
    name = job["jobname"]
    if job.get("error"):
        problems.append("fio error %s in job %s" % (job["error"], name))
    d = job["read"] if job["read"]["total_ios"] else job["write"]
    if not d["total_ios"]:
        problems.append("fio job %s did no I/O" % name)
        return None
    c = d["clat_ns"]
    r = {
        "iops": d["iops"],
        "ios": d["total_ios"],
        "p50": c["percentile"].get("50.000000", float("nan")),
        "p99": c["percentile"].get("99.000000", float("nan")),
        "max": c["max"],
        "mean": c["mean"],
        "bins": {int(k): v for k, v in c.get("bins", {}).items()},
        "runtime_ms": d["runtime"],
    }
    cpu = os.path.join(RAW, "fio", name + ".cpu")
    if os.path.exists(cpu):
        v = open(cpu).read().split()
        if len(v) == 3 and int(v[0]) and int(v[1]):
            r["busy_jiffies"] = int(v[1]) - int(v[0])
    cnt = os.path.join(RAW, "fio", name + ".cnt")
    if os.path.exists(cnt):
        r["counters"] = {k: int(v) for k, v in
                         (t.split("=", 1) for t in open(cnt).read().split() if "=" in t)}
    return r


COUNTERS = ("ctxt", "LOC", "RES", "CAL", "si_HRTIMER", "si_TASKLET", "si_BLOCK", "si_SCHED")


def per_io(r, ramp):
    """Counters per I/O over the fio job's ramp + run (the .cnt window)."""
    ios = r["iops"] * (r["runtime_ms"] / 1e3 + ramp)
    c = r.get("counters")
    if not c or not ios:
        return None
    d = {k: c.get(k, 0) / ios for k in COUNTERS}
    if r.get("busy_jiffies") is not None:
        d["busy_us"] = r["busy_jiffies"] * 1e4 / ios
    return d


def bins_cdf(bins, shift=0):
    """[(value - shift, cumulative fraction)] from fio's latency bins."""
    tot = sum(bins.values())
    acc = 0
    pts = []
    for v in sorted(bins):
        acc += bins[v]
        pts.append((v - shift, acc / tot))
    return pts


def bins_pct(bins, p):
    tot = sum(bins.values())
    want = p / 100.0 * tot
    acc = 0
    for v in sorted(bins):
        acc += bins[v]
        if acc >= want:
            return v
    return float("nan")


def write_dat(name, pts, header):
    with open(os.path.join(RES, name), "w") as f:
        f.write("# " + header + "\n")
        for p in pts:
            f.write(" ".join("%.6g" % x for x in p) + "\n")


host = read_kv(os.path.join(RES, "host.txt"))
guest = read_kv(os.path.join(RAW, "guest.txt"))
conf = read_kv(os.path.join(RAW, "bench.conf"))
summary["host"] = host
summary["guest"] = guest
summary["conf"] = conf
goals = []

emit("aiodev benchmark: %s" % host.get("date", "?"))
emit("  host: %s, %s CPUs, %s; guest -smp %s -m %s, TCG" % (
    host.get("host_cpu", "?"), host.get("host_ncpu", "?"), host.get("qemu", "?"),
    host.get("vm_smp", "?"), host.get("vm_mem", "?")))
emit("  guest: %s (%s), clocksource %s; load average at start %s, at end %s"
     % (guest.get("guest_kernel", "?"), guest.get("fio_version", "?"),
        guest.get("guest_clocksource", "?"), host.get("loadavg_start", "?"),
        host.get("loadavg_end", "?")))
if host.get("clock", "real") == "icount":
    ns = 2 ** int(host.get("icount_shift", 3))
    emit("  clock: QEMU -icount shift=%s: guest time = instructions x %d ns (a %.0f MIPS CPU),"
         " idle skipped;" % (host.get("icount_shift"), ns, 1e3 / ns))
    emit("         every time and rate below is in that virtual time: compare ratios")
else:
    emit("  clock: real (plain TCG): guest time is host time; host load is noise")
emit("  git %s; repetitions %s; values: median [min..max] over repetitions"
     % (host.get("git", "?"), conf.get("BENCH_REPS", "?")))
emit("")

# ---- 1. fio throughput ----------------------------------------------------
FIO_RE = re.compile(r"^tput-(\w+)-(\w+)-qd(\d+)-(aiodev|nullb|zero)-r(\d+)$")
FIO = fio_jobs()
tput = {}
for name, r in FIO.items():
    m = FIO_RE.match(name)
    if not m:
        continue
    rw, eng, qd, dev, rep = m.group(1), m.group(2), int(m.group(3)), m.group(4), int(m.group(5))
    tput.setdefault((rw, eng, qd), {}).setdefault(dev, {})[rep] = r
    for k in ("iops", "p50", "p99", "max"):
        rows.append(["fio", "%s-%s-qd%d" % (rw, eng, qd), dev, rep, k, r[k]])

if tput:
    emit("1. fio 4k, direct=1, /dev/aiodev0 vs /dev/nullb0 (both completing at 0 ns), %ss runs"
         % conf.get("BENCH_FIO_SECS", "?"))
    emit("   %-24s %-22s %-22s %-17s %-11s %-11s %-11s %-11s %s" % (
        "job", "aiodev IOPS", "null_blk IOPS", "ratio aiodev/nb",
        "a p50 us", "nb p50 us", "a p99 us", "nb p99 us", "CPU us/IO a/nb"))
    summary["fio"] = []
    for (rw, eng, qd) in sorted(tput, key=lambda k: (k[0], k[1], k[2])):
        a, n = tput[(rw, eng, qd)].get("aiodev", {}), tput[(rw, eng, qd)].get("nullb", {})
        ratios = [a[r]["iops"] / n[r]["iops"] for r in a if r in n and n[r]["iops"]]
        ai = [x["iops"] for x in a.values()]
        ni = [x["iops"] for x in n.values()]

        def cpu_per_io(d):
            v = [x["busy_jiffies"] * 1e4 / (x["iops"] * (x["runtime_ms"] / 1e3 + float(conf.get("BENCH_FIO_RAMP_MS", 500)) / 1e3))
                 for x in d.values() if x.get("busy_jiffies") is not None and x["iops"]]
            return med(v)
        ent = {
            "rw": rw, "engine": eng, "qd": qd,
            "aiodev_iops": med(ai), "nullb_iops": med(ni),
            "aiodev_iops_all": ai, "nullb_iops_all": ni,
            "ratio": med(ratios), "ratio_all": ratios,
            "aiodev_p50_us": med([x["p50"] / 1e3 for x in a.values()]),
            "nullb_p50_us": med([x["p50"] / 1e3 for x in n.values()]),
            "aiodev_p99_us": med([x["p99"] / 1e3 for x in a.values()]),
            "nullb_p99_us": med([x["p99"] / 1e3 for x in n.values()]),
            "aiodev_cpu_us_per_io": cpu_per_io(a), "nullb_cpu_us_per_io": cpu_per_io(n),
        }
        summary["fio"].append(ent)
        emit("   %-24s %-22s %-22s %-17s %-11.0f %-11.0f %-11.0f %-11.0f %.0f/%.0f" % (
            "%s %s QD%d" % (rw, eng, qd), spread(ai), spread(ni), spread(ratios, "{:.2f}"),
            ent["aiodev_p50_us"], ent["nullb_p50_us"], ent["aiodev_p99_us"], ent["nullb_p99_us"],
            ent["aiodev_cpu_us_per_io"], ent["nullb_cpu_us_per_io"]))
        if (rw, eng, qd) == ("randread", "libaio", 32):
            goals.append(("fio libaio 4k randread QD32 IOPS, aiodev / null_blk", ">= 1.50",
                          ent["ratio"], ent["ratio"] >= 1.5, spread(ratios, "{:.2f}")))
            z = tput[(rw, eng, qd)].get("zero", {})
            zr = [z[r]["iops"] / n[r]["iops"] for r in z if r in n and n[r]["iops"]]
            if zr:
                ent["zero_iops"] = med([x["iops"] for x in z.values()])
                ent["zero_ratio"] = med(zr)
                ent["zero_ratio_all"] = zr
        # Data for the plot: IOPS vs QD, latency CDF at QD32.
    for rw in ("randread", "randwrite"):
        for eng in ("libaio", "io_uring"):
            for dev in ("aiodev", "nullb"):
                pts = []
                for qd in (1, 32, 128):
                    d = tput.get((rw, eng, qd), {}).get(dev, {})
                    v = [x["iops"] for x in d.values()]
                    if v:
                        pts.append((qd, med(v), min(v), max(v)))
                if pts:
                    write_dat("iops-%s-%s-%s.dat" % (rw, eng, dev), pts, "qd iops_median min max")
    for dev in ("aiodev", "nullb"):
        merged = {}
        for r in tput.get(("randread", "libaio", 32), {}).get(dev, {}).values():
            for k, v in r["bins"].items():
                merged[k] = merged.get(k, 0) + v
        if merged:
            write_dat("cdf-randread-libaio-qd32-%s.dat" % dev,
                      [(v / 1e3, c) for v, c in bins_cdf(merged)], "clat_us cdf")
    emit("   CPU us/IO: the guest's busy time (both vCPUs) from the job's start of I/O to its"
         " end / IOs")
    zent = [e for e in summary["fio"] if "zero_ratio" in e]
    if zent:
        e = zent[0]
        emit("   ceiling: randread libaio QD32 on /dev/zero (no device, no pinning, no interrupt,"
             " buffered): %.0f IOPS," % e["zero_iops"])
        emit("            %s x null_blk: no device behind libaio can beat null_blk by more"
             % spread(e["zero_ratio_all"], "{:.2f}"))
    emit("")
    ramp = float(conf.get("BENCH_FIO_RAMP_MS", 500)) / 1e3
    emit("   Events per I/O (medians; guest counters over each job's I/O phase): where the"
         " time goes")
    emit("   %-34s %8s %8s %8s %8s %8s %8s %8s %8s %8s" % (
        "job, device", "busy_us", "ctxt", "LOC", "RES", "CAL", "HRTIMER", "TASKLET", "BLOCK",
        "SCHED"))
    summary["fio_counters"] = []
    for key in sorted(tput):
        rw, eng, qd = key
        if eng != "libaio" and qd != 32:
            continue
        for dev in ("aiodev", "nullb"):
            per = [x for x in (per_io(r, ramp) for r in tput[key].get(dev, {}).values()) if x]
            if not per:
                continue
            m = {k: med([p[k] for p in per if k in p]) for k in per[0]}
            summary["fio_counters"].append(dict(m, rw=rw, engine=eng, qd=qd, device=dev))
            emit("   %-34s %8.1f %8.2f %8.2f %8.2f %8.2f %8.2f %8.2f %8.2f %8.2f" % (
                "%s %s QD%d %s" % (rw, eng, qd, "aiodev" if dev == "aiodev" else "null_blk"),
                m.get("busy_us", float("nan")), m["ctxt"], m["LOC"], m["RES"], m["CAL"],
                m["si_HRTIMER"], m["si_TASKLET"], m["si_BLOCK"], m["si_SCHED"]))
    emit("   ctxt: context switches; LOC: local timer interrupts; RES/CAL: reschedule and"
         " function-call IPIs; the rest: softirqs")
    emit("")

# ---- 2. ioctl vs libaio ---------------------------------------------------
ring = kv_lines(os.path.join(RAW, "ring.txt"), "RING")
if ring:
    emit("2. aiodev's ioctl API vs its Linux AIO path: aiodev-bench ring, 4k random reads,"
         " 256 in flight, latency 0")
    emit("   %-8s %-22s %-22s %-18s %-13s %-13s %s" % (
        "batch", "ioctl IOPS", "libaio IOPS", "ratio ioctl/aio", "ioctl ns/op", "aio ns/op",
        "p50 us ioctl/aio"))
    summary["ring"] = []
    for b in sorted({r["batch"] for r in ring}):
        io = {r["rep"]: r for r in ring if r["batch"] == b and r["api"] == "ioctl"}
        la = {r["rep"]: r for r in ring if r["batch"] == b and r["api"] == "libaio"}
        ratios = [io[k]["iops"] / la[k]["iops"] for k in io if k in la and la[k]["iops"]]
        for api, d in (("ioctl", io), ("libaio", la)):
            for rep, r in d.items():
                for k in ("iops", "lat_p50_ns", "lat_p99_ns", "busy_ns_per_op"):
                    rows.append(["ring", "batch%d" % b, api, rep, k, r[k]])
        ent = {"batch": b, "ioctl_iops": med([r["iops"] for r in io.values()]),
               "libaio_iops": med([r["iops"] for r in la.values()]),
               "ratio": med(ratios), "ratio_all": ratios,
               "ioctl_busy_ns_per_op": med([r["busy_ns_per_op"] for r in io.values()]),
               "libaio_busy_ns_per_op": med([r["busy_ns_per_op"] for r in la.values()])}
        summary["ring"].append(ent)
        emit("   %-8d %-22s %-22s %-18s %-13.0f %-13.0f %.0f/%.0f" % (
            b, spread([r["iops"] for r in io.values()]), spread([r["iops"] for r in la.values()]),
            spread(ratios, "{:.2f}"), ent["ioctl_busy_ns_per_op"], ent["libaio_busy_ns_per_op"],
            med([r["lat_p50_ns"] / 1e3 for r in io.values()]),
            med([r["lat_p50_ns"] / 1e3 for r in la.values()])))
        if b == 256:
            goals.append(("ioctl path batch 256, IOPS ioctl / libaio", ">= 1.20", ent["ratio"],
                          ent["ratio"] >= 1.2, spread(ratios, "{:.2f}")))
    emit("   ns/op: the guest's busy CPU time per completed request")
    emit("   events per request (medians): %-8s %8s %8s %8s %8s %8s" % (
        "", "ctxt", "LOC", "RES", "HRTIMER", "TASKLET"))
    for b in sorted({r["batch"] for r in ring}):
        for api in ("ioctl", "libaio"):
            v = [r for r in ring if r["batch"] == b and r["api"] == api and "ctxt" in r]
            if not v:
                continue
            # The counters cover the whole run, warm-up included.
            n = [r["ops"] * (r["secs"] + 0.5) / r["secs"] for r in v]
            emit("   %-30s %8.2f %8.2f %8.2f %8.2f %8.2f" % (
                "batch %d %s" % (b, api),
                med([r["ctxt"] / k for r, k in zip(v, n)]), med([r["LOC"] / k for r, k in zip(v, n)]),
                med([r["RES"] / k for r, k in zip(v, n)]),
                med([r["si_HRTIMER"] / k for r, k in zip(v, n)]),
                med([r["si_TASKLET"] / k for r, k in zip(v, n)])))
    emit("")

# ---- 3. timer accuracy ----------------------------------------------------
LATE_RE = re.compile(r"^late-(\d+)-(aiodev|nullb)-r(\d+)$")
late = {}
for name, r in FIO.items():
    m = LATE_RE.match(name)
    if not m:
        continue
    ns, dev, rep = int(m.group(1)), m.group(2), int(m.group(3))
    if r:
        late.setdefault(ns, {}).setdefault(dev, {})[rep] = r


def trace_lateness(path):
    """From a trace: hrtimer lateness (expire_entry.now - start.expires) and,
    for aiodev, its own timer_fire and complete lateness_ns."""
    res = {"hrtimer": [], "timer_fire": [], "complete": []}
    if not os.path.exists(path):
        return res
    armed = {}
    for line in open(path):
        if " hrtimer_start:" in line:
            m = re.search(r"hrtimer=(\S+) .*expires=(\d+)", line)
            if m:
                armed[m.group(1)] = int(m.group(2))
        elif " hrtimer_expire_entry:" in line:
            m = re.search(r"hrtimer=(\S+) .*now=(\d+)", line)
            if m and m.group(1) in armed:
                res["hrtimer"].append(int(m.group(2)) - armed.pop(m.group(1)))
        elif " aiodev_timer_fire:" in line:
            m = re.search(r"lateness_ns=(-?\d+)", line)
            if m:
                res["timer_fire"].append(int(m.group(1)))
        elif " aiodev_complete:" in line:
            m = re.search(r"lateness_ns=(-?\d+)", line)
            if m:
                res["complete"].append(int(m.group(1)))
    for k in res:
        res[k].sort()
    return res


if late:
    emit("3. Timer accuracy: lateness = completion latency - requested, fio randread libaio QD1"
         " (fio clat - requested, both devices)")
    emit("   %-10s %-8s %-22s %-22s %-22s" % ("requested", "device", "p50 us", "p99 us", "max us"))
    summary["lateness"] = []
    late_ioctl = kv_lines(os.path.join(RAW, "late-ioctl.txt"), "RING")
    for ns in sorted(late):
        per = {}
        for dev in ("aiodev", "nullb"):
            d = late[ns].get(dev, {})
            p50 = [(x["p50"] - ns) / 1e3 for x in d.values()]
            p99 = [(x["p99"] - ns) / 1e3 for x in d.values()]
            mx = [(x["max"] - ns) / 1e3 for x in d.values()]
            per[dev] = (p50, p99, mx, d)
            for rep, x in d.items():
                rows.append(["late", "L%d" % ns, dev, rep, "lateness_p50_ns", x["p50"] - ns])
                rows.append(["late", "L%d" % ns, dev, rep, "lateness_p99_ns", x["p99"] - ns])
                rows.append(["late", "L%d" % ns, dev, rep, "lateness_max_ns", x["max"] - ns])
            emit("   %-10s %-8s %-22s %-22s %-22s" % (
                "%d us" % (ns // 1000), "aiodev" if dev == "aiodev" else "null_blk",
                spread(p50, "{:.1f}"), spread(p99, "{:.1f}"), spread(mx, "{:.0f}")))
        a99, n99 = per["aiodev"][1], per["nullb"][1]
        ratios = [(per["aiodev"][3][r]["p99"] - ns) / (per["nullb"][3][r]["p99"] - ns)
                  for r in per["aiodev"][3] if r in per["nullb"][3]
                  and per["nullb"][3][r]["p99"] - ns > 0]
        ent = {"requested_ns": ns,
               "aiodev_p50_us": med(per["aiodev"][0]), "nullb_p50_us": med(per["nullb"][0]),
               "aiodev_p99_us": med(a99), "nullb_p99_us": med(n99),
               "aiodev_max_us": max(per["aiodev"][2] or [float("nan")]),
               "nullb_max_us": max(per["nullb"][2] or [float("nan")]),
               "p99_ratio": med(ratios), "p99_ratio_all": ratios}
        emit("   %-10s %-8s p99 ratio aiodev/null_blk %s" % ("", "", spread(ratios, "{:.2f}")))
        # Other views of the same thing.
        ev = [r for r in late_ioctl if r.get("latency_ns") == ns]
        if ev:
            ent["ioctl_events_p50_us"] = med([r["late_p50_ns"] / 1e3 for r in ev])
            ent["ioctl_events_p99_us"] = med([r["late_p99_ns"] / 1e3 for r in ev])
            ent["ioctl_events_max_us"] = max(r["late_max_ns"] / 1e3 for r in ev)
            emit("   %-10s aiodev ioctl events (complete_ns - submit_ns - requested):"
                 " p50 %.1f, p99 %.1f, max %.0f us" % ("", ent["ioctl_events_p50_us"],
                                                      ent["ioctl_events_p99_us"],
                                                      ent["ioctl_events_max_us"]))
        for dev in ("aiodev", "nullb"):
            t = trace_lateness(os.path.join(RAW, "trace", "trace-%d-%s.trace" % (ns, dev)))
            for k, v in t.items():
                if v:
                    ent["trace_%s_%s" % (dev, k)] = {"n": len(v), "p50_us": pct(v, 50) / 1e3,
                                                    "p99_us": pct(v, 99) / 1e3,
                                                    "max_us": v[-1] / 1e3}
            if t["hrtimer"]:
                msg = "   %-10s traced run, %s: hrtimer expiry late p50 %.1f, p99 %.1f us" % (
                    "", "aiodev" if dev == "aiodev" else "null_blk",
                    pct(t["hrtimer"], 50) / 1e3, pct(t["hrtimer"], 99) / 1e3)
                if t["complete"]:
                    msg += "; completion (tracepoint) late p50 %.1f, p99 %.1f us" % (
                        pct(t["complete"], 50) / 1e3, pct(t["complete"], 99) / 1e3)
                emit(msg)
        summary["lateness"].append(ent)
        if ns == 100000:
            goals.append(("lateness p99 at 100 us, aiodev / null_blk (fio clat)", "<= 1.00",
                          ent["p99_ratio"], ent["p99_ratio"] <= 1.0, spread(ratios, "{:.2f}")))
        for dev in ("aiodev", "nullb"):
            merged = {}
            for r in per[dev][3].values():
                for k, v in r["bins"].items():
                    merged[k] = merged.get(k, 0) + v
            if merged:
                write_dat("late-%d-%s.dat" % (ns, dev),
                          [(max(v / 1e3, 1.0), c) for v, c in bins_cdf(merged, ns)],
                          "lateness_us cdf")
    emit("   the traced runs are slower (tracing under TCG) and only say where the time goes")
    emit("")

# ---- 4. scale and memory --------------------------------------------------
scale = kv_lines(os.path.join(RAW, "scale.txt"), "SCALE")
if scale:
    emit("4. CPU per request with N in flight: rounds of N NOPs (ioctl), latency long enough"
         " to pile up; guest busy time / requests")
    emit("   %-8s %-11s %-24s %-9s %-12s %-9s %s" % (
        "N", "latency", "busy ns/req", "vs N=64", "submit ns/req", "piled-up",
        "per request: ctxt LOC RES CAL TASKLET"))
    summary["scale"] = []
    base = med([r["busy_ns_per_req"] for r in scale if r["n"] == 64])
    for n in sorted({r["n"] for r in scale}):
        v = [r for r in scale if r["n"] == n]
        busy = [r["busy_ns_per_req"] for r in v]
        for r in v:
            rows.append(["scale", "n%d" % n, "aiodev", r["rep"], "busy_ns_per_req", r["busy_ns_per_req"]])
            rows.append(["scale", "n%d" % n, "aiodev", r["rep"], "submit_self_ns_per_req",
                         r["submit_self_ns_per_req"]])
        piled = sum(r["piled_rounds"] for r in v)
        rounds = sum(r["rounds"] for r in v)
        ent = {"n": n, "latency_ns": v[0]["latency_ns"], "busy_ns_per_req": med(busy),
               "busy_all": busy, "ratio_vs_64": med(busy) / base if base else float("nan"),
               "submit_self_ns_per_req": med([r["submit_self_ns_per_req"] for r in v]),
               "piled_rounds": piled, "rounds": rounds}
        summary["scale"].append(ent)
        cnt = ""
        if "ctxt" in v[0]:
            for k in ("ctxt", "LOC", "RES", "CAL", "si_TASKLET"):
                ent[k + "_per_req"] = med([r.get(k, 0) / r["requests"] for r in v])
                cnt += " %.2f" % ent[k + "_per_req"]
        emit("   %-8d %-11s %-24s %-9.2f %-12.0f %-9s%s" % (
            n, "%g ms" % (v[0]["latency_ns"] / 1e6), spread(busy), ent["ratio_vs_64"],
            ent["submit_self_ns_per_req"], "%d/%d" % (piled, rounds), cnt))
        if n == 65536:
            goals.append(("CPU per request, 64k in flight / 64 in flight", "<= 1.30",
                          ent["ratio_vs_64"], ent["ratio_vs_64"] <= 1.3, spread(
                              [b / base for b in busy], "{:.2f}")))
        if rounds and piled < rounds * 0.9:
            problems.append("scale n=%d: only %d of %d rounds had all requests in flight at once"
                            % (n, piled, rounds))
    emit("")

mem = kv_lines(os.path.join(RAW, "mem.txt"), "MEM")
if mem:
    slab = kv_lines(os.path.join(RAW, "mem.txt"), "SLAB")
    info = [line for line in open(os.path.join(RAW, "mem.txt")) if line.startswith("# aiodev_request")]
    emit("   kernel memory per in-flight request (/proc/slabinfo deltas, all caches; user pages"
         " pinned by reads excluded)")
    if info:
        emit("   " + info[0].strip("# \n"))
    emit("   %-8s %-6s %-16s %-16s %s" % ("N", "op", "object B/req", "slab B/req", "largest caches"))
    summary["mem"] = []
    for r in mem:
        top = sorted([s for s in slab if s["n"] == r["n"] and s["phase"] == "inflight"
                      and s.get("op") == r["op"]],
                     key=lambda s: -s["d_obj_bytes"])
        desc = ", ".join("%s %.0f" % (s["cache"], s["d_obj_bytes"] / r["n"]) for s in top[:3])
        summary["mem"].append(dict(r))
        rows.append(["mem", "n%d" % r["n"], r["op"], 1, "slab_bytes_per_req", r["slab_bytes_per_req"]])
        rows.append(["mem", "n%d" % r["n"], r["op"], 1, "obj_bytes_per_req", r["obj_bytes_per_req"]])
        if r["n"] >= 16384:
            emit("   %-8d %-6s %-16.1f %-16.1f %s" % (r["n"], r["op"], r["obj_bytes_per_req"],
                                                    r["slab_bytes_per_req"], desc))
    big = [r for r in mem if r["n"] == max(x["n"] for x in mem)]
    worst = max(max(r["obj_bytes_per_req"], r["slab_bytes_per_req"]) for r in big)
    emit("   (N < 16k is below the slab accounting's resolution: per-CPU slabs count as in use)")
    emit("   not per request: the event ring, allocated at open, 40 B (one struct aiodev_event)"
         " per queue_depth slot")
    goals.append(("kernel memory per in-flight request at %d (bytes)" % big[0]["n"], "<= 256",
                  worst, worst <= 256, "%.0f" % worst))
    emit("")

# ---- 6. tasklet work per run ------------------------------------------------
tasklet = kv_lines(os.path.join(RAW, "tasklet.txt"), "TASKLET")
if tasklet:
    emit("6. Longest single run of the completion tasklet (debugfs), fio on aiodev"
         " at completion_nsec=0")
    emit("   %-34s %-14s %s" % ("workload", "longest run", "bytes copied in it"))
    summary["tasklet"] = []
    for r in tasklet:
        summary["tasklet"].append(dict(r))
        rows.append(["tasklet", r["case"], "aiodev", 1, "max_run_ns", r["max_run_ns"]])
        rows.append(["tasklet", r["case"], "aiodev", 1, "max_run_bytes", r["max_run_bytes"]])
        emit("   %-34s %-14s %d KiB" % (r["case"], "%.0f us" % (r["max_run_ns"] / 1e3),
                                         r["max_run_bytes"] // 1024))
    worst = max(r["max_run_ns"] for r in tasklet) / 1e3
    goals.append(("longest tasklet run (us)", "<= 1000", worst, worst <= 1000, ""))
    emit("")

# ---- 7. rules ---------------------------------------------------------------
def ns_of(text):
    """'300us' or '1.2ms' (aiodev bench's units) in ns."""
    for unit, scale in (("ns", 1), ("us", 1e3), ("ms", 1e6), ("s", 1e9)):
        if text.endswith(unit):
            try:
                return float(text[:-len(unit)]) * scale
            except ValueError:
                return float("nan")
    return float("nan")


rules = kv_lines(os.path.join(RAW, "rules.txt"), "RING")
if rules:
    emit("7. The cost of rules: aiodev-bench ring, libaio 4k reads, 64 in flight, latency 0;"
         " no rule, or 64 rules that match in all but the process (pid) or the length (len)")
    by = {}
    for r in rules:
        by.setdefault(r["rules"], {})[r["rep"]] = r
        for k in ("iops", "busy_ns_per_op"):
            rows.append(["rules", "rules-%s" % r["rules"], "aiodev", r["rep"], k, r[k]])
    none = by.get("none", {})
    emit("   %-10s %-24s %-24s %s" % ("rules", "IOPS", "busy ns per request",
                                      "CPU per request / none"))
    summary["rules"] = {}
    for name in ("none", "pid", "len"):
        d = by.get(name, {})
        if not d:
            continue
        ratios = [d[k]["busy_ns_per_op"] / none[k]["busy_ns_per_op"]
                  for k in d if k in none and none[k]["busy_ns_per_op"]]
        summary["rules"][name] = {"ratio": med(ratios), "ratio_all": ratios}
        emit("   %-10s %-24s %-24s %s" % (name, spread([r["iops"] for r in d.values()]),
                                          spread([r["busy_ns_per_op"] for r in d.values()]),
                                          spread(ratios, "{:.3f}") if name != "none" else ""))
        if name != "none" and ratios:
            goals.append(("CPU per request, 64 rules failing by %s / none" % name, "<= 1.10",
                          med(ratios), med(ratios) <= 1.10, spread(ratios, "{:.3f}")))
    emit("")

dists = kv_lines(os.path.join(RAW, "dist.txt"), "DIST")
if dists:
    emit("7b. Latency distributions: requested (the distribution's own percentiles)"
         " vs observed (aiodev bench, 20000 NOPs, 64 in flight)")
    emit("   %-6s %-7s %12s %12s %8s" % ("dist", "pct", "requested", "observed", "ratio"))
    summary["dists"] = []
    for d in dists:
        for p in ("p50", "p90", "p99", "p99.9"):
            want = float(d.get("req_%s_ns" % p, "nan"))
            got = ns_of(str(d.get("obs_%s" % p, "")))
            rows.append(["dist", d["name"], "aiodev", 1, p + "_requested_ns", want])
            rows.append(["dist", d["name"], "aiodev", 1, p + "_observed_ns", got])
            summary["dists"].append({"name": d["name"], "pct": p, "requested_ns": want,
                                     "observed_ns": got})
            emit("   %-6s %-7s %9.0f us %9.0f us %8.2f" % (
                d["name"], p, want / 1e3, got / 1e3, got / want if want else float("nan")))
    emit("")

# ---- goals ----------------------------------------------------------------
emit("Goals")
summary["goals"] = []
for name, target, value, ok, detail in goals:
    summary["goals"].append({"goal": name, "target": target, "value": value, "met": bool(ok),
                             "spread": detail})
    emit("   %-58s %-9s %-8s %-5s %s" % (name, target, "%.2f" % value if value < 100 else
                                         "%.0f" % value, "MET" if ok else "MISS",
                                         "[" + detail + "]" if detail else ""))
if problems:
    emit("")
    emit("Problems")
    for p in problems:
        emit("   " + p)
summary["problems"] = problems

# ---- outputs --------------------------------------------------------------
with open(os.path.join(RES, "table.txt"), "w") as f:
    f.write("\n".join(out) + "\n")
with open(os.path.join(RES, "results.json"), "w") as f:
    json.dump(summary, f, indent=1, sort_keys=True, default=str)
with open(os.path.join(RES, "results.csv"), "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["section", "case", "subject", "rep", "metric", "value"])
    w.writerows(rows)

PLOT = r'''# gnuplot script written by selftests/bench/analyze.py; run in the results directory.
set terminal pngcairo size 1600,1200 font "DejaVu Sans,11"
set output "bench.png"
set multiplot layout 2,2 title "aiodev vs null\\_blk under QEMU/TCG, %(title)s"
set grid
set key bottom right
set title "fio randread libaio QD32: completion latency CDF (all repetitions)"
set xlabel "clat (us)"
set ylabel "fraction of I/Os"
set yrange [0:1]
plot "cdf-randread-libaio-qd32-aiodev.dat" using 1:2 with lines lw 2 title "aiodev", \
     "cdf-randread-libaio-qd32-nullb.dat" using 1:2 with lines lw 2 title "null\\_blk"
set title "Lateness (fio clat - requested), randread libaio QD1"
set xlabel "lateness (us); at or below 1 us on the left edge"
set logscale x
set xrange [1:*]
plot "late-100000-aiodev.dat" using 1:2 with lines lw 2 lc 1 title "aiodev, 100 us", \
     "late-100000-nullb.dat" using 1:2 with lines lw 2 lc 2 title "null\\_blk, 100 us", \
     "late-1000000-aiodev.dat" using 1:2 with lines lw 2 dt 2 lc 1 title "aiodev, 1 ms", \
     "late-1000000-nullb.dat" using 1:2 with lines lw 2 dt 2 lc 2 title "null\\_blk, 1 ms"
unset yrange
set logscale x 2
set xrange [0.7:180]
set xtics (1, 32, 128)
set xlabel "iodepth"
set ylabel "IOPS (median, min..max bars)"
set key bottom right
set autoscale y
set yrange [0:*]
set title "4k randread IOPS vs queue depth"
plot "iops-randread-libaio-aiodev.dat" using 1:2:3:4 with yerrorlines lw 2 lc 1 title "aiodev libaio", \
     "iops-randread-libaio-nullb.dat" using 1:2:3:4 with yerrorlines lw 2 lc 2 title "null\\_blk libaio", \
     "iops-randread-io_uring-aiodev.dat" using 1:2:3:4 with yerrorlines lw 2 dt 2 lc 1 title "aiodev io\\_uring", \
     "iops-randread-io_uring-nullb.dat" using 1:2:3:4 with yerrorlines lw 2 dt 2 lc 2 title "null\\_blk io\\_uring"
set title "4k randwrite IOPS vs queue depth"
plot "iops-randwrite-libaio-aiodev.dat" using 1:2:3:4 with yerrorlines lw 2 lc 1 title "aiodev libaio", \
     "iops-randwrite-libaio-nullb.dat" using 1:2:3:4 with yerrorlines lw 2 lc 2 title "null\\_blk libaio", \
     "iops-randwrite-io_uring-aiodev.dat" using 1:2:3:4 with yerrorlines lw 2 dt 2 lc 1 title "aiodev io\\_uring", \
     "iops-randwrite-io_uring-nullb.dat" using 1:2:3:4 with yerrorlines lw 2 dt 2 lc 2 title "null\\_blk io\\_uring"
unset multiplot
'''
needed = ["cdf-randread-libaio-qd32-aiodev.dat", "late-100000-aiodev.dat",
          "iops-randread-libaio-aiodev.dat", "iops-randwrite-libaio-aiodev.dat"]
if all(os.path.exists(os.path.join(RES, n)) for n in needed):
    with open(os.path.join(RES, "plot.gp"), "w") as f:
        clk = ("clock icount shift=%s (virtual time: compare ratios)" % host.get("icount_shift")
               if host.get("clock") == "icount" else "clock real")
        f.write(PLOT % {"title": "%s, %s, %s" % (clk, guest.get("guest_kernel", "?"),
                                                 host.get("date", "?")[:16])})
else:
    print("analyze.py: some sections are missing, no plot", file=sys.stderr)
sys.exit(0)

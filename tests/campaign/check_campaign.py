#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Checks fuzz/campaign as an overnight user runs it (suite fuzz-campaign).

  check_campaign.py bystanders SOURCE
      A campaign is killed with SIGKILL while its engines run, then resumed
      under `timeout` with an absolute --dir, a `tail -f` of its log and a
      shell loop that names the directory running beside it: the resumed
      campaign stops the killed run's engines, spends its budget, ends with
      status 0 and a report with source coverage, and leaves the bystanders
      (and `timeout`) alone and nothing of its own running.

  check_campaign.py mutant SOURCE PATCH ORACLE TARGET [PATCH ORACLE TARGET ...]
      A copy of SOURCE with the mutants planted (tests/mutants) is fuzzed on
      their targets by a short campaign with --export and --on-finding: the
      campaign exits 1; each target has exactly one finding, of the mutant's
      oracle; the minimized reproducer shows the same oracle and signature as
      the original; the hook ran for each; --export put the reproducer into
      fuzz/corpus/<target>/; and the fuzz-regression suite, which passes on the
      copy's corpora before the export, fails after it.
"""
import json, os, re, shutil, signal, subprocess, sys, tempfile, time

FAILS = []


def check(cond, what):
    print(("ok: " if cond else "FAIL: ") + what, flush=True)
    if not cond:
        FAILS.append(what)
    return cond


def copy_source(src, dst):
    """The checkout's files (what `git ls-files` lists, as they are on disk)."""
    os.makedirs(dst)
    if subprocess.run(["git", "-C", src, "rev-parse", "--git-dir"], capture_output=True).returncode == 0:
        files = subprocess.run(["git", "-C", src, "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                               check=True, capture_output=True).stdout.split(b"\0")
        for f in (x.decode() for x in files if x):
            p = os.path.join(src, f)
            if os.path.isfile(p):
                os.makedirs(os.path.dirname(os.path.join(dst, f)), exist_ok=True)
                shutil.copy2(p, os.path.join(dst, f))
    else:
        ignore = shutil.ignore_patterns("build*", "campaign*", ".git")
        shutil.rmtree(dst)
        shutil.copytree(src, dst, ignore=ignore)


def tagged(runs):
    """Pids of live processes that carry one of the campaign runs' tags."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            env = open("/proc/%s/environ" % d, "rb").read().split(b"\0")
        except OSError:
            continue
        for kv in env:
            if kv.startswith(b"HVMM_CAMPAIGN_TAG=") and kv[18:].decode().split("/")[0] in runs:
                out.append(int(d))
    return out


def alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except OSError:
        return False


def bystanders(src):
    tmp = tempfile.mkdtemp(prefix="hvmm-campaign-")
    cdir = os.path.join(tmp, "night")
    os.makedirs(cdir)
    campaign = os.path.join(src, "fuzz", "campaign")
    base = [campaign, "--dir", cdir, "--targets", "buddy", "--jobs", "2", "--status-every", "5",
            "--measure-every", "10"]
    # A first run, killed with SIGKILL once its engines run: they are left behind.
    out1 = open(os.path.join(tmp, "first.log"), "w")
    p = subprocess.Popen(base + ["--minutes", "1"], stdout=out1, stderr=subprocess.STDOUT)
    state = {}
    deadline = time.time() + 1500
    while time.time() < deadline and p.poll() is None:
        time.sleep(2)
        try:
            state = json.load(open(os.path.join(cdir, "state.json")))
        except (OSError, ValueError):
            continue
        if state.get("procs") and state.get("elapsed0", 0) >= 0 and \
                os.path.exists(os.path.join(cdir, "logs", "buddy-libfuzzer-0.log")):
            time.sleep(8)
            break
    if not check(p.poll() is None and state.get("procs"), "the first run started its engines"):
        print(open(os.path.join(tmp, "first.log")).read()[-3000:])
        return
    p.send_signal(signal.SIGKILL)
    p.wait()
    left = [e["pid"] for e in state["procs"] if alive(e["pid"])]
    check(left, "the killed run left engines running (%s)" % left)
    # Bystanders: a tail -f of the log, and a loop whose command line names the directory.
    log = os.path.join(cdir, "campaign.log")
    tail = subprocess.Popen(["tail", "-f", log], stdout=subprocess.DEVNULL)
    loop = subprocess.Popen(["sh", "-c", "while :; do sleep 1; done", cdir + "/bystander"])
    out2 = open(os.path.join(tmp, "second.log"), "w")
    r = subprocess.run(["timeout", "1500"] + base, stdout=out2, stderr=subprocess.STDOUT)
    text = open(os.path.join(tmp, "second.log")).read()
    if not check(r.returncode == 0, "the resumed campaign under timeout ended with status 0 (got %d)"
                 % r.returncode):
        print(text[-5000:])
    check(alive(tail.pid) and tail.poll() is None, "tail -f of the campaign log is alive")
    check(alive(loop.pid) and loop.poll() is None, "the process naming the directory is alive")
    check(not [x for x in left if alive(x)], "the killed run's engines were stopped")
    state = json.load(open(os.path.join(cdir, "state.json")))
    check(state["elapsed0"] >= state["budget"] - 2, "the budget was spent (%.0f of %.0f s)"
          % (state["elapsed0"], state["budget"]))
    check(not tagged(state["runs"]), "nothing the campaign started is still running")
    rp = os.path.join(cdir, "report.md")
    rep = open(rp).read() if check(os.path.exists(rp), "report.md was written") else ""
    m = re.search(r"^\| buddy \| (\d+) \|", rep, re.M)
    check(m and int(m.group(1)) > 100, "report.md gives buddy's corpus edges (%s)" % (m and m.group(1)))
    check("| `mm/buddy.c` |" in rep and os.path.exists(os.path.join(cdir, "coverage", "html", "index.html")),
          "report.md has mm/'s per-file source coverage, with the HTML report beside it")
    m = re.search(r"^\| buddy \|.*", rep, re.M)
    cells = m.group(0).split("|") if m else []
    check(len(cells) > 12 and cells[8].strip() not in ("-", "0"), "report.md gives libFuzzer's execs/s")
    check("building" in text and re.search(r"buddy +\d+", text), "the status shows buddy's line")
    for b in (tail, loop):
        b.terminate()
        b.wait()
    shutil.rmtree(tmp)


def replay_first(hvmm, trace):
    """The oracle and the check (its message, numbers left out) of a trace's first violation."""
    r = subprocess.run([hvmm, "replay", trace], capture_output=True, text=True, errors="replace")
    m = re.search(r"VIOLATION (\S+) at op \S+ \(.*?\): (.*)", r.stdout + r.stderr)
    return m and (m.group(1), re.sub(r"[0-9a-fA-Fx]*[0-9][0-9a-fA-Fx]*", "#", m.group(2)))


def mutant(src, specs):
    tmp = tempfile.mkdtemp(prefix="hvmm-campaign-mutant-")
    tree = os.path.join(tmp, "src")
    copy_source(src, tree)
    targets, oracles = [], {}
    for patch, oracle, target in specs:
        rel = subprocess.run([sys.executable, os.path.join(src, "tests", "mutants", "apply.py"), "target", patch],
                             check=True, capture_output=True, text=True).stdout.strip()
        f = os.path.join(tree, "mm", rel)
        subprocess.run([sys.executable, os.path.join(src, "tests", "mutants", "apply.py"), "apply", patch, f,
                        f + ".mutant"], check=True)
        os.replace(f + ".mutant", f)
        targets.append(target)
        oracles[target] = oracle
    # The regression corpora catch these mutants already: the inputs that do are taken out
    # (with the mutant's own engine-less drivers, which --report-only builds), so the night
    # has to find the bugs and the export is what makes fuzz-regression catch them.
    cdir = os.path.join(tmp, "night")
    campaign = os.path.join(tree, "fuzz", "campaign")
    subprocess.run([campaign, "--dir", cdir, "--targets", ",".join(targets), "--report-only"], check=True,
                   stdout=subprocess.DEVNULL)
    for t in targets:
        drv = os.path.join(cdir, "build", "replay", "fuzz", "fuzz-" + t)
        d = os.path.join(tree, "fuzz", "corpus", t)
        out = 0
        for x in sorted(os.listdir(d)):
            if subprocess.run([drv, os.path.join(d, x)], capture_output=True).returncode:
                os.unlink(os.path.join(d, x))
                out += 1
        print("%s: %d of %d regression inputs catch the mutant: taken out" % (t, out, out + len(os.listdir(d))))
    before = os.path.join(tmp, "corpus-before")
    shutil.copytree(os.path.join(tree, "fuzz", "corpus"), before)
    hook = os.path.join(tmp, "hook.txt")
    r = subprocess.run(["timeout", "1500", campaign, "--dir", cdir,
                        "--targets", ",".join(targets), "--engines", "libfuzzer", "--jobs", str(len(targets)),
                        "--minutes", "1", "--no-source-coverage", "--export", "--minimize-seconds", "20",
                        "--on-finding", 'echo "$HVMM_FINDING_TARGET $HVMM_FINDING_ID" >> ' + hook],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace")
    if not check(r.returncode == 1, "the campaign exits 1 on new findings (got %d)" % r.returncode):
        print(r.stdout[-5000:])
    state = json.load(open(os.path.join(cdir, "state.json")))
    hvmm = os.path.join(cdir, "build", "replay", "hvmm")
    hooked = open(hook).read().split("\n") if os.path.exists(hook) else []
    for t in targets:
        found = {k: f for k, f in state["findings"].items() if f["target"] == t}
        check(len(found) == 1, "%s: one finding for one bug (%s)" % (
            t, "; ".join("%s %s" % (f["oracle"], f["where"]) for f in found.values())))
        for kid, f in found.items():
            d = os.path.join(cdir, "findings", t, kid)
            check(f["oracle"] == oracles[t], "%s: the finding is of %s (got %s)" % (t, oracles[t], f["oracle"]))
            orig = replay_first(hvmm, os.path.join(d, "reproducer.trace"))
            check(orig and orig[0] == oracles[t], "%s: the original reproducer shows %s" % (t, orig))
            mt = os.path.join(d, "minimized.trace")
            mini = replay_first(hvmm, mt) if os.path.exists(mt) else None
            check(mini == orig, "%s: the minimized reproducer shows the same oracle and check (%s, was %s)"
                  % (t, mini, orig))
            if os.path.exists(mt) and os.path.exists(os.path.join(d, "reproducer.trace")):
                n = lambda p: sum(1 for l in open(p) if l.strip() and not l.startswith("#"))
                check(n(mt) <= n(os.path.join(d, "reproducer.trace")), "%s: the minimized trace has no more ops than the original"
                      % t)
            check("%s %s" % (t, kid) in hooked, "%s: --on-finding ran for it" % t)
            data = open(os.path.join(d, f.get("minimized_input") or "input"), "rb").read()
            cdir_t = os.path.join(tree, "fuzz", "corpus", t)
            check(any(open(os.path.join(cdir_t, x), "rb").read() == data for x in os.listdir(cdir_t)),
                  "%s: --export put the reproducer into fuzz/corpus/%s/" % (t, t))
        drv = os.path.join(cdir, "build", "replay", "fuzz", "fuzz-" + t)
        pre = subprocess.run([drv, os.path.join(before, t)], capture_output=True)
        check(pre.returncode == 0, "%s: the corpus before the export does not catch the mutant" % t)
    # The fuzz-regression suite of the mutant's build, over the corpora as exported.
    bdir = os.path.join(cdir, "build", "replay")
    every = [x.strip() for x in open(os.path.join(bdir, "fuzz", "targets.txt")) if x.strip()]
    subprocess.run(["ninja", "-C", bdir] + ["fuzz/fuzz-" + x for x in every], check=True,
                   stdout=subprocess.DEVNULL)
    r = subprocess.run(["meson", "test", "-C", bdir, "--no-rebuild", "--suite", "fuzz-regression"] +
                       ["fuzz-regression-" + t for t in targets],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    failed = re.findall(r"fuzz-regression-(\S+)\s+FAIL", r.stdout)
    check(r.returncode != 0 and sorted(failed) == sorted(targets),
          "meson test --suite fuzz-regression on the mutant fails, for %s (failed: %s)" % (
              ", ".join(targets), ", ".join(failed) or "none"))
    shutil.rmtree(tmp)


def main():
    if len(sys.argv) >= 3 and sys.argv[1] == "bystanders":
        bystanders(os.path.abspath(sys.argv[2]))
    elif len(sys.argv) >= 6 and sys.argv[1] == "mutant" and (len(sys.argv) - 3) % 3 == 0:
        a = sys.argv[3:]
        mutant(os.path.abspath(sys.argv[2]), [(os.path.abspath(a[i]), a[i + 1], a[i + 2])
                                               for i in range(0, len(a), 3)])
    else:
        sys.exit(__doc__)
    print("%d check(s) failed" % len(FAILS) if FAILS else "all checks passed")
    sys.exit(1 if FAILS else 0)


if __name__ == "__main__":
    for tool in ("clang", "meson", "ninja"):
        if not shutil.which(tool):
            print("no %s: skipped" % tool)
            sys.exit(77)
    main()

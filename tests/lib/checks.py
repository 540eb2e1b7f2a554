# SPDX-License-Identifier: MIT
"""What the Python checks share: running a command, the skip where mm/ has
no event instrumentation, and the exit statuses meson reads (0 pass,
1 fail, 77 skipped).

A check imports it from its own directory's ../lib:

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
    import checks
"""
import subprocess
import sys

SKIP = 77


def run(cmd, timeout=900):
    """Runs @cmd to its end: the CompletedProcess, stdout and stderr as text."""
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          timeout=timeout)


def instrumented(hvmm, trace):
    """False where mm/ is built without the event instrumentation (the
    ThreadSanitizer build): 'hvmm explore' then refuses @trace, since
    nothing interleaves there."""
    r = run([hvmm, 'explore', '--max-schedules', '1', '--pct-runs', '0', trace], timeout=600)
    return not (r.returncode == 2 and 'without the event instrumentation' in r.stderr)


def main(check):
    """Exits with check()'s status; a failed assertion prints 'FAIL: why' and exits 1."""
    try:
        status = check()
    except AssertionError as e:
        print('FAIL:', e)
        status = 1
    sys.exit(status)

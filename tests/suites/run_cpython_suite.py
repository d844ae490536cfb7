"""Runs one of CPython's own test modules (Debian's libpython3.11-testsuite) on the real kernel or
under `muxlab exec`, counts what passed, failed and was skipped, and compares the failures with a
checked-in expectation file, so that a new failure, or a test that newly passes, is noticed.

    run_cpython_suite.py --python /usr/bin/python3.11 --module test_selectors \\
        [--muxlab build/muxlab --env fake:epoll] --expect expected/test_selectors.fake_epoll.txt

An expectation file lists one test id per line (e.g.
test.test_selectors.PollSelectorTestCase.test_above_fd_setsize), each followed by `# why`: the
real behaviour the fake kernel lacks. Blank lines and lines starting with # are ignored. An id
after `~ ` may fail or pass: its outcome hangs on real thread timing (docs/fidelity.md).

A test that leaves the simulation deadlocked (or runs into muxlab exec's --wall-limit) ends the
run; it counts as failed, and the run goes on with the tests after it.
"""
import argparse
import re
import subprocess
import sys

# "name (id) ... result", where a test's docstring may come between on a line of its own.
STARTED = re.compile(r"^(\w+) \(([\w.]+)\)(?:\n[^\n]*?)? \.\.\. ", re.M)
RESULT = re.compile(r"^\w+ \(([\w.]+)\)(?:\n[^\n]*?)? \.\.\. "
                    r"(ok|FAIL|ERROR|skipped.*|expected failure|unexpected success)$", re.M)
ENDED_THE_RUN = re.compile(r"muxlab exec: (deadlock|--wall-limit reached|--timeout reached)")


def expected_failures(path):
    """{test id: (why, whether it may also pass)}"""
    found = {}
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            text = line.strip()
            if not text or text.startswith("#"):
                continue
            test, _, why = text.partition("#")
            test = test.strip()
            either = test.startswith("~ ")
            test = test.removeprefix("~ ").strip()
            if not why.strip():
                sys.exit(f"{path}:{number}: error: say why the fake kernel fails {test}")
            found[test] = (why.strip(), either)
    return found


def test_ids(python, module):
    listing = subprocess.run(
        [python, "-c", "import sys, unittest, importlib\n"
         "def walk(s):\n"
         "    for t in s:\n"
         "        yield from walk(t) if isinstance(t, unittest.TestSuite) else [t]\n"
         f"m = importlib.import_module('test.{module}')\n"
         "for t in walk(unittest.defaultTestLoader.loadTestsFromModule(m)): print(t.id())"],
        stdout=subprocess.PIPE, text=True, check=True)
    return listing.stdout.split()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--python", required=True)
    parser.add_argument("--module", required=True)
    parser.add_argument("--muxlab")
    parser.add_argument("--env", default="fake:epoll")
    parser.add_argument("--expect", required=True)
    args = parser.parse_args()

    prefix, where = [], "the real kernel"
    if args.muxlab:
        prefix, where = [args.muxlab, "exec", "--env", args.env, "--"], args.env
    remaining = test_ids(args.python, args.module)
    results, ended_runs, log = {}, {}, ""
    while remaining:
        run = subprocess.run(prefix + [args.python, "-m", "unittest", "-v"] + remaining,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                             errors="replace")
        log += run.stdout
        results.update({m.group(1): m.group(2) for m in RESULT.finditer(run.stdout)})
        ended = ENDED_THE_RUN.search(run.stdout)
        started = [m.group(2) for m in STARTED.finditer(run.stdout)]
        if not ended or not started or started[-1] in results:
            break
        stuck = started[-1]
        results[stuck] = "FAIL"
        ended_runs[stuck] = ended.group(1)
        remaining = remaining[remaining.index(stuck) + 1:] if stuck in remaining else []
    if not results:
        print(log[-4000:])
        sys.exit(f"{args.module} on {where}: no test results")
    passed = sorted(t for t, r in results.items() if r in ("ok", "expected failure"))
    failed = sorted(t for t, r in results.items() if r in ("FAIL", "ERROR", "unexpected success"))
    skipped = sorted(t for t, r in results.items() if r.startswith("skipped"))
    print(f"{args.module} on {where}: {len(passed)} passed, {len(failed)} failed, "
          f"{len(skipped)} skipped, of {len(results)}")

    expected = expected_failures(args.expect)
    new = [t for t in failed if t not in expected]
    fixed = [t for t in expected if t in results and t not in failed and not expected[t][1]]
    missing = [t for t in expected if t not in results]
    for t in failed:
        how = f" ({ended_runs[t]})" if t in ended_runs else ""
        print(f"  failed{how}: {t}" + (f"  # expected: {expected[t][0]}" if t in expected else ""))
    if new:
        print(log[-6000:])
    for t in new:
        print(f"NEW FAILURE: {t} (fix it, or list it in {args.expect} with the reason)")
    for t in fixed:
        print(f"NOW PASSES: {t} (remove it from {args.expect})")
    for t in missing:
        print(f"NOT RUN: {t} is in {args.expect} but did not run")
    sys.exit(1 if new or fixed or missing else 0)


if __name__ == "__main__":
    main()

"""Runs one muxlab command and checks its exit status and its JUnit report.

  check_junit.py MUXLAB WORKDIR EXIT REPORT [--case CLASSNAME|NAME|STATE[|TEXT]]...
                 [--min-time NAME|SECONDS] [--signal NAME --after REGEX] -- ARGS...

The report must be well-formed XML in the common JUnit schema's shape (testsuites > testsuite
with name, tests, failures, errors, skipped, time > testcase with name, classname, time, and at
most one failure or skipped child), its counts must add up, and it must hold exactly the cases
given: STATE is passed, failed or skipped, TEXT is in the failure's text or skipped's message.
With --signal, the command is sent that signal once a line of its output matches REGEX.
"""
import argparse
import os
import re
import signal
import subprocess
import sys
import threading
import xml.etree.ElementTree as ET


def fail(message):
    print(f"check_junit: {message}")
    sys.exit(1)


def number(element, attribute, kind=int):
    value = element.get(attribute)
    if value is None:
        fail(f"<{element.tag}> has no {attribute}")
    try:
        return kind(value)
    except ValueError:
        fail(f"<{element.tag} {attribute}=\"{value}\"> is not a {kind.__name__}")


def check_schema(root):
    if root.tag != "testsuites":
        fail(f"the root is <{root.tag}>, not <testsuites>")
    suites = list(root)
    if not suites or any(s.tag != "testsuite" for s in suites):
        fail("<testsuites> must hold only <testsuite> elements, at least one")
    cases = []
    for suite in suites:
        if not suite.get("name"):
            fail("<testsuite> has no name")
        counts = {a: number(suite, a) for a in ("tests", "failures", "errors", "skipped")}
        number(suite, "time", float)
        mine = list(suite)
        if any(c.tag != "testcase" for c in mine):
            fail("<testsuite> must hold only <testcase> elements")
        for case in mine:
            for attribute in ("name", "classname"):
                if not case.get(attribute):
                    fail(f"<testcase> has no {attribute}")
            if number(case, "time", float) < 0:
                fail("a negative time")
            children = [c.tag for c in case]
            if len(children) > 1 or any(t not in ("failure", "skipped") for t in children):
                fail(f"<testcase name=\"{case.get('name')}\"> holds {children}")
            if "skipped" in children and not case.find("skipped").get("message"):
                fail(f"<testcase name=\"{case.get('name')}\"> is skipped without a message")
        actual = {"tests": len(mine), "errors": 0,
                  "failures": sum(1 for c in mine if c.find("failure") is not None),
                  "skipped": sum(1 for c in mine if c.find("skipped") is not None)}
        if counts != actual:
            fail(f"<testsuite> counts {counts}, its testcases {actual}")
        cases += mine
    return cases


def state_of(case):
    if case.find("failure") is not None:
        f = case.find("failure")
        return "failed", (f.get("message") or "") + "\n" + (f.text or "")
    if case.find("skipped") is not None:
        return "skipped", case.find("skipped").get("message")
    return "passed", ""


def main():
    parser = argparse.ArgumentParser()
    for a in ("muxlab", "workdir", "exit", "report"):
        parser.add_argument(a)
    parser.add_argument("--case", action="append", default=[])
    parser.add_argument("--min-time", action="append", default=[])
    parser.add_argument("--signal")
    parser.add_argument("--after")
    split = sys.argv.index("--")
    o = parser.parse_args(sys.argv[1:split])
    args = sys.argv[split + 1:]
    if os.path.exists(o.report):
        os.remove(o.report)
    command = [o.muxlab] + args + ["--junit", o.report]
    process = subprocess.Popen(command, cwd=o.workdir, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    printed = []
    sent = threading.Event()

    def read():
        for line in process.stdout:
            printed.append(line)
            if o.signal and not sent.is_set() and re.search(o.after, line):
                process.send_signal(getattr(signal, o.signal))
                sent.set()

    reader = threading.Thread(target=read)
    reader.start()
    try:
        # Generous: the runs are short, and a stopped run ends as soon as the signal lands.
        status = process.wait(timeout=300)
    except subprocess.TimeoutExpired:
        process.kill()
        fail("the command did not end")
    reader.join()
    output = "".join(printed)
    if o.signal and not sent.is_set():
        fail(f"no line matched '{o.after}'; it printed:\n{output}")
    if str(status) != o.exit:
        fail(f"exit status {status}, expected {o.exit}; it printed:\n{output}")
    try:
        root = ET.parse(o.report).getroot()
    except (OSError, ET.ParseError) as e:
        fail(f"{o.report}: {e}; it printed:\n{output}")
    cases = check_schema(root)
    found = {(c.get("classname"), c.get("name")): c for c in cases}
    if len(found) != len(cases):
        fail("two testcases share a classname and a name")
    for want in o.case:
        classname, name, state, *text = want.split("|", 3)
        case = found.pop((classname, name), None)
        if case is None:
            fail(f"no testcase {classname} / {name}; the report has {sorted(found)}")
        actual, said = state_of(case)
        if actual != state or (text and text[0] not in said):
            fail(f"{classname} / {name}: {actual} ({said}), expected {state} {text}")
    if found:
        fail(f"testcases not expected: {sorted(found)}")
    times = {c.get("name"): float(c.get("time")) for c in cases}
    for want in o.min_time:
        name, seconds = want.rsplit("|", 1)
        if times.get(name, -1) < float(seconds):
            fail(f"{name} took {times.get(name)} s in the report, at least {seconds} expected")


main()

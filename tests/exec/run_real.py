"""Runs programs the way `muxlab exec` does, but on the real kernel, in real time: the other half
of the differential tests in flows.cmake. The same command line works for both:

    python3 run_real.py [--background N]... [--timeout SECONDS] -- PROGRAM ARGS... \
        [::: PROGRAM ARGS... | :::& PROGRAM ARGS...]...

Every program starts at once; one after :::& (or the Nth, with --background N) runs in the
background and is stopped (SIGTERM, then SIGKILL after a second) once the others have ended.
What each printed on stdout is shown once all have ended, program by program in command-line
order, so that lines of two programs never run into each other. The exit status is exec's: the first failing foreground program's own (in command-line order; 128 + N
for a signal), or 124 if they are not all done after --timeout seconds (default 50).
"""
import shutil
import subprocess
import sys
import tempfile
import time


def parse(argv):
    background, timeout = set(), 50.0
    while argv[0] != "--":
        option, value, argv = argv[0], argv[1], argv[2:]
        if option == "--background":
            background.add(int(value) - 1)
        elif option == "--timeout":
            timeout = float(value)
        else:
            raise SystemExit(f"run_real.py: unknown option {option}")
    programs = [[]]
    for arg in argv[1:]:
        if arg in (":::", ":::&"):
            if arg == ":::&":
                background.add(len(programs))
            programs.append([])
        else:
            programs[-1].append(arg)
    return programs, background, timeout


def stop(process):
    process.terminate()
    try:
        process.wait(1)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def main():
    programs, background, timeout = parse(sys.argv[1:])
    outputs = [tempfile.TemporaryFile() for _ in programs]
    running = [subprocess.Popen(program, stdout=out) for program, out in zip(programs, outputs)]
    foreground = [p for i, p in enumerate(running) if i not in background]
    give_up = time.monotonic() + timeout
    codes = []
    try:
        for process in foreground:
            code = process.wait(max(0.0, give_up - time.monotonic()))
            codes.append(128 - code if code < 0 else code)
    except subprocess.TimeoutExpired:
        print(f"run_real.py: --timeout reached ({timeout} s)", file=sys.stderr)
        codes = [124]
    for process in running:
        if process.poll() is None:
            stop(process)
    for out in outputs:
        out.seek(0)
        shutil.copyfileobj(out, sys.stdout.buffer)
    sys.exit(next((code for code in codes if code != 0), 0))


if __name__ == "__main__":
    main()

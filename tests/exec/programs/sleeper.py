"""Sleeps the seconds it is given and says how long the monotonic clock saw it sleep."""
import sys
import time

start = time.monotonic()
time.sleep(float(sys.argv[1]))
print(f"slept {time.monotonic() - start:.6f} s")

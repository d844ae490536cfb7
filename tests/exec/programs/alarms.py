"""Signals in virtual time: setitimer and alarm interrupt a select and a recv, an interval timer
ticks. One line per fact, compared between the real kernel and `muxlab exec`.

    python3 alarms.py
"""
import select, signal, socket, time
class Interrupted(Exception): pass
def ring(signum, frame): raise Interrupted
signal.signal(signal.SIGALRM, ring)
a, b = socket.socketpair()
start = time.monotonic()
signal.setitimer(signal.ITIMER_REAL, 0.5)
try:
    select.select([a], [], [], 10)
    print("select ended without the alarm")
except Interrupted:
    print(f"setitimer interrupted select after {time.monotonic() - start:.1f} s")
start = time.monotonic()
signal.alarm(1)
try:
    a.recv(1)
except Interrupted:
    print(f"alarm interrupted recv after {time.monotonic() - start:.1f} s")
print("left on a new timer:", round(signal.setitimer(signal.ITIMER_REAL, 5)[0]), round(signal.getitimer(signal.ITIMER_REAL)[0]))
signal.setitimer(signal.ITIMER_REAL, 0)
ticks = []
signal.signal(signal.SIGALRM, lambda s, f: ticks.append(time.monotonic()))
start = time.monotonic()
signal.setitimer(signal.ITIMER_REAL, 0.2, 0.2)
while len(ticks) < 3:
    time.sleep(1)
signal.setitimer(signal.ITIMER_REAL, 0)
print("interval ticks at", [round(t - start, 1) for t in ticks])

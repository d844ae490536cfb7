"""Signals in virtual time: setitimer and alarm interrupt a select and a recv, an interval timer
ticks. One line per fact, compared between the real kernel and `muxlab exec`; times are checked
as bounds, since the real kernel may run late on a loaded machine (under exec they are exact).

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
    print("setitimer interrupted select, not before 0.5 s:", 0.5 <= time.monotonic() - start < 5)
start = time.monotonic()
signal.alarm(1)
try:
    a.recv(1)
except Interrupted:
    print("alarm interrupted recv, not before 1 s:", 1 <= time.monotonic() - start < 5)
print("left on a new timer:", round(signal.setitimer(signal.ITIMER_REAL, 5)[0]), round(signal.getitimer(signal.ITIMER_REAL)[0]))
signal.setitimer(signal.ITIMER_REAL, 0)
ticks = []
signal.signal(signal.SIGALRM, lambda s, f: ticks.append(time.monotonic()))
start = time.monotonic()
signal.setitimer(signal.ITIMER_REAL, 0.2, 0.2)
while len(ticks) < 3:
    time.sleep(0.05)
signal.setitimer(signal.ITIMER_REAL, 0)
print("an interval timer ticked 3 times, the third not before 0.6 s:",
      len(ticks) >= 3 and 0.6 <= ticks[2] - start < 5)

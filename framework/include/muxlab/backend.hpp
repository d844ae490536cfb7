#pragma once
// The one interface over every readiness mechanism, in the spirit of libevent's eventop:
// register (add / modify / remove) and dispatch (wait). Level-triggered unless asked otherwise.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "muxlab/clock.hpp"
#include "muxlab/handle.hpp"
#include "muxlab/readiness.hpp"
#include "muxlab/result.hpp"

namespace muxlab {

// An amount a mechanism did not report.
inline constexpr std::int64_t kNotReported = -1;

struct Event {
  Handle handle = invalid_handle;
  Readiness readiness = Readiness::none;
  std::uint64_t token = 0;  // what the caller gave add()/modify()
  // kqueue's `data` for each filter that fired; kNotReported on every other mechanism, and for a
  // filter that did not fire. Read filter: bytes ready to read, or on a listener the connections
  // waiting in its accept queue. Write filter: free space in the send buffer, in bytes.
  std::int64_t read_data = kNotReported;
  std::int64_t write_data = kNotReported;
};

// What a backend can tell at all, and how many handles it takes. mio's lesson: only readable
// and writable are guaranteed; the rest are hints that some mechanisms cannot give.
struct Capabilities {
  enum class Limit : std::uint8_t {
    none,      // only the process's open-file limit
    fd_value,  // POSIX select: the fd *value* must be below handle_limit
    count,     // Win32 select: at most handle_limit sockets in one set
  };

  std::string_view mechanism;  // "epoll", "poll", "select", "win32-select", "kqueue"
  Readiness reports = Readiness::none;
  Limit limit = Limit::none;
  std::size_t handle_limit = 0;
  Trigger triggers = Trigger::level;  // the non-level modes it has
};

class Backend {
 public:
  virtual ~Backend() = default;

  virtual const Capabilities& capabilities() const = 0;

  // Errors: already_registered, not_registered, bad_handle, too_many_handles (naming the handle
  // and the limit), unsupported (a trigger mode the mechanism lacks), invalid_argument. A failed
  // call leaves the registration as it was. On every backend, real and fake:
  //  - The interest must be read, write or both (is_valid_registration): Interest::none and bits
  //    that are no Interest are refused with invalid_argument naming the handle and the value.
  //    To stop reports, remove the handle.
  //  - add of a handle that is not open is refused with bad_handle (poll, select and Win32
  //    select check it themselves, as their system calls would tell only at the next wait);
  //    modify too, except on kqueue, whose modify only queues its changes for the next wait.
  //  - A regular file is not a socket: epoll refuses it (bad_handle); poll and select take it
  //    and report it readable and writable; Win32 select takes only sockets (bad_handle).
  // Per mechanism (docs/backend-differences.md, "Registration"): poll and select register a
  // handle *number*, epoll and kqueue a socket. A registered handle closed without remove:
  //  - the next wait: epoll and kqueue report nothing for it (the kernel dropped it), poll
  //    reports `error` (POLLNVAL), select and Win32 select fail the whole wait with bad_handle
  //    naming it;
  //  - then remove: epoll says bad_handle (epoll_ctl looks at the closed descriptor), kqueue
  //    not_registered (closing deleted its knotes), poll and select ok (the number's entry goes);
  //  - a new socket that gets the same number: poll and select report it with the old
  //    registration's interest and token; on epoll and kqueue it is not registered.
  virtual Status add(Handle h, Interest interest, std::uint64_t token,
                     Trigger trigger = Trigger::level) = 0;
  virtual Status modify(Handle h, Interest interest, std::uint64_t token,
                        Trigger trigger = Trigger::level) = 0;
  virtual Status remove(Handle h) = 0;

  // Fills `out` with up to out.size() ready handles and returns how many. Timeouts: 0 or any
  // negative value polls once; `infinite` (Duration::max()) is the only one that blocks forever;
  // every other value is honoured to its end, up to Duration::max() - 1 ns (the mechanism's
  // longest single wait is exceeded by waiting again). An interrupted system call is retried
  // with the time that remains, so a signal neither ends the wait early nor restarts it.
  virtual Result<std::size_t> wait(std::span<Event> out, Duration timeout) = 0;
};

}  // namespace muxlab

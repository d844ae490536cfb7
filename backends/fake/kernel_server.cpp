// The kernel server of `muxlab exec` (kernel_server.hpp): each request of a process becomes calls
// on one fake kernel, in Linux's terms, and the answer goes back as a Reply. A call that would
// block parks its process; every change (any process's call, virtual time moving) checks the
// parked calls again, free of charge, in the order they parked.
#include "kernel_server.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <tuple>
#include <utility>

#include <fmt/format.h>

#include "fake_environment.hpp"
#include "readiness_rules.hpp"
#include "socket.hpp"

namespace muxlab::exec {

namespace abi = linux_abi;
using fake::FakeKernel;

namespace {

// The errno a Linux program sees for a portable error. The fake kernel speaks Linux's socket API
// (the epoll personality), so each code has one Linux meaning.
int errno_of(std::error_code code) {
  if (code.category() != muxlab_category()) return EIO;
  switch (static_cast<Errc>(code.value())) {
    case Errc::would_block:
      return EAGAIN;
    case Errc::in_progress:
      return EINPROGRESS;
    case Errc::already_in_progress:
      return EALREADY;
    case Errc::already_connected:
      return EISCONN;
    case Errc::not_connected:
      return ENOTCONN;
    case Errc::connection_refused:
      return ECONNREFUSED;
    case Errc::connection_reset:
      return ECONNRESET;
    case Errc::broken_pipe:
      return EPIPE;
    case Errc::shut_down:
      return EPIPE;
    case Errc::address_in_use:
      return EADDRINUSE;
    case Errc::bad_handle:
      return EBADF;
    case Errc::too_many_handles:
      return EMFILE;
    case Errc::already_registered:
      return EEXIST;
    case Errc::not_registered:
      return ENOENT;
    case Errc::unsupported:
      return EOPNOTSUPP;
    case Errc::invalid_argument:
      return EINVAL;
    case Errc::timed_out:
      return ETIMEDOUT;
    case Errc::no_resources:
      return ENOBUFS;
    case Errc::not_permitted:
      return EPERM;
    case Errc::connection_aborted:
      return ECONNABORTED;
    case Errc::unreachable:
      return ENETUNREACH;
    case Errc::address_not_available:
      return EADDRNOTAVAIL;
    case Errc::other:
      break;
  }
  return EIO;
}

// Names for traces and reports, so that they read the same on every libc.
std::string errno_name(int e) {
  switch (e) {
    case EAGAIN:
      return "EAGAIN";
    case EINPROGRESS:
      return "EINPROGRESS";
    case EALREADY:
      return "EALREADY";
    case EISCONN:
      return "EISCONN";
    case ENOTCONN:
      return "ENOTCONN";
    case ECONNREFUSED:
      return "ECONNREFUSED";
    case ECONNRESET:
      return "ECONNRESET";
    case EPIPE:
      return "EPIPE";
    case EADDRINUSE:
      return "EADDRINUSE";
    case EBADF:
      return "EBADF";
    case EMFILE:
      return "EMFILE";
    case EEXIST:
      return "EEXIST";
    case ENOENT:
      return "ENOENT";
    case EOPNOTSUPP:
      return "EOPNOTSUPP";
    case EINVAL:
      return "EINVAL";
    case ETIMEDOUT:
      return "ETIMEDOUT";
    case ENOBUFS:
      return "ENOBUFS";
    case EPERM:
      return "EPERM";
    case ECONNABORTED:
      return "ECONNABORTED";
    case ENETUNREACH:
      return "ENETUNREACH";
    case EADDRNOTAVAIL:
      return "EADDRNOTAVAIL";
    case ENOTSOCK:
      return "ENOTSOCK";
    case EIO:
      return "EIO";
    default:
      return fmt::format("errno {}", e);
  }
}

const char* op_name(Op op) {
  switch (op) {
    case Op::hello:
      return "hello";
    case Op::socket:
      return "socket";
    case Op::socketpair:
      return "socketpair";
    case Op::bind:
      return "bind";
    case Op::listen:
      return "listen";
    case Op::accept:
      return "accept";
    case Op::connect:
      return "connect";
    case Op::send:
      return "send";
    case Op::recv:
      return "recv";
    case Op::shutdown:
      return "shutdown";
    case Op::close:
      return "close";
    case Op::dup:
      return "dup";
    case Op::set_option:
      return "setsockopt";
    case Op::get_option:
      return "getsockopt";
    case Op::local_address:
      return "getsockname";
    case Op::peer_address:
      return "getpeername";
    case Op::set_nonblocking:
      return "set_nonblocking";
    case Op::get_nonblocking:
      return "get_nonblocking";
    case Op::bytes_readable:
      return "FIONREAD";
    case Op::pipe:
      return "pipe";
    case Op::eventfd:
      return "eventfd";
    case Op::fork:
      return "fork";
    case Op::alarm:
      return "setitimer";
    case Op::wait_child:
      return "waitpid";
    case Op::poll:
      return "poll";
    case Op::select:
      return "select";
    case Op::epoll_create:
      return "epoll_create";
    case Op::epoll_ctl:
      return "epoll_ctl";
    case Op::epoll_wait:
      return "epoll_wait";
    case Op::clock_now:
      return "clock_gettime";
    case Op::sleep_until:
      return "sleep";
  }
  return "unknown";
}

// FNV-1a, 64 bits: a trace names the bytes a call moved without printing them.
std::uint64_t hash_of(std::span<const std::byte> bytes) {
  std::uint64_t h = 0xcbf29ce484222325;
  for (std::byte b : bytes)
    h = (h ^ static_cast<std::uint8_t>(b)) * 0x100000001b3;
  return h;
}

std::int64_t nanoseconds(Time t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t).count();
}

template <class T>
T value_or(Result<T> r, T otherwise) {
  return r ? std::move(*r) : otherwise;
}

// A timeout of `ns` nanoseconds from now (negative: none) as a deadline; Time::max() is none.
Time deadline_after(Time now, std::int64_t ns) {
  if (ns < 0) return Time::max();
  const Duration d = std::chrono::nanoseconds(ns);
  return d >= fake::kEndOfVirtualTime - now ? fake::kEndOfVirtualTime : now + d;
}

// pipe(7): what a pipe holds before a writer blocks.
constexpr std::size_t kPipeCapacity = 65536;

// eventfd(2): the count never exceeds this; a write that would pass it blocks.
constexpr std::uint64_t kEventfdMost = 0xffff'ffff'ffff'fffe;

// A socket's SO_RCVTIMEO or SO_SNDTIMEO as a timeout for deadline_after: zero is none.
std::int64_t timeout_or_none(std::int64_t option_ns) {
  return option_ns != 0 ? option_ns : -1;
}

}  // namespace

// --- What the server keeps --------------------------------------------------------------------

// An open file description: what a descriptor names, shared by its dups.
struct KernelServer::Object {
  enum class Kind : std::uint8_t { socket, epoll, pipe_read, pipe_write, eventfd };
  // Which ends of a pipe are still open: writing with no reader is EPIPE, reading with no writer
  // is the end of the stream.
  struct PipeEnds {
    bool reader = true;
    bool writer = true;
    Handle read_end = invalid_handle;
    Handle write_end = invalid_handle;
  };
  // A registration in an epoll instance: the events asked for, and the object, whose kind says
  // what the events mean.
  struct Registration {
    std::uint32_t events = 0;
    std::weak_ptr<Object> object;
  };
  Kind kind = Kind::socket;
  Handle handle = invalid_handle;  // the kernel's socket (a pipe end's, an eventfd's too)
  bool nonblocking = false;        // O_NONBLOCK
  Endpoint bound{0, 0};            // bind()'s address, used by listen()
  bool was_bound = false;          // bind() succeeded: a socket binds once
  bool listening = false;
  bool unix_pair = false;       // made by socketpair(AF_UNIX): getsockname shows AF_UNIX
  bool reset_on_close = false;  // SO_LINGER on with 0 seconds
  std::int64_t linger = 0;      // as get_option reports it: on | seconds << 1
  std::int64_t receive_timeout_ns = 0;
  std::int64_t send_timeout_ns = 0;
  std::map<std::int64_t, std::int64_t> other_options;
  // epoll: the registrations, and the events each asked for (the backend knows read and write
  // interest; the report is the asked bits that are true, as ep_item_poll() computes it).
  std::unique_ptr<Backend> epoll;
  std::map<Handle, Registration> asked;
  std::shared_ptr<PipeEnds> pipe;  // a pipe end's, shared with the other end
  // eventfd: the count, and the hidden peer of `handle` that sends it a byte on every write, so
  // that the kernel's watchers see a count that is not zero as `handle` being readable.
  std::uint64_t count = 0;
  bool semaphore = false;  // EFD_SEMAPHORE: a read takes 1, not all
  Handle feeder = invalid_handle;

  bool is_stream() const { return kind != Kind::epoll; }
  // What the shim of an exec'd image is told this descriptor is.
  exec::Kind descriptor_kind() const {
    switch (kind) {
      case Kind::socket:
        return unix_pair ? exec::Kind::unix_socket : exec::Kind::inet_socket;
      case Kind::epoll:
        return exec::Kind::epoll;
      case Kind::pipe_read:
        return exec::Kind::pipe_read;
      case Kind::pipe_write:
        return exec::Kind::pipe_write;
      case Kind::eventfd:
        return exec::Kind::eventfd;
    }
    return exec::Kind::real;
  }
};

struct KernelServer::Call {
  Request request{};
  std::vector<std::byte> payload;
  Time deadline = Time::max();  // a parked call gives up then (a timeout); max: never
  Time started{};               // when it was made: select reports the time it took
  std::size_t progress = 0;     // a blocking send's bytes sent so far; MSG_WAITALL's received
  std::int64_t result = 0;
  int error = 0;               // errno when result is -1
  std::vector<std::byte> out;  // the reply's payload
  bool connect_started = false;

  void fail(int e) {
    result = -1;
    error = e;
  }
  void fail(const Error& e) { fail(errno_of(e.code)); }
  template <class T>
  void put(const T& value) {
    const auto* p = reinterpret_cast<const std::byte*>(&value);
    out.insert(out.end(), p, p + sizeof value);
  }
};

struct KernelServer::Process {
  ProcessId id = 0;
  std::string name;
  std::int64_t pid = 0;
  bool live = true;
  ProcessId parent = 0;  // the process that forked it; 0: started by muxlab exec
  // ITIMER_REAL in virtual time: when it fires (max: disarmed), and again every `interval`.
  Time alarm_at = Time::max();
  Duration alarm_interval{};
  std::int32_t pending_signal = 0;  // raised with the next reply
  bool waited = false;              // its end was reported to its parent's waitpid
  // Children forked by the call in hand: they exist once the reply reaches this process, and say
  // hello then.
  std::vector<ProcessId> unborn;
  std::map<int, std::shared_ptr<Object>> fds;  // ordered: an exit closes them in fd order
  std::optional<Call> call;                    // the call in hand or parked
  Time parked_since{};
  std::vector<std::byte> reply;  // Reply and payload, ready to send
};

KernelServer::KernelServer(ServerConfig config)
    : config_(std::move(config)),
      kernel_(std::make_shared<FakeKernel>(*fake::find_personality("epoll"), config_.kernel)),
      random_(config_.kernel.seed ^ 0x6578656373656564) {}

KernelServer::~KernelServer() = default;

ProcessId KernelServer::add_process(std::string name) {
  const ProcessId id = new_process(std::move(name));
  ready_.push_back(Ready{now(), random_.next(), id});  // resumed first to say hello
  return id;
}

ProcessId KernelServer::new_process(std::string name) {
  const auto id = static_cast<ProcessId>(processes_.size() + 1);
  auto p = std::make_unique<Process>();
  p->id = id;
  p->name = std::move(name);
  processes_.emplace(id, std::move(p));
  return id;
}

KernelServer::Process& KernelServer::process(ProcessId p) {
  return *processes_.at(p);
}

std::int64_t KernelServer::pid_of(ProcessId p) const {
  return processes_.at(p)->pid;
}

bool KernelServer::is_live(ProcessId p) const {
  const auto it = processes_.find(p);
  return it != processes_.end() && it->second->live;
}

// --- Scheduling -------------------------------------------------------------------------------

KernelServer::Next KernelServer::next(Time limit) {
  for (;;) {
    // Calls move time too: a process that busy-polls reaches the limit without anyone waiting.
    if (now() > limit) return Next{Next::Kind::time_limit, 0, {}};
    if (!ready_.empty()) {
      const auto first = std::min_element(ready_.begin(), ready_.end(), [](auto& a, auto& b) {
        return a.since != b.since ? a.since < b.since : a.order < b.order;
      });
      const ProcessId id = first->process;
      ready_.erase(first);
      Process& p = process(id);
      sent_ = std::exchange(p.reply, {});
      for (ProcessId child : std::exchange(p.unborn, {}))
        ready_.push_back(Ready{now(), random_.next(), child});
      return Next{Next::Kind::resume, id, sent_};
    }
    if (parked_.empty()) return Next{};
    // Everyone waits: move virtual time to whatever is due first.
    std::optional<Time> due = kernel_->next_event_time();
    if (const auto d = earliest_deadline(); d && (!due || *d < *due)) due = d;
    if (!due) return Next{Next::Kind::deadlock, 0, {}};
    if (*due > limit) return Next{Next::Kind::time_limit, 0, {}};
    if (*due > now())
      kernel_->run_until(*due);
    else
      kernel_->run_until(now());
    fire_alarms();
    expire_deadlines();
    recheck_parked();
  }
}

void KernelServer::make_ready(Process& p) {
  ready_.push_back(Ready{now(), random_.next(), p.id});
}

std::optional<Time> KernelServer::earliest_deadline() const {
  std::optional<Time> earliest;
  for (ProcessId id : parked_) {
    const Time d = processes_.at(id)->call->deadline;
    if (d != Time::max() && (!earliest || d < *earliest)) earliest = d;
  }
  for (const auto& [id, p] : processes_)
    if (p->live && p->alarm_at != Time::max() && (!earliest || p->alarm_at < *earliest))
      earliest = p->alarm_at;
  return earliest;
}

// Timers whose time has come raise SIGALRM: a parked call is interrupted (EINTR, as a signal
// ends a blocking call on Linux; the shim restarts it if the handler asked for SA_RESTART), and
// a process that runs gets the signal with its next reply.
void KernelServer::fire_alarms() {
  for (auto& [id, p] : processes_) {
    if (!p->live || p->alarm_at > now()) continue;
    if (p->alarm_interval > Duration::zero()) {
      while (p->alarm_at <= now())
        p->alarm_at += p->alarm_interval;
    } else {
      p->alarm_at = Time::max();
    }
    p->pending_signal = abi::kSigAlrm;
    if (!p->call && p->reply.size() >= sizeof(Reply)) {  // ready, its reply not yet sent
      Reply r;
      std::memcpy(&r, p->reply.data(), sizeof r);
      r.signal = std::exchange(p->pending_signal, 0);
      std::memcpy(p->reply.data(), &r, sizeof r);
      continue;
    }
    if (const auto parked = std::find(parked_.begin(), parked_.end(), id);
        parked != parked_.end()) {
      parked_.erase(parked);
      Call& c = *p->call;
      c.out.clear();
      if (c.progress > 0 && (c.request.op == Op::send || c.request.op == Op::recv)) {
        c.result = static_cast<std::int64_t>(c.progress);  // what moved before the signal
      } else {
        c.fail(EINTR);
        if (c.request.op == Op::sleep_until)  // nanosleep says what remained
          c.put(std::int64_t{c.deadline > now() ? nanoseconds(c.deadline - now()) : 0});
      }
      finish(*p, c);
      make_ready(*p);
    }
  }
}

KernelServer::Outcome KernelServer::do_alarm(Process& p, Call& c) {
  const AlarmTimer was{p.alarm_at == Time::max() ? 0 : nanoseconds(p.alarm_at - now()),
                       std::int64_t{nanoseconds(p.alarm_interval)}};
  c.put(was);
  if (c.request.arg[2] != 0) return Outcome::done;  // getitimer
  const std::int64_t in = c.request.arg[0];
  p.alarm_at = in > 0 ? deadline_after(now(), in) : Time::max();
  p.alarm_interval = std::chrono::nanoseconds(std::max<std::int64_t>(c.request.arg[1], 0));
  return Outcome::done;
}

void KernelServer::recheck_parked() {
  for (bool changed = true; changed;) {
    changed = false;
    for (auto it = parked_.begin(); it != parked_.end();) {
      Process& p = process(*it);
      kernel_->set_owner(p.id);
      if (kernel_->uncharged([&] { return attempt(p, *p.call, false); }) == Outcome::done) {
        it = parked_.erase(it);
        finish(p, *p.call);
        make_ready(p);
        changed = true;
      } else {
        ++it;
      }
    }
  }
}

// Parked calls whose timeout has come answer as the timeout says.
void KernelServer::expire_deadlines() {
  for (auto it = parked_.begin(); it != parked_.end();) {
    Process& p = process(*it);
    Call& c = *p.call;
    if (c.deadline > now()) {
      ++it;
      continue;
    }
    kernel_->set_owner(p.id);
    if (kernel_->uncharged([&] { return attempt(p, c, false); }) == Outcome::parked) {
      switch (c.request.op) {
        case Op::poll:
        case Op::select:
        case Op::epoll_wait:
        case Op::sleep_until:
          c.result = 0;
          c.out.clear();
          if (c.request.op == Op::select) {
            c.out.resize(sizeof(SelectSets));
            c.put(std::int64_t{nanoseconds(now() - c.started)});
          }
          break;
        case Op::connect:
          c.fail(EINPROGRESS);
          break;
        default:  // SO_RCVTIMEO, SO_SNDTIMEO: what moved so far, or EAGAIN
          if (c.progress > 0)
            c.result = static_cast<std::int64_t>(c.progress);
          else
            c.fail(EAGAIN);
          if (c.request.op == Op::recv) c.out.resize(c.result == -1 ? 0 : c.progress);
      }
    }
    it = parked_.erase(it);
    finish(p, c);
    make_ready(p);
  }
}

// --- Requests ---------------------------------------------------------------------------------

void KernelServer::handle(ProcessId id, std::span<const std::byte> message) {
  Process& p = process(id);
  Call& c = p.call.emplace();
  if (message.size() < sizeof(Request)) {
    c.fail(EINVAL);
    finish(p, c);
    make_ready(p);
    return;
  }
  std::memcpy(&c.request, message.data(), sizeof(Request));
  c.payload.assign(message.begin() + sizeof(Request), message.end());
  kernel_->set_owner(id);
  if (c.request.op == Op::hello)
    p.pid = c.request.arg[0];
  else
    kernel_->begin_call();  // the call's cost, once; what follows is free
  c.started = now();
  const Outcome outcome = kernel_->uncharged([&] { return attempt(p, c, true); });
  if (outcome == Outcome::done) {
    if (c.result == -1 && c.error == EAGAIN) kernel_->count_would_block();
    finish(p, c);
    make_ready(p);
  } else {
    p.parked_since = now();
    parked_.push_back(id);
  }
  // Every call moves virtual time, so a timeout can fall due while another process runs (one
  // that busy-polls, say), not only when everyone waits.
  fire_alarms();
  expire_deadlines();
  recheck_parked();
}

ProcessId KernelServer::fork(ProcessId parent, std::span<const std::byte> message) {
  Process& p = process(parent);
  const ProcessId id = new_process(fmt::format("{} (fork of p{})", p.name, parent));
  Process& child = process(id);
  child.parent = parent;
  p.unborn.push_back(id);
  child.fds = p.fds;  // the same open file descriptions: a socket closes when both have closed it
  Call& c = p.call.emplace();
  std::memcpy(&c.request, message.data(), std::min(message.size(), sizeof(Request)));
  kernel_->set_owner(parent);
  kernel_->begin_call();
  c.result = id;
  finish(p, c);
  make_ready(p);
  recheck_parked();
  return id;
}

void KernelServer::finish(Process& p, Call& c) {
  trace_call(p, c);
  const Reply reply{c.result, c.error, static_cast<std::uint32_t>(c.out.size()),
                    std::exchange(p.pending_signal, 0)};
  p.reply.resize(sizeof reply + c.out.size());
  std::memcpy(p.reply.data(), &reply, sizeof reply);
  if (!c.out.empty()) std::memcpy(p.reply.data() + sizeof reply, c.out.data(), c.out.size());
  p.call.reset();
}

void KernelServer::exited(ProcessId id) {
  Process& p = process(id);
  p.live = false;
  std::erase(parked_, id);
  std::erase_if(ready_, [&](const Ready& r) { return r.process == id; });
  p.call.reset();
  kernel_->set_owner(id);
  kernel_->uncharged([&] {
    for (auto& [fd, object] : std::exchange(p.fds, {}))
      release(std::move(object));
    return 0;
  });
  if (trace_) *trace_ << fmt::format("{} p{} exit\n", nanoseconds(now()), id);
  recheck_parked();
}

KernelServer::Outcome KernelServer::attempt(Process& p, Call& c, bool first) {
  switch (c.request.op) {
    case Op::hello:  // again after an exec: the descriptors that came through it
      for (const auto& [fd, o] : p.fds)
        c.put(FakeDescriptor{fd, o->descriptor_kind()});
      return Outcome::done;
    case Op::socket:
      return do_socket(p, c);
    case Op::socketpair:
      return do_socketpair(p, c);
    case Op::bind:
      return do_bind(p, c);
    case Op::listen:
      return do_listen(p, c);
    case Op::accept:
      return do_accept(p, c, first);
    case Op::connect:
      return do_connect(p, c, first);
    case Op::send:
      return do_send(p, c, first);
    case Op::recv:
      return do_recv(p, c, first);
    case Op::shutdown:
      return do_shutdown(p, c);
    case Op::close:
      return do_close(p, c);
    case Op::dup:
      return do_dup(p, c);
    case Op::set_option:
      return do_set_option(p, c);
    case Op::get_option:
      return do_get_option(p, c);
    case Op::local_address:
      return do_address(p, c, false);
    case Op::peer_address:
      return do_address(p, c, true);
    case Op::set_nonblocking:
      return do_nonblocking(p, c, true);
    case Op::get_nonblocking:
      return do_nonblocking(p, c, false);
    case Op::bytes_readable:
      return do_bytes_readable(p, c);
    case Op::poll:
      return do_poll(p, c, first);
    case Op::select:
      return do_select(p, c, first);
    case Op::epoll_create:
      return do_epoll_create(p, c);
    case Op::epoll_ctl:
      return do_epoll_ctl(p, c);
    case Op::epoll_wait:
      return do_epoll_wait(p, c, first);
    case Op::clock_now:
      c.result = nanoseconds(now());
      return Outcome::done;
    case Op::sleep_until:
      return do_sleep(p, c, first);
    case Op::pipe:
      return do_pipe(p, c);
    case Op::fork:
      c.fail(EINVAL);  // only with a channel for the child: fork()
      return Outcome::done;
    case Op::wait_child:
      return do_wait_child(p, c);
    case Op::alarm:
      return do_alarm(p, c);
    case Op::eventfd:
      return do_eventfd(p, c);
  }
  c.fail(ENOSYS);
  return Outcome::done;
}

std::shared_ptr<KernelServer::Object> KernelServer::object_at(Process& p, int fd) const {
  const auto it = p.fds.find(fd);
  return it == p.fds.end() ? nullptr : it->second;
}

// The socket `fd` names, or nullptr with EBADF (not open) or ENOTSOCK (an epoll instance) set.
std::shared_ptr<KernelServer::Object> KernelServer::socket_at(Process& p, int fd, Call& c) const {
  auto o = object_at(p, fd);
  if (!o)
    c.fail(EBADF);
  else if (o->kind != Object::Kind::socket)
    c.fail(ENOTSOCK), o = nullptr;
  return o;
}

// What read and write reach: a socket, a pipe end or an eventfd; nullptr with EBADF (not open)
// or EINVAL (an epoll instance, which read(2) refuses so) set.
std::shared_ptr<KernelServer::Object> KernelServer::stream_at(Process& p, int fd, Call& c) const {
  auto o = object_at(p, fd);
  if (!o)
    c.fail(EBADF);
  else if (!o->is_stream())
    c.fail(EINVAL), o = nullptr;
  return o;
}

void KernelServer::release(std::shared_ptr<Object> object) {
  if (object.use_count() > 1) return;  // another descriptor still names it
  switch (object->kind) {
    case Object::Kind::socket:
      if (object->reset_on_close)
        (void)kernel_->abort(object->handle);
      else
        (void)kernel_->close(object->handle);
      break;
    case Object::Kind::pipe_read:
      object->pipe->reader = false;
      (void)kernel_->close(object->handle);
      break;
    case Object::Kind::pipe_write:
      object->pipe->writer = false;  // the reader sees the end of the stream after the bytes
      (void)kernel_->close(object->handle);
      break;
    case Object::Kind::eventfd:
      (void)kernel_->close(object->feeder);
      (void)kernel_->close(object->handle);
      break;
    case Object::Kind::epoll:
      break;
  }
}

KernelServer::Outcome KernelServer::do_socket(Process& p, Call& c) {
  Result<Handle> h = kernel_->socket();
  if (!h) {
    c.fail(h.error());
    return Outcome::done;
  }
  auto o = std::make_shared<Object>();
  o->handle = *h;
  o->nonblocking = c.request.arg[0] != 0;
  p.fds[c.request.fd] = std::move(o);
  return Outcome::done;
}

// Two sockets connected on the spot, with no latency: what AF_UNIX stream pairs, pipes and
// eventfds are made of (the same byte stream, and readiness the kernel's watchers follow).
Result<std::pair<Handle, Handle>> KernelServer::connected_pair() {
  const Duration latency = std::exchange(kernel_->config().link_latency, Duration::zero());
  Result<Handle> listener = kernel_->listen(Endpoint{0x7f000001, 0}, 1);
  Result<Handle> a = listener ? kernel_->socket() : listener;
  Result<Handle> b = a;
  if (a) {
    (void)kernel_->connect(*a, *kernel_->local_endpoint(*listener));
    kernel_->run_until(now());
    b = kernel_->accept(*listener);
  }
  if (listener) (void)kernel_->close(*listener);
  kernel_->config().link_latency = latency;
  if (!b) {
    if (a && listener) (void)kernel_->close(*a);
    return b.error();
  }
  return std::pair{*a, *b};
}

// AF_UNIX stream pairs are modelled as a loopback TCP connection (connected_pair()).
KernelServer::Outcome KernelServer::do_socketpair(Process& p, Call& c) {
  const Result<std::pair<Handle, Handle>> pair = connected_pair();
  if (!pair) {
    c.fail(pair.error());
    return Outcome::done;
  }
  for (auto [fd, h] :
       {std::pair{c.request.fd, pair->first}, std::pair{int(c.request.arg[0]), pair->second}}) {
    auto o = std::make_shared<Object>();
    o->handle = h;
    o->nonblocking = c.request.arg[1] != 0;
    o->unix_pair = true;
    p.fds[fd] = std::move(o);
  }
  return Outcome::done;
}

// A pipe is a connected pair of which one end only reads and the other only writes. Its
// readiness is pipe_poll()'s (poll_bits), and writing with no reader is EPIPE (do_send). Pipes
// and eventfds are no network: the faults of --fault do not apply to them.
KernelServer::Outcome KernelServer::do_pipe(Process& p, Call& c) {
  const Result<std::pair<Handle, Handle>> pair = connected_pair();
  if (!pair) {
    c.fail(pair.error());
    return Outcome::done;
  }
  auto ends = std::make_shared<Object::PipeEnds>();
  ends->read_end = pair->first;
  ends->write_end = pair->second;
  // pipe(7): a pipe holds 65536 bytes. The pair holds the writer's send buffer (the smallest
  // there is) and the reader's advertised window: sized so that the two make that.
  (void)kernel_->set_send_buffer(ends->write_end, 0);
  const std::size_t in_send_buffer = kernel_->socket_at(ends->write_end)->send_capacity();
  (void)kernel_->set_receive_buffer(ends->read_end, (kPipeCapacity - in_send_buffer) *
                                                        fake::kAdvertisedWindowDivisor /
                                                        fake::kBufferSizeDoubling);
  for (auto [fd, h, kind] :
       {std::tuple{c.request.fd, pair->first, Object::Kind::pipe_read},
        std::tuple{int(c.request.arg[0]), pair->second, Object::Kind::pipe_write}}) {
    (void)kernel_->set_faults(h, fake::FaultPlan{});
    auto o = std::make_shared<Object>();
    o->kind = kind;
    o->handle = h;
    o->nonblocking = c.request.arg[1] != 0;
    o->pipe = ends;
    p.fds[fd] = std::move(o);
  }
  return Outcome::done;
}

// An eventfd is a count, readable while it is not zero. Its socket (`handle`) gets a byte from
// its hidden peer on every write that adds to the count, so that epoll, edge-triggered too,
// hears of each write as Linux's eventfd_write() wakes it; a read that empties the count takes
// the bytes.
KernelServer::Outcome KernelServer::do_eventfd(Process& p, Call& c) {
  const Result<std::pair<Handle, Handle>> pair = connected_pair();
  if (!pair) {
    c.fail(pair.error());
    return Outcome::done;
  }
  auto o = std::make_shared<Object>();
  o->kind = Object::Kind::eventfd;
  o->handle = pair->first;
  o->feeder = pair->second;
  o->nonblocking = c.request.arg[1] != 0;
  o->semaphore = c.request.arg[2] != 0;
  (void)kernel_->set_faults(o->handle, fake::FaultPlan{});
  (void)kernel_->set_faults(o->feeder, fake::FaultPlan{});
  add_to_count(*o, static_cast<std::uint32_t>(c.request.arg[0]));
  p.fds[c.request.fd] = std::move(o);
  return Outcome::done;
}

void KernelServer::add_to_count(Object& o, std::uint64_t n) {
  if (n == 0) return;
  o.count += n;
  const std::byte tick{1};
  (void)kernel_->send(o.feeder, std::span(&tick, 1));  // a full buffer: epoll heard already
}

KernelServer::Outcome KernelServer::eventfd_write(Object& o, Call& c) {
  std::uint64_t n = 0;
  if (c.payload.size() < sizeof n) {
    c.fail(EINVAL);
    return Outcome::done;
  }
  std::memcpy(&n, c.payload.data(), sizeof n);
  if (n > kEventfdMost) {
    c.fail(EINVAL);
    return Outcome::done;
  }
  if (n > kEventfdMost - o.count) {
    if (!o.nonblocking) return Outcome::parked;
    c.fail(EAGAIN);
    return Outcome::done;
  }
  add_to_count(o, n);
  c.result = sizeof n;
  return Outcome::done;
}

KernelServer::Outcome KernelServer::eventfd_read(Object& o, Call& c) {
  if (c.request.arg[1] < static_cast<std::int64_t>(sizeof(std::uint64_t))) {
    c.fail(EINVAL);
    return Outcome::done;
  }
  if (o.count == 0) {
    if (!o.nonblocking) return Outcome::parked;
    c.fail(EAGAIN);
    return Outcome::done;
  }
  const std::uint64_t taken = o.semaphore ? 1 : o.count;
  o.count -= taken;
  if (o.count == 0) {
    std::byte ticks[256];
    while (value_or(kernel_->recv(o.handle, ticks), std::size_t{0}) > 0) {
    }
  }
  c.put(taken);
  c.result = sizeof taken;
  return Outcome::done;
}

KernelServer::Outcome KernelServer::do_bind(Process& p, Call& c) {
  auto o = socket_at(p, c.request.fd, c);
  if (!o) return Outcome::done;
  // inet_bind(): EINVAL once the socket has a port, from bind() or from listen() or connect().
  const fake::SocketFacts f = kernel_->socket_at(o->handle)->facts();
  if (o->was_bound || o->listening || f.connecting || f.was_connected) {
    c.fail(EINVAL);
    return Outcome::done;
  }
  o->was_bound = true;
  o->bound = Endpoint{static_cast<std::uint32_t>(c.request.arg[0]),
                      static_cast<std::uint16_t>(c.request.arg[1])};
  return Outcome::done;
}

KernelServer::Outcome KernelServer::do_listen(Process& p, Call& c) {
  auto o = socket_at(p, c.request.fd, c);
  if (!o || o->listening) return Outcome::done;
  const fake::SocketFacts f = kernel_->socket_at(o->handle)->facts();
  if (f.was_connected || f.connecting) {
    c.fail(EINVAL);
    return Outcome::done;
  }
  Result<Handle> h = kernel_->listen(o->bound, static_cast<int>(c.request.arg[0]));
  if (!h) {
    c.fail(h.error());
    return Outcome::done;
  }
  (void)kernel_->close(std::exchange(o->handle, *h));
  o->listening = true;
  return Outcome::done;
}

KernelServer::Outcome KernelServer::do_accept(Process& p, Call& c, bool first) {
  auto o = socket_at(p, c.request.fd, c);
  if (!o) return Outcome::done;
  if (!o->listening) {
    c.fail(EINVAL);
    return Outcome::done;
  }
  Result<Handle> h = kernel_->accept(o->handle);
  if (!h) {
    if (h.error() == Errc::would_block && !o->nonblocking) {
      if (first) c.deadline = deadline_after(now(), timeout_or_none(o->receive_timeout_ns));
      return Outcome::parked;
    }
    c.fail(h.error());
    return Outcome::done;
  }
  auto accepted = std::make_shared<Object>();
  accepted->handle = *h;
  accepted->nonblocking = c.request.arg[1] != 0;
  const Endpoint peer = value_or(kernel_->peer_endpoint(*h), Endpoint{0, 0});
  c.put(Address{peer.address, peer.port});
  p.fds[static_cast<int>(c.request.arg[0])] = std::move(accepted);
  return Outcome::done;
}

KernelServer::Outcome KernelServer::do_connect(Process& p, Call& c, bool first) {
  auto o = socket_at(p, c.request.fd, c);
  if (!o) return Outcome::done;
  if (o->listening) {
    c.fail(EISCONN);
    return Outcome::done;
  }
  if (first) {
    const Endpoint to{static_cast<std::uint32_t>(c.request.arg[0]),
                      static_cast<std::uint16_t>(c.request.arg[1])};
    const Status started = kernel_->connect(o->handle, to);
    if (started.ok()) return Outcome::done;
    if (!(started.error() == Errc::in_progress) || o->nonblocking) {
      c.fail(started.error());
      return Outcome::done;
    }
    c.deadline = deadline_after(now(), timeout_or_none(o->send_timeout_ns));
  }
  // A blocking connect: done when the handshake is, with SO_ERROR as its result.
  fake::Socket* s = kernel_->socket_at(o->handle);
  if (s == nullptr) {
    c.fail(EBADF);
    return Outcome::done;
  }
  if (s->facts().connecting) return Outcome::parked;
  const std::error_code error = value_or(kernel_->pending_error(o->handle), std::error_code{});
  if (error) c.fail(errno_of(error));
  return Outcome::done;
}

KernelServer::Outcome KernelServer::do_send(Process& p, Call& c, bool first) {
  auto o = stream_at(p, c.request.fd, c);
  if (!o) return Outcome::done;
  switch (o->kind) {
    case Object::Kind::eventfd:
      return eventfd_write(*o, c);
    case Object::Kind::pipe_read:
      c.fail(EBADF);  // opened for reading only
      return Outcome::done;
    case Object::Kind::pipe_write:
      if (!o->pipe->reader) {  // pipe_write(): no reader left, whatever was written before
        if (c.progress == 0)
          c.fail(EPIPE);
        else
          c.result = static_cast<std::int64_t>(c.progress);
        return Outcome::done;
      }
      break;
    default:
      break;
  }
  const bool nonblocking = o->nonblocking || (c.request.arg[0] & abi::kMsgDontWait) != 0;
  if (first && !nonblocking)
    c.deadline = deadline_after(now(), timeout_or_none(o->send_timeout_ns));
  while (c.progress < c.payload.size()) {
    const auto rest = std::span<const std::byte>(c.payload).subspan(c.progress);
    Result<std::size_t> sent = kernel_->send(o->handle, rest);
    if (sent) {
      c.progress += *sent;
      if (nonblocking) break;
      continue;
    }
    if (sent.error() == Errc::would_block && !nonblocking) return Outcome::parked;
    if (c.progress == 0) c.fail(sent.error());
    break;
  }
  if (c.result != -1) c.result = static_cast<std::int64_t>(c.progress);
  return Outcome::done;
}

KernelServer::Outcome KernelServer::do_recv(Process& p, Call& c, bool first) {
  auto o = stream_at(p, c.request.fd, c);
  if (!o) return Outcome::done;
  if (o->kind == Object::Kind::eventfd) return eventfd_read(*o, c);
  if (o->kind == Object::Kind::pipe_write) {
    c.fail(EBADF);  // opened for writing only
    return Outcome::done;
  }
  const std::int64_t flags = c.request.arg[0];
  const bool peek = (flags & abi::kMsgPeek) != 0;
  const bool nonblocking = o->nonblocking || (flags & abi::kMsgDontWait) != 0;
  // MSG_PEEK with MSG_WAITALL waits for the whole count to be there, then copies it.
  const bool wait_all = (flags & abi::kMsgWaitAll) != 0 && !nonblocking;
  const auto wanted = static_cast<std::size_t>(
      std::clamp<std::int64_t>(c.request.arg[1], 0, static_cast<std::int64_t>(kMaxPayload)));
  if (first && !nonblocking)
    c.deadline = deadline_after(now(), timeout_or_none(o->receive_timeout_ns));
  c.out.resize(wanted);
  for (;;) {
    Result<std::size_t> got =
        peek ? kernel_->peek(o->handle, c.out)
             : kernel_->recv(o->handle, std::span<std::byte>(c.out).subspan(c.progress));
    if (peek && got) {  // a peek starts from the front every time
      c.progress = *got;
      const fake::Socket* s = kernel_->socket_at(o->handle);
      const bool more_may_come = s != nullptr && !s->peer_finished && !s->read_shut;
      if (!wait_all || *got == 0 || *got == wanted || !more_may_come) break;
      return Outcome::parked;
    }
    if (got) {
      c.progress += *got;
      if (*got == 0 || !wait_all || c.progress == wanted) break;
      continue;
    }
    if (got.error() == Errc::would_block && !nonblocking && (c.progress == 0 || wait_all))
      return Outcome::parked;
    if (c.progress == 0) c.fail(got.error());
    break;
  }
  c.out.resize(c.result == -1 ? 0 : c.progress);
  if (c.result != -1) c.result = static_cast<std::int64_t>(c.progress);
  return Outcome::done;
}

KernelServer::Outcome KernelServer::do_shutdown(Process& p, Call& c) {
  auto o = socket_at(p, c.request.fd, c);
  if (!o) return Outcome::done;
  Direction d = Direction::both;
  switch (c.request.arg[0]) {
    case abi::kShutRd:
      d = Direction::read;
      break;
    case abi::kShutWr:
      d = Direction::write;
      break;
    case abi::kShutRdWr:
      break;
    default:
      c.fail(EINVAL);
      return Outcome::done;
  }
  if (const Status s = kernel_->shutdown(o->handle, d); !s.ok()) c.fail(s.error());
  return Outcome::done;
}

KernelServer::Outcome KernelServer::do_close(Process& p, Call& c) {
  const auto it = p.fds.find(c.request.fd);
  if (it == p.fds.end()) {
    c.fail(EBADF);
    return Outcome::done;
  }
  std::shared_ptr<Object> o = std::move(it->second);
  p.fds.erase(it);
  release(std::move(o));
  return Outcome::done;
}

KernelServer::Outcome KernelServer::do_dup(Process& p, Call& c) {
  auto o = object_at(p, c.request.fd);
  if (!o) {
    c.fail(EBADF);
    return Outcome::done;
  }
  const int to = static_cast<int>(c.request.arg[0]);
  if (auto old = object_at(p, to); old && old != o) {
    p.fds.erase(to);  // dup2 onto an open descriptor closes it first
    release(std::move(old));
  }
  p.fds[to] = std::move(o);
  return Outcome::done;
}

KernelServer::Outcome KernelServer::do_set_option(Process& p, Call& c) {
  auto o = socket_at(p, c.request.fd, c);
  if (!o) return Outcome::done;
  const std::int64_t v = c.request.arg[1];
  Status s;
  switch (static_cast<Option>(c.request.arg[0])) {
    case Option::send_buffer:
      s = kernel_->set_send_buffer(o->handle,
                                   static_cast<std::size_t>(std::max<std::int64_t>(v, 0)));
      break;
    case Option::receive_buffer:
      s = kernel_->set_receive_buffer(o->handle,
                                      static_cast<std::size_t>(std::max<std::int64_t>(v, 0)));
      break;
    case Option::linger:
      o->reset_on_close = v != 0 && c.request.arg[2] == 0;
      o->linger = (v != 0 ? 1 : 0) | (c.request.arg[2] << 1);
      break;
    case Option::receive_timeout:
      o->receive_timeout_ns = std::max<std::int64_t>(v, 0);
      break;
    case Option::send_timeout:
      o->send_timeout_ns = std::max<std::int64_t>(v, 0);
      break;
    case Option::other:
      o->other_options[v] = c.request.arg[2];
      break;
    case Option::error:
    case Option::type:
      c.fail(ENOPROTOOPT);
      break;
  }
  if (!s.ok()) c.fail(s.error());
  return Outcome::done;
}

KernelServer::Outcome KernelServer::do_get_option(Process& p, Call& c) {
  auto o = socket_at(p, c.request.fd, c);
  if (!o) return Outcome::done;
  fake::Socket* s = kernel_->socket_at(o->handle);
  switch (static_cast<Option>(c.request.arg[0])) {
    case Option::error: {
      const std::error_code e = value_or(kernel_->pending_error(o->handle), std::error_code{});
      c.result = e ? errno_of(e) : 0;
      break;
    }
    case Option::send_buffer:
      c.result = static_cast<std::int64_t>(s->send_buffer_size);
      break;
    case Option::receive_buffer:
      c.result = static_cast<std::int64_t>(s->receive_buffer_size);
      break;
    case Option::linger:
      c.result = o->linger;
      break;
    case Option::receive_timeout:
      c.result = o->receive_timeout_ns;
      break;
    case Option::send_timeout:
      c.result = o->send_timeout_ns;
      break;
    case Option::type:
      c.result = 1;
      break;  // SOCK_STREAM
    case Option::other: {
      const auto it = o->other_options.find(c.request.arg[1]);
      c.result = it == o->other_options.end() ? 0 : it->second;
      break;
    }
  }
  return Outcome::done;
}

KernelServer::Outcome KernelServer::do_address(Process& p, Call& c, bool peer) {
  auto o = socket_at(p, c.request.fd, c);
  if (!o) return Outcome::done;
  Result<Endpoint> e =
      peer ? kernel_->peer_endpoint(o->handle) : kernel_->local_endpoint(o->handle);
  if (!e) {
    c.fail(e.error());
    return Outcome::done;
  }
  // A socket that is bound but neither listening nor connected shows bind()'s address.
  const Endpoint shown = !peer && e->port == 0 ? o->bound : *e;
  c.put(Address{shown.address, shown.port});
  return Outcome::done;
}

KernelServer::Outcome KernelServer::do_nonblocking(Process& p, Call& c, bool set) {
  auto o = object_at(p, c.request.fd);
  if (!o) {
    c.fail(EBADF);
    return Outcome::done;
  }
  if (set)
    o->nonblocking = c.request.arg[0] != 0;
  else
    c.result = o->nonblocking ? 1 : 0;
  return Outcome::done;
}

KernelServer::Outcome KernelServer::do_bytes_readable(Process& p, Call& c) {
  auto o = stream_at(p, c.request.fd, c);
  if (!o) return Outcome::done;
  if (o->kind == Object::Kind::eventfd) {
    c.fail(ENOTTY);  // eventfd has no ioctls
    return Outcome::done;
  }
  if (o->pipe) {  // either end: the bytes in the pipe, delivered to the reader's side or not
    std::size_t bytes = 0;
    if (const fake::Socket* r = kernel_->socket_at(o->pipe->read_end)) bytes += r->received.size();
    if (const fake::Socket* w = kernel_->socket_at(o->pipe->write_end))
      bytes += w->unacknowledged.size();
    c.result = static_cast<std::int64_t>(bytes);
    return Outcome::done;
  }
  const fake::SocketFacts f = kernel_->socket_at(o->handle)->facts();
  if (f.listening)
    c.fail(EINVAL);
  else
    c.result = static_cast<std::int64_t>(f.bytes_to_read);
  return Outcome::done;
}

// poll(2)'s revents for an object, limited to the asked bits, plus HUP and ERR, which poll reports
// whether asked or not. A socket's are what tcp_poll() says; a pipe end's what pipe_poll() says
// (the read end: IN with bytes, HUP once no writer is left; the write end: OUT with room, ERR once
// no reader is left); an eventfd's what eventfd_poll() says (IN while the count is not zero).
std::uint32_t KernelServer::poll_bits(const Object& o, std::uint32_t asked) {
  if (o.kind == Object::Kind::epoll) return 0;  // an epoll instance in poll: docs/exec.md
  fake::Socket* s = kernel_->socket_at(o.handle);
  if (s == nullptr) return abi::kPollNval;
  fake::rules::LinuxPollBits bits;
  switch (o.kind) {
    case Object::Kind::pipe_read:
      bits.in = !s->received.empty();
      bits.hup = !o.pipe->writer;
      break;
    case Object::Kind::pipe_write:
      bits.out = s->has_send_space();
      bits.err = !o.pipe->reader;
      break;
    case Object::Kind::eventfd:
      bits.in = o.count > 0;
      bits.out = o.count < kEventfdMost;
      break;
    default:
      bits = fake::rules::linux_poll(s->facts());
  }
  std::uint32_t r = 0;
  if (bits.in) r |= asked & (abi::kPollIn | abi::kPollRdNorm);
  if (bits.out) r |= asked & (abi::kPollOut | abi::kPollWrNorm);
  if (bits.rdhup) r |= asked & abi::kPollRdHup;
  if (bits.hup) r |= abi::kPollHup;
  if (bits.err) r |= abi::kPollErr;
  return r;
}

KernelServer::Outcome KernelServer::do_poll(Process& p, Call& c, bool first) {
  const std::size_t n = c.payload.size() / sizeof(PollEntry);
  std::vector<PollEntry> entries(n);
  if (n > 0) std::memcpy(entries.data(), c.payload.data(), n * sizeof(PollEntry));
  std::int64_t ready = 0;
  for (PollEntry& e : entries) {
    e.revents = 0;
    if (e.fd < 0) continue;
    const auto o = object_at(p, e.fd);
    e.revents = static_cast<std::uint16_t>(o ? poll_bits(*o, e.events) : abi::kPollNval);
    if (e.revents != 0) ++ready;
  }
  if (ready == 0 && c.request.arg[0] != 0) {
    if (first) c.deadline = deadline_after(now(), c.request.arg[0]);
    return Outcome::parked;
  }
  if (ready == 0 && first) kernel_->count_empty_poll();
  c.result = ready;
  c.out.resize(n * sizeof(PollEntry));
  if (n > 0) std::memcpy(c.out.data(), entries.data(), c.out.size());
  return Outcome::done;
}

KernelServer::Outcome KernelServer::do_select(Process& p, Call& c, bool first) {
  if (c.payload.size() != sizeof(SelectSets)) {
    c.fail(EINVAL);
    return Outcome::done;
  }
  SelectSets asked;
  std::memcpy(&asked, c.payload.data(), sizeof asked);
  SelectSets found{};
  const int nfds = static_cast<int>(std::clamp<std::int64_t>(c.request.arg[1], 0, kSelectSetSize));
  const bool win32 = config_.select_rule == fake::ReadinessRule::win32_select;
  const auto bit = [](const std::uint64_t* set, int fd) { return (set[fd / 64] >> (fd % 64)) & 1; };
  const auto mark = [](std::uint64_t* set, int fd) {
    set[fd / 64] |= std::uint64_t{1} << (fd % 64);
  };
  std::int64_t count = 0;
  std::size_t sockets = 0;
  for (int fd = 0; fd < nfds; ++fd) {
    const bool r = bit(asked.read, fd), w = bit(asked.write, fd), x = bit(asked.except, fd);
    if (!r && !w && !x) continue;
    ++sockets;
    const auto o = object_at(p, fd);
    fake::Socket* s = o && o->is_stream() ? kernel_->socket_at(o->handle) : nullptr;
    if (s == nullptr) {
      c.fail(EBADF);
      return Outcome::done;
    }
    if (o->kind != Object::Kind::socket) {
      if (win32) {
        c.fail(ENOTSOCK);  // Winsock's select takes sockets only (WSAENOTSOCK)
        return Outcome::done;
      }
      // Linux's select on a pipe or an eventfd: its poll bits, as select's POLLIN_SET (IN, HUP,
      // ERR) and POLLOUT_SET (OUT, ERR).
      const std::uint32_t bits = poll_bits(*o, abi::kPollIn | abi::kPollOut);
      if (r && (bits & (abi::kPollIn | abi::kPollHup | abi::kPollErr)) != 0)
        mark(found.read, fd), ++count;
      if (w && (bits & (abi::kPollOut | abi::kPollErr)) != 0) mark(found.write, fd), ++count;
      continue;
    }
    Interest interest = Interest::none;
    if (r) interest |= Interest::read;
    if (w) interest |= Interest::write;
    if (interest == Interest::none) interest = Interest::read_write;
    const fake::SocketFacts facts = s->facts();
    const Readiness ready = fake::with_rule(config_.select_rule, [&](auto rule) {
      return fake::readiness_of<decltype(rule)::value>(facts, interest);
    });
    if (r && has(ready, Readiness::readable)) mark(found.read, fd), ++count;
    if (w && has(ready, Readiness::writable)) mark(found.write, fd), ++count;
    if (x && has(ready, Readiness::error)) mark(found.except, fd), ++count;
  }
  // Winsock: at most FD_SETSIZE sockets, and three empty sets are an error (WSAEINVAL).
  if (win32 && (sockets == 0 || sockets > config_.kernel.win32_select_limit)) {
    c.fail(EINVAL);
    return Outcome::done;
  }
  if (count == 0 && c.request.arg[0] != 0) {
    if (first) c.deadline = deadline_after(now(), c.request.arg[0]);
    return Outcome::parked;
  }
  if (count == 0 && first) kernel_->count_empty_poll();
  c.result = count;
  c.put(found);
  c.put(std::int64_t{nanoseconds(now() - c.started)});  // select(2) writes back what remains
  return Outcome::done;
}

KernelServer::Outcome KernelServer::do_epoll_create(Process& p, Call& c) {
  auto o = std::make_shared<Object>();
  o->kind = Object::Kind::epoll;
  o->epoll = fake::make_ready_list_backend(kernel_);
  p.fds[c.request.fd] = std::move(o);
  return Outcome::done;
}

KernelServer::Outcome KernelServer::do_epoll_ctl(Process& p, Call& c) {
  auto ep = object_at(p, c.request.fd);
  if (!ep) {
    c.fail(EBADF);
    return Outcome::done;
  }
  if (ep->kind != Object::Kind::epoll) {
    c.fail(EINVAL);
    return Outcome::done;
  }
  const auto target = object_at(p, static_cast<int>(c.request.arg[1]));
  if (!target) {
    c.fail(EBADF);
    return Outcome::done;
  }
  if (target->kind == Object::Kind::epoll) {
    c.fail(EINVAL);  // an epoll inside an epoll is not modelled: docs/exec.md
    return Outcome::done;
  }
  const auto events = static_cast<std::uint32_t>(c.request.arg[2]);
  Interest interest = Interest::none;
  if ((events & (abi::kPollIn | abi::kPollRdHup | abi::kPollPri)) != 0) interest |= Interest::read;
  if ((events & abi::kPollOut) != 0) interest |= Interest::write;
  // Asking for neither still reports HUP and ERR: watch reading, report only what was asked.
  if (interest == Interest::none) interest = Interest::read;
  Trigger trigger = Trigger::level;
  if ((events & abi::kEpollEt) != 0) trigger = trigger | Trigger::edge;
  if ((events & abi::kEpollOneShot) != 0) trigger = trigger | Trigger::oneshot;
  const auto token = static_cast<std::uint64_t>(c.request.arg[3]);
  Status s;
  switch (c.request.arg[0]) {
    case abi::kEpollCtlAdd:
      s = ep->epoll->add(target->handle, interest, token, trigger);
      break;
    case abi::kEpollCtlMod:
      s = ep->epoll->modify(target->handle, interest, token, trigger);
      break;
    case abi::kEpollCtlDel:
      s = ep->epoll->remove(target->handle);
      break;
    default:
      c.fail(EINVAL);
      return Outcome::done;
  }
  if (!s.ok())
    c.fail(s.error());
  else if (c.request.arg[0] != abi::kEpollCtlDel)
    ep->asked[target->handle] = Object::Registration{events, target};
  return Outcome::done;
}

KernelServer::Outcome KernelServer::do_epoll_wait(Process& p, Call& c, bool first) {
  auto ep = object_at(p, c.request.fd);
  if (!ep || ep->kind != Object::Kind::epoll) {
    c.fail(ep ? EINVAL : EBADF);
    return Outcome::done;
  }
  const auto most = static_cast<std::size_t>(
      std::clamp<std::int64_t>(c.request.arg[1], 0, static_cast<std::int64_t>(kMaxEpollEvents)));
  if (most == 0) {
    c.fail(EINVAL);
    return Outcome::done;
  }
  std::vector<Event> events(most);
  Result<std::size_t> n = ep->epoll->wait(events, Duration::zero());
  if (!n) {
    c.fail(n.error());
    return Outcome::done;
  }
  std::int64_t reported = 0;
  for (std::size_t i = 0; i < *n; ++i) {
    const auto asked = ep->asked.find(events[i].handle);
    if (asked == ep->asked.end()) continue;
    const std::shared_ptr<Object> target = asked->second.object.lock();
    const std::uint32_t bits = target ? poll_bits(*target, asked->second.events) : 0;
    if (bits == 0) continue;
    c.put(EpollEvent{bits, 0, events[i].token});
    ++reported;
  }
  if (reported == 0 && c.request.arg[0] != 0) {
    c.out.clear();
    if (first) c.deadline = deadline_after(now(), c.request.arg[0]);
    return Outcome::parked;
  }
  if (reported == 0 && first) kernel_->count_empty_poll();
  c.result = reported;
  return Outcome::done;
}

// waitpid in a process that forked: it waits, in virtual time, for a forked child to end. Children
// started otherwise (posix_spawn, system) are the real call's.
KernelServer::Outcome KernelServer::do_wait_child(Process& p, Call& c) {
  const std::int64_t wanted = c.request.arg[0];
  bool any = false;
  for (auto& [id, child] : processes_) {
    if (child->parent != p.id || child->waited) continue;
    if (wanted > 0 && child->pid != wanted) continue;
    any = true;
    if (!child->live) {
      child->waited = true;
      c.result = child->pid;
      return Outcome::done;
    }
  }
  if (!any) {
    c.fail(ECHILD);
    return Outcome::done;
  }
  if (c.request.arg[1] != 0) return Outcome::done;  // WNOHANG: 0, none has ended yet
  return Outcome::parked;
}

KernelServer::Outcome KernelServer::do_sleep(Process&, Call& c, bool first) {
  if (first) {
    const std::int64_t ns = std::max<std::int64_t>(c.request.arg[0], 0);
    c.deadline = c.request.arg[1] != 0
                     ? deadline_after(now(), ns)
                     : std::min(Time{std::chrono::nanoseconds(ns)}, fake::kEndOfVirtualTime);
  }
  return now() >= c.deadline ? Outcome::done : Outcome::parked;
}

// --- Reports ----------------------------------------------------------------------------------

std::string KernelServer::deadlock_report() const {
  std::string report;
  for (ProcessId id : parked_) {
    const Process& p = *processes_.at(id);
    const Request& r = p.call->request;
    // A deadlock report names untimed waits only; a --timeout report names timed ones too.
    const std::string timeout =
        p.call->deadline == Time::max()
            ? std::string("no timeout")
            : fmt::format("timeout at {} ns", nanoseconds(p.call->deadline));
    std::string what;
    switch (r.op) {
      case Op::poll:
        what = fmt::format("poll of {} descriptors, {}", p.call->payload.size() / sizeof(PollEntry),
                           timeout);
        break;
      case Op::select:
        what = fmt::format("select with nfds {}, {}", r.arg[1], timeout);
        break;
      case Op::epoll_wait:
        what = fmt::format("epoll_wait on fd {}, {}", r.fd, timeout);
        break;
      case Op::recv:
        what = fmt::format("recv on fd {}, blocking", r.fd);
        break;
      case Op::send:
        what = fmt::format("send on fd {}, blocking ({} of {} bytes sent)", r.fd, p.call->progress,
                           p.call->payload.size());
        break;
      case Op::accept:
        what = fmt::format("accept on fd {}, blocking", r.fd);
        break;
      case Op::connect:
        what = fmt::format("connect on fd {}, blocking", r.fd);
        break;
      case Op::wait_child:
        what = r.arg[0] > 0 ? fmt::format("waitpid for pid {}", r.arg[0])
                            : std::string("waitpid for any child");
        break;
      default:
        what = fmt::format("{} on fd {}", op_name(r.op), r.fd);
        break;
    }
    report += fmt::format("  p{} (pid {}, {}): {}, waiting since {} ns\n", id, p.pid, p.name, what,
                          nanoseconds(p.parked_since));
  }
  return report;
}

// A real pid as the trace names it: the logical process that has it, or the number itself
// (0, -1: none, any).
std::string KernelServer::logical_name(std::int64_t pid) const {
  for (const auto& [id, p] : processes_)
    if (pid > 0 && p->pid == pid) return fmt::format("p{}", id);
  return std::to_string(pid);
}

void KernelServer::trace_call(const Process& p, const Call& c) {
  if (trace_ == nullptr) return;
  const Request& r = c.request;
  if (r.op == Op::hello) {  // its argument is the real pid, which differs from run to run
    *trace_ << fmt::format("{} p{} hello\n", nanoseconds(now()), p.id);
    return;
  }
  if (r.op == Op::wait_child) {  // real pids differ from run to run: name the processes
    *trace_ << fmt::format(
        "{} p{} waitpid for={} nohang={} = {}\n", nanoseconds(now()), p.id, logical_name(r.arg[0]),
        r.arg[1],
        c.result == -1 ? std::string("-1 ") + errno_name(c.error) : logical_name(c.result));
    return;
  }
  std::string line = fmt::format("{} p{} {} fd={} args={},{},{},{}", nanoseconds(now()), p.id,
                                 op_name(r.op), r.fd, r.arg[0], r.arg[1], r.arg[2], r.arg[3]);
  if (!c.payload.empty())
    line += fmt::format(" in={}#{:016x}", c.payload.size(), hash_of(c.payload));
  if (c.result == -1)
    line += fmt::format(" = -1 {}", errno_name(c.error));
  else
    line += fmt::format(" = {}", c.result);
  if (!c.out.empty()) line += fmt::format(" out={}#{:016x}", c.out.size(), hash_of(c.out));
  *trace_ << line << '\n';
}

}  // namespace muxlab::exec

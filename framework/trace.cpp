#include "muxlab/trace.hpp"

#include <algorithm>
#include <map>
#include <unordered_map>

#include <fmt/format.h>

#include "muxlab/format.hpp"

namespace muxlab {

// --- exporters ------------------------------------------------------------------------------

namespace {

std::string handle_text(Handle h) {
  return h == invalid_handle ? "-" : fmt::format("h{}", h);
}

// "1048576 bytes" → "1048576"; a wait's "timeout 99.98 ms" → "timeout", whatever time is left.
std::string_view first_word(std::string_view s) {
  return s.substr(0, s.find(' '));
}

double ms(Duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

std::string json_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20)
          out += fmt::format("\\u{:04x}", static_cast<unsigned char>(c));
        else
          out += c;
    }
  }
  return out;
}

}  // namespace

std::string Trace::to_text(std::size_t first, std::size_t last) const {
  // A level-triggered wait loop repeats the same wait-and-report pair many times: print it once
  // and say how often it came again.
  auto same = [&](std::size_t a, std::size_t b) {
    const TraceRecord& x = records_[a];
    const TraceRecord& y = records_[b];
    return x.call == y.call && x.handle == y.handle && x.result == y.result &&
           x.program == y.program && first_word(x.arguments) == first_word(y.arguments);
  };
  std::string out;
  last = std::min(last, records_.size());
  for (std::size_t i = first; i < last;) {
    const TraceRecord& r = records_[i];
    out +=
        fmt::format("{:10.3f} ms  {:<12} {:<14} {:<5} {}{}-> {}\n", ms(r.time), r.program, r.call,
                    handle_text(r.handle), r.arguments, r.arguments.empty() ? "" : " ", r.result);
    ++i;
    for (std::size_t period : {std::size_t{1}, std::size_t{2}}) {
      if (i < first + period) continue;
      std::size_t repeats = 0;
      while (i + period <= last) {
        bool cycle = true;
        for (std::size_t k = 0; k < period && cycle; ++k)
          cycle = same(i + k, i + k - period);
        if (!cycle) break;
        i += period;
        ++repeats;
      }
      if (repeats > 0) {
        out += fmt::format("{:>16}  ... the {} above again {} more time{}\n", "",
                           period == 1 ? "line" : "2 lines", repeats, repeats == 1 ? "" : "s");
        break;
      }
    }
  }
  return out;
}

std::string Trace::to_chrome_json() const {
  std::map<std::string, int> threads;  // one lane per program
  for (const TraceRecord& r : records_)
    threads.emplace(r.program, static_cast<int>(threads.size()) + 1);
  std::string out = "{\"traceEvents\":[\n";
  bool first = true;
  auto comma = [&] {
    if (!first) out += ",\n";
    first = false;
  };
  for (const auto& [name, tid] : threads) {
    comma();
    out +=
        fmt::format(R"({{"name":"thread_name","ph":"M","pid":1,"tid":{},"args":{{"name":"{}"}}}})",
                    tid, json_escape(name));
  }
  for (const TraceRecord& r : records_) {
    comma();
    const double ts = std::chrono::duration<double, std::micro>(r.time).count();
    const double dur = std::chrono::duration<double, std::micro>(r.duration).count();
    out += fmt::format(
        R"({{"name":"{}","cat":"{}","ph":"X","ts":{:.3f},"dur":{:.3f},"pid":1,"tid":{},)"
        R"("args":{{"handle":"{}","arguments":"{}","result":"{}"}}}})",
        json_escape(r.call), r.call == "ready" || r.call == "wait" ? "readiness" : "socket", ts,
        dur, threads[r.program], handle_text(r.handle), json_escape(r.arguments),
        json_escape(r.result));
  }
  out += "\n]}\n";
  return out;
}

namespace {
// Every field of a record, nothing rounded: what first_difference shows.
std::string exact_line(const TraceRecord& r) {
  return fmt::format("{} ns +{} ns {} {} h{} {} -> {} [{}]", r.time.count(), r.duration.count(),
                     r.program, r.call, r.handle, r.arguments, r.result, r.result_class);
}
}  // namespace

std::string first_difference(const Trace& first, const Trace& second, std::string_view first_name,
                             std::string_view second_name) {
  constexpr std::size_t kContext = 3;
  const std::vector<TraceRecord>& a = first.records();
  const std::vector<TraceRecord>& b = second.records();
  std::size_t i = 0;
  while (i < a.size() && i < b.size() && a[i] == b[i])
    ++i;
  if (i == a.size() && i == b.size()) return "";
  const std::size_t width = std::max(first_name.size(), second_name.size()) + 1;
  std::string out =
      fmt::format("first difference at record {} of {} and {}:\n", i + 1, a.size(), b.size());
  for (std::size_t k = i > kContext ? i - kContext : 0; k < i; ++k)
    out += fmt::format("  {:<{}} {}\n", "both:", width, exact_line(a[k]));
  out += fmt::format("  {:<{}} {}\n", fmt::format("{}:", first_name), width,
                     i < a.size() ? exact_line(a[i]) : "(end of trace)");
  out += fmt::format("  {:<{}} {}\n", fmt::format("{}:", second_name), width,
                     i < b.size() ? exact_line(b[i]) : "(end of trace)");
  return out;
}

std::vector<Handle> Trace::open_handles() const {
  // By the order each was opened; a close finds its handle through `opened_at` in log time,
  // so that a run that opens and closes tens of thousands of handles is not quadratic (20000
  // under the fuzzer's sanitizers took 17 s with an erase from a vector per close).
  std::map<std::size_t, Handle> open;
  std::unordered_map<Handle, std::size_t> opened_at;
  for (std::size_t i = 0; i < records_.size(); ++i) {
    const TraceRecord& r = records_[i];
    if (r.result_class != "ok") continue;
    if (r.call == "socket" || r.call == "listen" || r.call == "accept") {
      const auto h = static_cast<Handle>(std::stoll(r.result));
      if (auto it = opened_at.find(h); it != opened_at.end()) open.erase(it->second);
      open[i] = h;
      opened_at[h] = i;
    }
    if (r.call == "close" || r.call == "abort") {
      if (auto it = opened_at.find(r.handle); it != opened_at.end()) {
        open.erase(it->second);
        opened_at.erase(it);
      }
    }
  }
  std::vector<Handle> handles;
  handles.reserve(open.size());
  for (const auto& [order, h] : open)
    handles.push_back(h);
  return handles;
}

std::string Trace::normalized() const {
  std::map<Handle, std::string> names;
  int next = 1;
  auto name = [&](Handle h) -> std::string {
    if (h == invalid_handle) return "-";
    auto [it, fresh] = names.emplace(h, "");
    if (fresh) it->second = fmt::format("h{}", next++);
    return it->second;
  };
  std::string out;
  std::string previous_wait;  // a wait and its reports, to fold repeats
  std::string current_wait;
  auto flush_wait = [&] {
    if (current_wait.empty()) return;
    // A wait that reported nothing says only that time passed, which differs between kernels
    // (a real refusal arrives at once, Windows' after 2 s of SYN retries): leave it out.
    if (current_wait == "wait\n") {
      current_wait.clear();
      return;
    }
    if (current_wait != previous_wait) out += current_wait;
    previous_wait = std::move(current_wait);
    current_wait.clear();
  };
  for (const TraceRecord& r : records_) {
    if (r.call == "wait") {
      flush_wait();
      current_wait = "wait\n";
      continue;
    }
    if (r.call == "ready") {
      current_wait += fmt::format("  ready {} {}\n", name(r.handle), r.result_class);
      continue;
    }
    flush_wait();
    previous_wait.clear();
    std::string line = fmt::format("{} {} -> {}", r.call, name(r.handle), r.result_class);
    // Calls that create handles name the new one, so later lines can refer to it.
    if ((r.call == "socket" || r.call == "listen" || r.call == "accept") && r.result_class == "ok")
      line += " " + name(static_cast<Handle>(std::stoll(r.result)));
    out += line + "\n";
    if ((r.call == "close" || r.call == "abort") && r.result_class == "ok") names.erase(r.handle);
  }
  flush_wait();
  return out;
}

// --- the traced environment -----------------------------------------------------------------

namespace {

template <class T>
std::string result_text(const Result<T>& r) {
  if (!r) return error_name(r.code());
  if constexpr (std::is_same_v<T, std::error_code>)
    return *r ? error_name(*r) : "ok";
  else if constexpr (std::is_same_v<T, Endpoint>)
    return to_string(*r);
  else
    return fmt::format("{}", *r);
}

inline std::string result_text(const Status& s) {
  return s ? "ok" : error_name(s.code());
}

class Recorder {
 public:
  Recorder(std::shared_ptr<Trace> trace, Clock& clock) : trace_(std::move(trace)), clock_(clock) {}
  Time now() const { return clock_.now(); }
  bool on() const { return trace_->enabled(); }
  void add(Time start, std::string call, Handle h, std::string arguments, std::string result,
           std::string result_class) {
    trace_->record({start, clock_.now() - start, trace_->current_program(), std::move(call), h,
                    std::move(arguments), std::move(result), std::move(result_class)});
  }

 private:
  std::shared_ptr<Trace> trace_;
  Clock& clock_;
};

class TracedNet final : public Net {
 public:
  TracedNet(Net& inner, Recorder& rec) : inner_(inner), rec_(rec) {}

  Result<Handle> listen(Endpoint at, int backlog) override {
    return simple("listen", invalid_handle, fmt::format("{} backlog {}", at, backlog),
                  [&] { return inner_.listen(at, backlog); });
  }
  Result<Handle> socket() override {
    return simple("socket", invalid_handle, "", [&] { return inner_.socket(); });
  }
  Status connect(Handle h, Endpoint to) override {
    return simple("connect", h, to_string(to), [&] { return inner_.connect(h, to); });
  }
  Result<Handle> accept(Handle l) override {
    return simple("accept", l, "", [&] { return inner_.accept(l); });
  }
  Result<std::size_t> send(Handle h, std::span<const std::byte> data) override {
    const Time t = rec_.now();
    Result<std::size_t> r = inner_.send(h, data);
    if (rec_.on()) {
      const std::string cls = !r ? error_name(r.code()) : *r < data.size() ? "partial" : "ok";
      rec_.add(t, "send", h, fmt::format("{} bytes", data.size()), result_text(r), cls);
    }
    return r;
  }
  Result<std::size_t> recv(Handle h, std::span<std::byte> into) override {
    const Time t = rec_.now();
    Result<std::size_t> r = inner_.recv(h, into);
    if (rec_.on()) {
      const std::string cls = !r ? error_name(r.code()) : *r == 0 ? "eof" : "data";
      rec_.add(t, "recv", h, fmt::format("{} bytes", into.size()), result_text(r), cls);
    }
    return r;
  }
  Status shutdown(Handle h, Direction d) override {
    const char* how = d == Direction::read ? "read" : d == Direction::write ? "write" : "both";
    return simple("shutdown", h, how, [&] { return inner_.shutdown(h, d); });
  }
  Status close(Handle h) override {
    return simple("close", h, "", [&] { return inner_.close(h); });
  }
  Status abort(Handle h) override {
    return simple("abort", h, "", [&] { return inner_.abort(h); });
  }
  Result<std::error_code> pending_error(Handle h) override {
    const Time t = rec_.now();
    Result<std::error_code> r = inner_.pending_error(h);
    if (rec_.on()) rec_.add(t, "pending_error", h, "", result_text(r), result_text(r));
    return r;
  }
  Status set_send_buffer(Handle h, std::size_t bytes) override {
    return simple("set_send_buffer", h, fmt::format("{} bytes", bytes),
                  [&] { return inner_.set_send_buffer(h, bytes); });
  }
  Status set_receive_buffer(Handle h, std::size_t bytes) override {
    return simple("set_receive_buffer", h, fmt::format("{} bytes", bytes),
                  [&] { return inner_.set_receive_buffer(h, bytes); });
  }
  Result<std::size_t> send_buffer(Handle h) override {
    return simple("send_buffer", h, "", [&] { return inner_.send_buffer(h); });
  }
  Result<Endpoint> local_endpoint(Handle h) override {
    return simple("local_endpoint", h, "", [&] { return inner_.local_endpoint(h); });
  }

 private:
  // A call whose result class is just ok or the error's name.
  template <class Call>
  auto simple(const char* call, Handle h, std::string arguments, Call&& make) -> decltype(make()) {
    const Time t = rec_.now();
    auto r = make();
    if (rec_.on())
      rec_.add(t, call, h, std::move(arguments), result_text(r), r ? "ok" : error_name(r.code()));
    return r;
  }

  Net& inner_;
  Recorder& rec_;
};

class TracedBackend final : public Backend {
 public:
  TracedBackend(std::unique_ptr<Backend> inner, Recorder& rec)
      : inner_(std::move(inner)), rec_(rec) {}

  const Capabilities& capabilities() const override { return inner_->capabilities(); }

  Status add(Handle h, Interest i, std::uint64_t token, Trigger trigger) override {
    return registration("add", h, i, token, trigger,
                        [&] { return inner_->add(h, i, token, trigger); });
  }
  Status modify(Handle h, Interest i, std::uint64_t token, Trigger trigger) override {
    return registration("modify", h, i, token, trigger,
                        [&] { return inner_->modify(h, i, token, trigger); });
  }
  Status remove(Handle h) override {
    const Time t = rec_.now();
    Status s = inner_->remove(h);
    if (rec_.on()) rec_.add(t, "remove", h, "", result_text(s), result_text(s));
    return s;
  }
  Result<std::size_t> wait(std::span<Event> out, Duration timeout) override {
    const Time t = rec_.now();
    Result<std::size_t> r = inner_->wait(out, timeout);
    if (!rec_.on()) return r;
    const std::string arguments =
        timeout == infinite ? "timeout infinite" : fmt::format("timeout {} ms", ms(timeout));
    rec_.add(t, "wait", invalid_handle, arguments,
             r ? fmt::format("{} events", *r) : error_name(r.code()),
             r ? "ok" : error_name(r.code()));
    if (r) {
      for (std::size_t i = 0; i < *r; ++i)
        rec_.add(rec_.now(), "ready", out[i].handle, fmt::format("token {}", out[i].token),
                 to_string(out[i].readiness), to_string(out[i].readiness));
    }
    return r;
  }

 private:
  template <class Call>
  Status registration(const char* call, Handle h, Interest i, std::uint64_t token, Trigger trigger,
                      Call&& make) {
    const Time t = rec_.now();
    Status s = make();
    if (rec_.on())
      rec_.add(t, call, h, fmt::format("{} {} token {}", to_string(i), to_string(trigger), token),
               result_text(s), result_text(s));
    return s;
  }

  std::unique_ptr<Backend> inner_;
  Recorder& rec_;
};

class TracedEnvironment final : public Environment {
 public:
  TracedEnvironment(std::unique_ptr<Environment> inner, std::shared_ptr<Trace> trace)
      : inner_(std::move(inner)),
        recorder_(std::move(trace), inner_->clock()),
        net_(inner_->net(), recorder_) {}

  std::string_view name() const override { return inner_->name(); }
  std::string_view mechanism() const override { return inner_->mechanism(); }
  bool is_fake() const override { return inner_->is_fake(); }
  bool under_wine() const override { return inner_->under_wine(); }
  fake::KernelControls* fake_kernel() override { return inner_->fake_kernel(); }
  Net& net() override { return net_; }
  Clock& clock() override { return inner_->clock(); }
  Result<std::unique_ptr<Backend>> make_backend() override {
    auto backend = inner_->make_backend();
    if (!backend) return backend;
    return std::unique_ptr<Backend>(
        std::make_unique<TracedBackend>(std::move(backend).value(), recorder_));
  }

 private:
  std::unique_ptr<Environment> inner_;
  Recorder recorder_;
  TracedNet net_;
};

}  // namespace

std::unique_ptr<Environment> make_traced_environment(std::unique_ptr<Environment> inner,
                                                     std::shared_ptr<Trace> trace) {
  return std::make_unique<TracedEnvironment>(std::move(inner), std::move(trace));
}

}  // namespace muxlab

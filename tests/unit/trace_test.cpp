#include "muxlab/trace.hpp"

#include <gtest/gtest.h>

namespace muxlab {
namespace {

TraceRecord rec(std::string call, Handle h, std::string result, std::string cls) {
  TraceRecord r;
  r.call = std::move(call);
  r.handle = h;
  r.result = std::move(result);
  r.result_class = std::move(cls);
  r.program = "main";
  return r;
}

TEST(Trace, NormalizedRenamesHandlesAndFoldsRepeatedWaits) {
  Trace t;
  t.record(rec("socket", invalid_handle, "17", "ok"));
  t.record(rec("connect", 17, "in_progress", "in_progress"));
  t.record(rec("add", 17, "ok", "ok"));
  for (int i = 0; i < 3; ++i)
    t.record(rec("wait", invalid_handle, "0 events", "ok"));
  t.record(rec("wait", invalid_handle, "1 events", "ok"));
  t.record(rec("ready", 17, "writable", "writable"));
  t.record(rec("wait", invalid_handle, "1 events", "ok"));
  t.record(rec("ready", 17, "writable", "writable"));
  t.record(rec("send", 17, "6144", "partial"));
  t.record(rec("close", 17, "ok", "ok"));
  t.record(rec("socket", invalid_handle, "17", "ok"));  // the number again, a new socket
  EXPECT_EQ(t.normalized(),
            "socket - -> ok h1\n"
            "connect h1 -> in_progress\n"
            "add h1 -> ok\n"
            "wait\n"
            "  ready h1 writable\n"
            "send h1 -> partial\n"
            "close h1 -> ok\n"
            "socket - -> ok h2\n");
}

TEST(Trace, FirstDifferenceSeesEveryFieldToTheNanosecond) {
  Trace a, b;
  for (Trace* t : {&a, &b}) {
    t->record(rec("socket", 3, "3", "ok"));
    t->record(rec("send", 3, "5", "ok"));
  }
  EXPECT_EQ(first_difference(a, b), "") << "equal traces";
  b.record(rec("close", 3, "ok", "ok"));
  EXPECT_NE(first_difference(a, b).find("first difference at record 3 of 2 and 3"),
            std::string::npos);
  EXPECT_NE(first_difference(a, b).find("first run:  (end of trace)"), std::string::npos)
      << first_difference(a, b);

  TraceRecord later = rec("close", 3, "ok", "ok");
  later.time = Time(std::chrono::nanoseconds(1));  // one nanosecond: no text rounding hides it
  a.record(later);
  const std::string difference = first_difference(a, b, "run 1", "run 2");
  EXPECT_NE(difference.find("run 1: 1 ns"), std::string::npos) << difference;
  EXPECT_NE(difference.find("run 2: 0 ns"), std::string::npos) << difference;
  EXPECT_NE(difference.find("both:"), std::string::npos) << "the records before it: " << difference;
}

TEST(Trace, OpenHandlesAreTheOnesNotClosedSince) {
  Trace t;
  t.record(rec("listen", invalid_handle, "3", "ok"));
  t.record(rec("socket", invalid_handle, "4", "ok"));
  t.record(rec("socket", invalid_handle, "too_many_handles", "too_many_handles"));
  t.record(rec("accept", 3, "5", "ok"));
  t.record(rec("close", 4, "ok", "ok"));
  t.record(rec("abort", 5, "bad_handle", "bad_handle"));  // failed: still open
  t.record(rec("socket", invalid_handle, "4", "ok"));     // the number again
  EXPECT_EQ(t.open_handles(), (std::vector<Handle>{3, 5, 4}));
}

TEST(Trace, OpenHandlesOfManyOpenedAndClosedInAnyOrder) {
  Trace t;
  constexpr int kCount = 20000;
  for (int h = 3; h < 3 + kCount; ++h)
    t.record(rec("socket", invalid_handle, std::to_string(h), "ok"));
  for (int h = 3 + kCount - 1; h >= 3; --h)  // newest first: each close searched the whole list
    if (h != 7) t.record(rec("close", h, "ok", "ok"));
  t.record(rec("socket", invalid_handle, "7", "ok"));  // reported again without a close: once
  EXPECT_EQ(t.open_handles(), (std::vector<Handle>{7}));
}

TEST(Trace, ChromeJsonHasALanePerProgramAndEscapes) {
  Trace t;
  TraceRecord a = rec("send", 5, "ok", "ok");
  a.arguments = "say \"hi\"\n";
  a.program = "client";
  t.record(a);
  TraceRecord b = rec("recv", 6, "2", "data");
  b.program = "server";
  t.record(b);
  const std::string json = t.to_chrome_json();
  EXPECT_NE(json.find(R"("args":{"name":"client"})"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("args":{"name":"server"})"), std::string::npos) << json;
  EXPECT_NE(json.find(R"(say \"hi\"\n)"), std::string::npos) << json;
  EXPECT_EQ(json.front(), '{');
}

TEST(Trace, TracedEnvironmentRecordsCallsWithProgramNames) {
  auto inner = make_environment(environment_names().front());
  ASSERT_TRUE(inner.ok());
  auto trace = std::make_shared<Trace>();
  trace->set_program_source([] { return std::string("tester"); });
  auto env = make_traced_environment(std::move(inner).value(), trace);
  auto listener = env->net().listen({}, 4);
  ASSERT_TRUE(listener.ok());
  auto backend = env->make_backend();
  ASSERT_TRUE(backend.ok());
  ASSERT_TRUE((*backend)->add(*listener, Interest::read, 9).ok());
  Event events[4];
  ASSERT_TRUE((*backend)->wait(events, Duration::zero()).ok());
  ASSERT_TRUE((*backend)->remove(*listener).ok());
  ASSERT_TRUE(env->net().close(*listener).ok());
  EXPECT_EQ(trace->normalized(),
            "listen - -> ok h1\n"
            "add h1 -> ok\n"
            "remove h1 -> ok\n"
            "close h1 -> ok\n");
  ASSERT_FALSE(trace->records().empty());
  EXPECT_EQ(trace->records().front().program, "tester");
  EXPECT_NE(trace->to_text().find("read level token 9"), std::string::npos) << trace->to_text();
}

TEST(Trace, SvgHasALanePerSocketEvenWhenItsNumberComesBack) {
  Trace t;
  auto at = [](int ms, TraceRecord r) {
    r.time = std::chrono::milliseconds(ms);
    return r;
  };
  t.record(at(0, rec("socket", invalid_handle, "4", "ok")));
  t.record(at(1, rec("send", 4, "6144", "partial")));
  t.record(at(2, rec("ready", 4, "writable", "writable")));
  t.record(at(3, rec("close", 4, "ok", "ok")));
  t.record(at(4, rec("socket", invalid_handle, "4", "ok")));  // the same number, a new socket
  t.record(at(5, rec("recv", 4, "connection_reset", "connection_reset")));
  const std::string svg = t.to_svg("a <title>");
  EXPECT_EQ(svg.rfind("<svg", 0), 0u);
  EXPECT_NE(svg.find("a &lt;title&gt;"), std::string::npos) << "text is escaped";
  std::size_t lanes = 0;
  for (std::size_t at = svg.find(">h4 main<"); at != std::string::npos;
       at = svg.find(">h4 main<", at + 1))
    ++lanes;
  EXPECT_EQ(lanes, 2u) << svg;
  EXPECT_NE(svg.find("#ef6c00\"><title>1.000 ms main send h4 -&gt; 6144"), std::string::npos)
      << "the partial send is drawn in its colour, with its record as a tooltip\n"
      << svg;
  EXPECT_NE(svg.find("<title>writable</title>"), std::string::npos);
  EXPECT_NE(svg.find("#c62828\"><title>5.000 ms main recv"), std::string::npos);
}

}  // namespace
}  // namespace muxlab

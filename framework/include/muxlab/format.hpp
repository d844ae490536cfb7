#pragma once
// fmt formatters for the core types, so messages and traces read the same everywhere.
#include <fmt/format.h>

#include "muxlab/backend.hpp"
#include "muxlab/error.hpp"
#include "muxlab/net.hpp"
#include "muxlab/readiness.hpp"

template <>
struct fmt::formatter<muxlab::Readiness> : fmt::formatter<std::string_view> {
  auto format(muxlab::Readiness r, format_context& ctx) const {
    return fmt::formatter<std::string_view>::format(muxlab::to_string(r), ctx);
  }
};

template <>
struct fmt::formatter<muxlab::Interest> : fmt::formatter<std::string_view> {
  auto format(muxlab::Interest i, format_context& ctx) const {
    return fmt::formatter<std::string_view>::format(muxlab::to_string(i), ctx);
  }
};

template <>
struct fmt::formatter<muxlab::Event> : fmt::formatter<std::string_view> {
  auto format(const muxlab::Event& e, format_context& ctx) const {
    auto out = fmt::format_to(ctx.out(), "{{handle {} {} token {}", e.handle,
                              muxlab::to_string(e.readiness), e.token);
    if (e.read_data != muxlab::kNotReported)
      out = fmt::format_to(out, " read_data {}", e.read_data);
    if (e.write_data != muxlab::kNotReported)
      out = fmt::format_to(out, " write_data {}", e.write_data);
    return fmt::format_to(out, "}}");
  }
};

template <>
struct fmt::formatter<muxlab::Error> : fmt::formatter<std::string_view> {
  auto format(const muxlab::Error& e, format_context& ctx) const {
    return fmt::formatter<std::string_view>::format(e.message(), ctx);
  }
};

template <>
struct fmt::formatter<muxlab::Endpoint> : fmt::formatter<std::string_view> {
  auto format(const muxlab::Endpoint& e, format_context& ctx) const {
    return fmt::formatter<std::string_view>::format(muxlab::to_string(e), ctx);
  }
};

#pragma once
// How GoogleTest prints muxlab's values in failure messages: "readable|writable", "would_block:
// ...", "ok 6144", instead of the raw bytes it prints for types it does not know. Found by
// argument-dependent lookup, so they live in namespace muxlab.
#include <ostream>
#include <type_traits>

#include <fmt/format.h>

#include "muxlab/backend.hpp"
#include "muxlab/format.hpp"
#include "muxlab/readiness.hpp"
#include "muxlab/result.hpp"

namespace muxlab {

inline void PrintTo(Readiness r, std::ostream* out) {
  *out << to_string(r);
}

inline void PrintTo(const Event& e, std::ostream* out) {
  *out << fmt::format("{}", e);
}

inline void PrintTo(const Error& e, std::ostream* out) {
  *out << e.message();
}

namespace testing_detail {
// The value of a successful Result, as fmt spells it, or "a value" for types fmt cannot format
// (a unique_ptr<Backend>, say).
template <class T>
std::string describe_value(const T& value) {
  if constexpr (fmt::is_formattable<T>::value) {
    return fmt::format("{}", value);
  } else {
    return "a value";
  }
}
}  // namespace testing_detail

template <class T>
void PrintTo(const Result<T>& r, std::ostream* out) {
  if (!r.ok()) {
    *out << "error " << r.error().message();
  } else if constexpr (std::is_void_v<T>) {
    *out << "ok";
  } else {
    *out << "ok " << testing_detail::describe_value(r.value());
  }
}

}  // namespace muxlab

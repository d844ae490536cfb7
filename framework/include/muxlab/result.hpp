#pragma once
// Result<T>: a value or an Error. The project's C++20 stand-in for std::expected; a success
// costs no allocation, which matters on Backend::wait's hot path.
#include <cassert>
#include <utility>
#include <variant>

#include "muxlab/error.hpp"

namespace muxlab {

template <class T = void>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}
  Result(Error error) : state_(std::in_place_index<1>, std::move(error)) {}
  Result(Errc e, std::string detail = {}) : Result(Error(e, std::move(detail))) {}

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(state_); }
  const T& value() const& { return std::get<0>(state_); }
  T&& value() && { return std::get<0>(std::move(state_)); }
  T& operator*() { return value(); }
  const T& operator*() const { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const { return std::get<1>(state_); }
  std::error_code code() const { return ok() ? std::error_code{} : error().code; }

 private:
  std::variant<T, Error> state_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)) {}
  Result(Errc e, std::string detail = {}) : error_(e, std::move(detail)) {}

  bool ok() const { return !error_.code; }
  explicit operator bool() const { return ok(); }
  const Error& error() const { return error_; }
  std::error_code code() const { return error_.code; }

 private:
  Error error_;
};

using Status = Result<void>;

}  // namespace muxlab

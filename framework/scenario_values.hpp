#pragma once
// The values scenario lines hold (names, numbers, chances, comparisons, results) and how a
// failure report prints them. Private to the framework. Durations and sizes are
// parse_duration/parse_bytes, shared with program arguments (muxlab/program.hpp).
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

#include "muxlab/scenario.hpp"
#include "scenario_tokens.hpp"

namespace muxlab::script {

// Letters, digits, _ and -, not starting with a digit or -.
bool is_name(std::string_view s);
bool parse_number(std::string_view s, std::uint64_t& out);
// "25%" or "0.25": a chance from 0 to 1.
bool parse_chance(std::string_view s, double& out);
// ==, =, <=, >=, < or >.
bool parse_comparison(std::string_view s, Comparison& out);
std::string_view comparison_text(Comparison c);
bool compare(std::uint64_t a, Comparison c, std::uint64_t b);

// The result after "->" (or after an "on ...:"): one token, any result form; the verb's table
// row says which forms it may state.
bool parse_result(LineParser& p, const Words& result, Expected& out);

std::string duration_text(Duration d);          // "12.500 ms", as failure reports print times
std::string script_duration(Duration d);        // "60min", "10s", "250ms", as scripts write them
std::string printable(std::string_view bytes);  // escaped, and cut after 200 characters
// A payload of `size` bytes that shows where a byte was lost or reordered.
std::string generated_payload(std::size_t size);

}  // namespace muxlab::script

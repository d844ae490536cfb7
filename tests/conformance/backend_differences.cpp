// backend_differences: writes docs/backend-differences.md from the facts the conformance suite
// records, or checks it against them.
//
//   backend_differences --doc FILE [--regenerate HOW] FACTS...          rewrites FILE
//   backend_differences --check --doc FILE [--regenerate HOW] FACTS...  compares, changes nothing
//
// FACTS are files written by `MUXLAB_FACTS_OUT=FACTS conformance_tests`, one per run (Linux, the
// Windows build under Wine, ...). The columns a run measured come from its facts; every other
// column keeps what FILE says, and a column that no run ever measured is marked so, never
// guessed. --check exits 1 and names every cell where FILE disagrees with the measured columns;
// HOW is the command that regenerates FILE, for that message. Both refuse facts whose assertion
// failed: the document holds only what the suite checked and saw hold.
//
// Plain C++ on purpose: it runs wherever the suite runs (a Windows build runs it under Wine).
#include <algorithm>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

namespace {

// Cells: a value, or one of these.
const std::string kSame = "same";      // a fake column: what the real mechanism beside it says
const std::string kDiffers = "≠ ";     // a fake column: prefix of a value that differs
const std::string kNotMeasured = "?";  // no run of this environment is in the document
const std::string kNotChecked = "—";   // the environment ran; the case checks no such thing there
const std::string kUnmeasured = "not measured";  // the provenance of a column nobody measured
const std::string kFakeProvenance =
    "the fake kernel: virtual time, deterministic, so every build measures the same";
const std::string kColumnsTopic = "Columns";

struct Row {
  std::string topic;
  std::string fact;
  int topic_order = 1 << 20;
  std::string file;  // with `line`, the row's order: where the fact is recorded
  int line = 1 << 30;
  int doc_order = 1 << 30;  // rows that only the document has keep its order
  std::set<std::string> cases;
  std::map<std::string, std::string> cells;  // column -> value; absent: not checked there
  std::map<std::string, std::string> from;   // column -> the facts file the value came from
};

struct Column {
  std::string name;
  std::string provenance;
  bool measured = false;
};

using Key = std::pair<std::string, std::string>;  // topic, fact

struct Table {
  std::vector<Column> columns;  // in order of appearance
  std::map<Key, Row> rows;
  std::map<std::string, int> topic_doc_order;

  Column* column(const std::string& name) {
    for (Column& c : columns)
      if (c.name == name) return &c;
    return nullptr;
  }
  const Column* column(const std::string& name) const {
    return const_cast<Table*>(this)->column(name);
  }
  Column& add_column(const std::string& name) {
    if (Column* c = column(name)) return *c;
    columns.push_back({name, kUnmeasured, false});
    return columns.back();
  }
  Row& row(const std::string& topic, const std::string& fact) {
    Row& r = rows[{topic, fact}];
    r.topic = topic;
    r.fact = fact;
    return r;
  }
};

bool is_fake(std::string_view column) {
  return column.starts_with("fake:");
}

std::vector<std::string> split(const std::string& line, char separator) {
  std::vector<std::string> fields;
  std::string field;
  std::istringstream in(line);
  while (std::getline(in, field, separator))
    fields.push_back(field);
  if (!line.empty() && line.back() == separator) fields.emplace_back();
  return fields;
}

std::vector<std::string> read_lines(const std::string& path, bool& ok) {
  std::ifstream in(path, std::ios::binary);
  ok = static_cast<bool>(in);
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();  // a checkout with CRLF
    lines.push_back(line);
  }
  return lines;
}

// --- facts files -----------------------------------------------------------------------------

bool number(const std::string& text, int& out) {
  out = 0;
  if (text.empty() || text.size() > 9) return false;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    out = out * 10 + (c - '0');
  }
  return true;
}

std::string failed_fact(const std::string& where, const std::string& column,
                        const std::string& test, const std::string& fact, const std::string& value,
                        const std::string& expected) {
  return where + ": on " + column + ", " + test + ": \"" + fact + "\" did not hold: expected \"" +
         expected + "\", observed \"" + value + "\" (fix the run before documenting it)";
}

// Adds one run's facts; problems (a failed assertion, two values for one cell) go to `problems`.
bool load_facts(const std::string& path, Table& table, std::vector<std::string>& problems) {
  bool ok = false;
  const std::vector<std::string> lines = read_lines(path, ok);
  if (!ok) {
    problems.push_back(path +
                       ": cannot read it (did the conformance run with MUXLAB_FACTS_OUT "
                       "set finish?)");
    return false;
  }
  if (lines.empty() || lines[0] != "muxlab-facts\t1") {
    problems.push_back(path + ": not a facts file of this version (no 'muxlab-facts 1' line)");
    return false;
  }
  std::string run = "?";
  for (std::size_t n = 1; n < lines.size(); ++n) {
    const std::vector<std::string> f = split(lines[n], '\t');
    const std::string where = path + ":" + std::to_string(n + 1);
    if (f.size() == 2 && f[0] == "run") {
      run = f[1];
    } else if (f.size() == 2 && f[0] == "column") {
      Column& c = table.add_column(f[1]);
      c.measured = true;
      c.provenance = is_fake(f[1]) ? kFakeProvenance : run;
    } else if (f.size() == 11 && f[0] == "fact") {
      const std::string& column = f[1];
      const std::string& topic = f[3];
      const std::string& fact = f[7];
      const std::string& value = f[8];
      int topic_order = 0;
      int line = 0;
      if (!number(f[2], topic_order) || !number(f[5], line)) {
        problems.push_back(where + ": a topic number or line that is not a number");
        continue;
      }
      if (f[9] != "1") {
        problems.push_back(failed_fact(where, column, f[6], fact, value, f[10]));
        continue;
      }
      Row& r = table.row(topic, fact);
      r.topic_order = std::min(r.topic_order, topic_order);
      if (std::tie(f[4], line) < std::tie(r.file, r.line) || r.file.empty()) {
        r.file = f[4];
        r.line = line;
      }
      r.cases.insert(f[6]);
      const auto [cell, added] = r.cells.emplace(column, value);
      if (!added && cell->second != value) {
        problems.push_back(where + ": on " + column + ", \"" + fact + "\" is \"" + value +
                           "\", but " + r.from[column] + " says \"" + cell->second +
                           "\": a fact must have one value per environment");
      }
      r.from.emplace(column, path);
    } else {
      problems.push_back(where + ": a line this program does not know: " + lines[n]);
    }
  }
  return true;
}

// --- the document ----------------------------------------------------------------------------

std::string escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '|') out += '\\';
    out += c;
  }
  return out;
}

// The cells of a table line "| a | b\|c |": "a", "b|c".
std::vector<std::string> table_cells(const std::string& line) {
  std::vector<std::string> cells;
  std::string cell;
  for (std::size_t i = 1; i < line.size(); ++i) {
    if (line[i] == '\\' && i + 1 < line.size() && line[i + 1] == '|') {
      cell += '|';
      ++i;
    } else if (line[i] == '|') {
      const std::size_t first = cell.find_first_not_of(' ');
      const std::size_t last = cell.find_last_not_of(' ');
      cells.push_back(first == std::string::npos ? "" : cell.substr(first, last - first + 1));
      cell.clear();
    } else {
      cell += line[i];
    }
  }
  return cells;
}

// Reads back what render() wrote: the columns, and every table's cells as values.
bool parse_document(const std::string& path, Table& table, std::string& problem) {
  bool ok = false;
  const std::vector<std::string> lines = read_lines(path, ok);
  if (!ok) {
    problem = path + ": cannot read it";
    return false;
  }
  std::string topic;
  std::vector<std::string> header;
  int rows = 0;
  for (std::size_t n = 0; n < lines.size(); ++n) {
    const std::string& line = lines[n];
    if (line.starts_with("## ")) {
      topic = line.substr(3);
      header.clear();
      if (topic != kColumnsTopic && !table.topic_doc_order.contains(topic))
        table.topic_doc_order.emplace(topic, static_cast<int>(table.topic_doc_order.size()));
      continue;
    }
    if (!line.starts_with("|") || topic.empty()) continue;
    const std::vector<std::string> cells = table_cells(line);
    if (header.empty()) {
      header = cells;
      continue;
    }
    if (!cells.empty() && cells[0].starts_with("---")) continue;
    const std::string where = path + ":" + std::to_string(n + 1);
    if (cells.size() != header.size()) {
      problem = where + ": " + std::to_string(cells.size()) + " cells where the header has " +
                std::to_string(header.size());
      return false;
    }
    if (topic == kColumnsTopic) {
      Column& c = table.add_column(cells[0]);
      c.provenance = cells[1];
      c.measured = cells[1] != kUnmeasured;
      continue;
    }
    if (header.size() < 2 || header[0] != "fact" || header[1] != "case") {
      problem = where + ": a table whose header is not '| fact | case | <columns> |'";
      return false;
    }
    Row& r = table.row(topic, cells[0]);
    r.doc_order = rows++;
    for (const std::string& name : split(cells[1], ','))
      if (const std::size_t at = name.find_first_not_of(' '); at != std::string::npos)
        r.cases.insert(name.substr(at));
    for (std::size_t i = 2; i < cells.size(); ++i) {
      std::string value = cells[i];
      if (value == kNotChecked || value == kNotMeasured) continue;
      if (value.starts_with(kDiffers)) value = value.substr(kDiffers.size());
      r.cells[header[i]] = value;
      r.from[header[i]] = path;
    }
  }
  // "same" in a fake column is the value of the real column beside it.
  for (auto& [key, r] : table.rows) {
    for (auto& [column, value] : r.cells) {
      if (value != kSame || !is_fake(column)) continue;
      const auto real = r.cells.find(column.substr(5));
      if (real == r.cells.end() || real->second == kSame) {
        problem = path + ": \"" + r.fact + "\": " + column + " says '" + kSame +
                  "' but the real column beside it has no value";
        return false;
      }
      value = real->second;
    }
  }
  return true;
}

// The columns in the document's order: per mechanism the real one, its fake, then the real one
// in another setting ("win32-select on Wine"). A mechanism with a fake has a real column even if
// no run measured it: that is how kqueue and Windows show up as not measured.
std::vector<std::string> column_order(Table& table) {
  std::vector<std::string> mechanisms;
  for (const Column& c : table.columns)
    if (is_fake(c.name) &&
        std::find(mechanisms.begin(), mechanisms.end(), c.name.substr(5)) == mechanisms.end())
      mechanisms.push_back(c.name.substr(5));
  for (const std::string& m : mechanisms)
    table.add_column(m);
  std::vector<std::string> order;
  for (const std::string& m : mechanisms) {
    order.push_back(m);
    order.push_back("fake:" + m);
    for (const Column& c : table.columns)
      if (c.name.starts_with(m + " on ")) order.push_back(c.name);
  }
  for (const Column& c : table.columns)
    if (std::find(order.begin(), order.end(), c.name) == order.end()) order.push_back(c.name);
  return order;
}

std::string cell_text(const Table& table, const Row& r, const std::string& name) {
  const Column* column = table.column(name);
  if (!column || !column->measured) return kNotMeasured;
  const auto value = r.cells.find(name);
  if (value == r.cells.end()) return kNotChecked;
  if (is_fake(name)) {
    const Column* real_column = table.column(name.substr(5));
    const auto real = r.cells.find(name.substr(5));
    if (real_column && real_column->measured && real != r.cells.end())
      return real->second == value->second ? kSame : kDiffers + escape(value->second);
  }
  return escape(value->second);
}

std::string render(Table& table) {
  const std::vector<std::string> columns = column_order(table);
  std::ostringstream out;
  out << R"(# Backend differences, as the conformance suite measured them

<!-- Generated by tests/conformance/backend_differences.cpp. Do not edit: regenerate. -->

Every cell is a value that a case of the conformance suite (`tests/conformance/`) observed **and
asserted** on that environment. A case records a named fact where it checks it
(`expect_fact(topic, "fact", observed, expected)` in `conformance_fixture.hpp`), and with
`MUXLAB_FACTS_OUT=FILE` the run writes its facts to FILE; `backend_differences` turns the facts
of one or more runs into this page. So it says what the suite checked and saw hold, nothing else.

- Regenerate the columns this Linux machine measures (epoll, poll, select, the fakes):
  `cmake --build --preset default --target backend-differences`.
- Regenerate the Wine column (win32-select on Wine, and the fakes again), after `.ci/wine-tests`:
  `cmake --build --preset mingw --target backend-differences`.
- Or merge facts files by hand:
  `build/tests/conformance/backend_differences --doc docs/backend-differences.md FACTS...`.
  A column that no given run measured keeps what this page says.
- ctest's `docs/backend-differences` (in both builds; `.ci/wine-tests` runs the Windows one) runs
  the suite and fails, naming every cell, where this page disagrees with what it measured.

Cells: `same` in a fake column: the fake kernel measured what the real mechanism beside it did
(`≠ value` would mark a fake that disagrees). `—`: the environment ran and the case checks no
such thing there (another branch of the case, or skipped). `?`: no run of this environment is in
this page, and nothing is guessed: kqueue needs macOS or a BSD, win32-select on Windows needs
Windows (their fakes are measured; Wine's sockets differ from Windows' in a few documented ways:
[windows.md](windows.md)).

Interest is read|write unless a fact says otherwise. read_closed is EPOLLRDHUP, POLLRDHUP or
EV_EOF on the read filter; write_closed the write half of EPOLLHUP/POLLHUP (both directions shut)
or EV_EOF on the write filter; error EPOLLERR, POLLERR/POLLNVAL or select's except set.

## )" << kColumnsTopic
      << R"(

| column | measured by |
|---|---|
)";
  for (const std::string& name : columns) {
    const Column* c = table.column(name);
    out << "| " << escape(name) << " | " << escape(c->measured ? c->provenance : kUnmeasured)
        << " |\n";
  }

  std::vector<const Row*> rows;
  for (const auto& [key, r] : table.rows)
    rows.push_back(&r);
  // A topic's place: the least of its rows' (rows that only the document has have none).
  std::map<std::string, int> topic_order;
  for (const Row* r : rows) {
    const auto [at, added] = topic_order.emplace(r->topic, r->topic_order);
    if (!added) at->second = std::min(at->second, r->topic_order);
  }
  const auto topic_rank = [&](const Row* r) {
    const auto doc = table.topic_doc_order.find(r->topic);
    return std::make_tuple(topic_order[r->topic],
                           doc == table.topic_doc_order.end() ? 0 : doc->second, r->topic);
  };
  std::stable_sort(rows.begin(), rows.end(), [&](const Row* a, const Row* b) {
    return std::make_tuple(topic_rank(a), a->file.empty(), a->file, a->line, a->doc_order) <
           std::make_tuple(topic_rank(b), b->file.empty(), b->file, b->line, b->doc_order);
  });
  std::string topic;
  for (const Row* r : rows) {
    if (r->topic != topic) {
      topic = r->topic;
      out << "\n## " << topic << "\n\n| fact | case |";
      for (const std::string& name : columns)
        out << " " << escape(name) << " |";
      out << "\n|---|---|";
      for (std::size_t i = 0; i < columns.size(); ++i)
        out << "---|";
      out << "\n";
    }
    std::string cases;
    for (const std::string& c : r->cases)
      cases += (cases.empty() ? "" : ", ") + c;
    out << "| " << escape(r->fact) << " | " << escape(cases) << " |";
    for (const std::string& name : columns)
      out << " " << cell_text(table, *r, name) << " |";
    out << "\n";
  }
  return out.str();
}

// The fresh facts' columns, with the document's for every column no fresh run measured.
Table merge(const Table& fresh, const Table& document) {
  Table out = fresh;
  for (const Column& c : document.columns) {
    if (const Column* measured = out.column(c.name); measured && measured->measured) continue;
    Column& kept = out.add_column(c.name);
    kept = c;
    if (!c.measured) continue;
    for (const auto& [key, r] : document.rows) {
      const auto value = r.cells.find(c.name);
      if (value == r.cells.end()) continue;
      Row& row = out.row(key.first, key.second);
      row.cells[c.name] = value->second;
      if (row.file.empty()) {
        row.doc_order = r.doc_order;
        row.cases.insert(r.cases.begin(), r.cases.end());
      }
    }
  }
  for (const auto& [topic, order] : document.topic_doc_order)
    out.topic_doc_order.emplace(topic, order);
  return out;
}

// --- --check ---------------------------------------------------------------------------------

int check(const Table& fresh, const Table& document, const std::string& doc_path,
          const std::string& regenerate) {
  std::vector<std::string> measured;
  for (const Column& c : fresh.columns)
    if (c.measured) measured.push_back(c.name);
  // The document's rows in its order, then the rows only this run has.
  std::vector<std::pair<int, Key>> ordered;
  for (const auto& [key, r] : document.rows)
    ordered.emplace_back(r.doc_order, key);
  std::sort(ordered.begin(), ordered.end());
  std::vector<Key> keys;
  for (const auto& [order, key] : ordered)
    keys.push_back(key);
  for (const auto& [key, r] : fresh.rows)
    if (!document.rows.contains(key)) keys.push_back(key);

  std::ostringstream diff;
  int differences = 0;
  for (const std::string& name : measured) {
    const Column* c = document.column(name);
    if (c && c->measured) continue;
    diff << "@@ column " << name << " @@\n-" << name << ": "
         << (c ? "not measured" : "no such column") << "\n+" << name << ": measured now\n";
    ++differences;
  }
  for (const Key& key : keys) {
    std::ostringstream hunk;
    for (const std::string& name : measured) {
      const Column* c = document.column(name);
      if (!c || !c->measured) continue;  // reported above, once
      const auto cell = [&](const Table& t) -> std::string {
        const auto r = t.rows.find(key);
        if (r == t.rows.end()) return kNotChecked + " (not checked there)";
        const auto v = r->second.cells.find(name);
        return v == r->second.cells.end() ? kNotChecked + " (not checked there)" : v->second;
      };
      const std::string was = cell(document);
      const std::string now = cell(fresh);
      if (was == now) continue;
      hunk << "-" << name << ": " << was << "\n+" << name << ": " << now << "\n";
      ++differences;
    }
    if (!hunk.str().empty())
      diff << "@@ " << key.first << ": \"" << key.second << "\" @@\n" << hunk.str();
  }
  if (differences == 0) {
    std::cout << doc_path << " agrees with this run on every cell of " << measured.size()
              << " columns\n";
    return 0;
  }
  std::cout << doc_path << " is stale: " << differences
            << (differences == 1 ? " difference" : " differences")
            << " from what the conformance suite measured in this run.\n"
            << "--- " << doc_path << "\n+++ measured now\n"
            << diff.str() << "Regenerate it" << (regenerate.empty() ? "" : " with: " + regenerate)
            << " (then review the change: a different value is a different kernel behaviour)\n";
  return 1;
}

int usage() {
  std::cerr << "usage: backend_differences [--check] --doc FILE [--regenerate HOW] FACTS...\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  bool check_only = false;
  std::string doc_path;
  std::string regenerate;
  std::vector<std::string> facts;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--check") {
      check_only = true;
    } else if ((arg == "--doc" || arg == "--regenerate") && i + 1 < argc) {
      (arg == "--doc" ? doc_path : regenerate) = argv[++i];
    } else if (arg.starts_with("--")) {
      return usage();
    } else {
      facts.emplace_back(arg);
    }
  }
  if (doc_path.empty() || facts.empty()) return usage();

  Table fresh;
  std::vector<std::string> problems;
  for (const std::string& path : facts)
    load_facts(path, fresh, problems);
  if (!problems.empty()) {
    for (const std::string& p : problems)
      std::cout << p << "\n";
    std::cout << "backend_differences: " << problems.size() << " problems in the facts; "
              << doc_path << " was not " << (check_only ? "checked" : "written") << "\n";
    return 1;
  }

  Table document;
  std::string problem;
  const bool have_document = std::ifstream(doc_path).good();
  if (have_document && !parse_document(doc_path, document, problem)) {
    std::cout << problem << "\n";
    return 1;
  }
  if (check_only) {
    if (!have_document) {
      std::cout << doc_path << " does not exist; generate it"
                << (regenerate.empty() ? "" : " with: " + regenerate) << "\n";
      return 1;
    }
    return check(fresh, document, doc_path, regenerate);
  }

  Table merged = merge(fresh, document);
  const std::string text = render(merged);
  std::ostringstream before;
  before << std::ifstream(doc_path, std::ios::binary).rdbuf();
  if (have_document && before.str() == text) {
    std::cout << doc_path << " is up to date\n";
    return 0;
  }
  std::ofstream out(doc_path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) {
    std::cout << doc_path << ": cannot write it\n";
    return 1;
  }
  std::cout << "wrote " << doc_path << "\n";
  return 0;
}

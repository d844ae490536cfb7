// Trace::to_svg: the trace as a picture. One lane per socket, in order of first appearance;
// along it, a tick per call coloured by the class of its result, and a band per readiness
// report coloured by what was reported. No scripts, no external styles: the file is the picture.
#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "muxlab/trace.hpp"

namespace muxlab {
namespace {

constexpr double kLabelWidth = 190;
constexpr double kPlotWidth = 1000;
constexpr double kLaneHeight = 26;
constexpr double kTop = 48;
constexpr std::size_t kMaxRecords = 4000;  // a busy-polling trace has millions: draw the start

// Result classes: success green, data blue, a partial send orange, would_block grey, end of
// stream purple, any error red.
std::string_view call_colour(const TraceRecord& r) {
  const std::string& c = r.result_class;
  if (c == "ok") return "#2e7d32";
  if (c == "data") return "#1565c0";
  if (c == "partial") return "#ef6c00";
  if (c == "would_block" || c == "in_progress") return "#9e9e9e";
  if (c == "eof") return "#6a1b9a";
  return "#c62828";
}

// The most telling flag wins: error, then a hang-up, then readable, then writable.
std::string_view readiness_colour(std::string_view set) {
  if (set.find("error") != std::string_view::npos) return "#ef9a9a";
  if (set.find("closed") != std::string_view::npos) return "#ffcc80";
  if (set.find("readable") != std::string_view::npos) return "#90caf9";
  if (set.find("writable") != std::string_view::npos) return "#a5d6a7";
  return "#eeeeee";
}

}  // namespace

std::string escape_xml(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        // XML 1.0 has no place for other control characters, even escaped.
        if (static_cast<unsigned char>(c) >= 0x20 || c == '\n' || c == '\t') out += c;
    }
  }
  return out;
}

std::string Trace::to_svg(std::string_view title) const {
  const std::size_t count = std::min(records_.size(), kMaxRecords);
  // A lane per socket, not per number: a closed handle's number comes back for the next socket
  // (lowest free first), and that socket gets a lane of its own.
  struct Lane {
    Handle handle;
    std::string owner;
  };
  std::vector<Lane> lanes;
  std::vector<int> lane_of_record(count, -1);
  std::map<Handle, int> live;
  for (std::size_t i = 0; i < count; ++i) {
    const TraceRecord& r = records_[i];
    Handle h = r.handle;
    // A call that creates a socket belongs on the new socket's lane.
    if ((r.call == "socket" || r.call == "listen") && r.result_class == "ok")
      h = static_cast<Handle>(std::stoll(r.result));
    if (h == invalid_handle) continue;
    auto [it, fresh] = live.emplace(h, static_cast<int>(lanes.size()));
    if (fresh) lanes.push_back({h, r.program});
    lane_of_record[i] = it->second;
    if ((r.call == "close" || r.call == "abort") && r.result_class == "ok") live.erase(h);
  }
  const Time t0 = count ? records_.front().time : Time{};
  Time t1 = t0;
  for (std::size_t i = 0; i < count; ++i)
    t1 = std::max(t1, records_[i].time + records_[i].duration);
  // With no time passing at all (a fake run at zero latency), order is all there is to draw.
  const bool by_order = t1 == t0;
  auto x_of = [&](std::size_t i, Time t) {
    const double f = by_order
                         ? (count > 1 ? static_cast<double>(i) / static_cast<double>(count - 1) : 0)
                         : std::chrono::duration<double>(t - t0).count() /
                               std::chrono::duration<double>(t1 - t0).count();
    return kLabelWidth + f * kPlotWidth;
  };
  const double height = kTop + kLaneHeight * static_cast<double>(lanes.size()) + 60;
  const double width = kLabelWidth + kPlotWidth + 20;

  std::string svg = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{:.0f}\" height=\"{:.0f}\" "
      "font-family=\"monospace\" font-size=\"12\">\n"
      "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
      "<text x=\"10\" y=\"20\" font-size=\"14\">{}</text>\n"
      "<text x=\"10\" y=\"38\" fill=\"#555\">{}</text>\n",
      width, height, escape_xml(title.empty() ? "muxlab trace" : title),
      by_order
          ? fmt::format("{} records, in order (no time passed)", count)
          : fmt::format("{:.3f} ms{}", std::chrono::duration<double, std::milli>(t1 - t0).count(),
                        count < records_.size()
                            ? fmt::format(", the first {} of {} records", count, records_.size())
                            : ""));
  for (std::size_t k = 0; k < lanes.size(); ++k) {
    const double y = kTop + kLaneHeight * static_cast<double>(k);
    svg += fmt::format(
        "<rect x=\"{:.0f}\" y=\"{:.1f}\" width=\"{:.0f}\" height=\"{:.0f}\" fill=\"{}\"/>\n"
        "<text x=\"10\" y=\"{:.1f}\">h{} {}</text>\n",
        kLabelWidth, y, kPlotWidth, kLaneHeight - 2, k % 2 ? "#fafafa" : "#f3f3f3",
        y + kLaneHeight / 2 + 4, lanes[k].handle, escape_xml(lanes[k].owner));
  }
  // Readiness marks first, under the call ticks. A report says what was true at one moment, so
  // a mark stretches towards the next report for the same handle by a few pixels at most.
  std::map<int, std::pair<double, std::string>> open_mark;  // by lane
  auto close_mark = [&](int lane, double x_end) {
    auto it = open_mark.find(lane);
    if (it == open_mark.end()) return;
    const double y = kTop + kLaneHeight * lane + 3;
    svg += fmt::format(
        "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.0f}\" "
        "fill=\"{}\"><title>{}</title></rect>\n",
        it->second.first, y, std::clamp(x_end - it->second.first, 2.0, 8.0), kLaneHeight / 2 - 2,
        readiness_colour(it->second.second), escape_xml(it->second.second));
    open_mark.erase(it);
  };
  for (std::size_t i = 0; i < count; ++i) {
    const TraceRecord& r = records_[i];
    if (r.call != "ready" || lane_of_record[i] < 0) continue;
    const double x = x_of(i, r.time);
    close_mark(lane_of_record[i], x);
    open_mark[lane_of_record[i]] = {x, r.result};
  }
  for (int k = 0; k < static_cast<int>(lanes.size()); ++k)
    close_mark(k, kLabelWidth + kPlotWidth);

  for (std::size_t i = 0; i < count; ++i) {
    const TraceRecord& r = records_[i];
    if (r.call == "ready" || r.call == "wait" || lane_of_record[i] < 0) continue;
    const double x = x_of(i, r.time);
    const double y = kTop + kLaneHeight * lane_of_record[i] + kLaneHeight / 2;
    svg += fmt::format(
        "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"2\" height=\"{:.0f}\" fill=\"{}\"><title>{:.3f} "
        "ms {} {} h{}{}{} -&gt; {}</title></rect>\n",
        x - 1, y, kLaneHeight / 2 - 3, call_colour(r),
        std::chrono::duration<double, std::milli>(r.time).count(), escape_xml(r.program),
        escape_xml(r.call), lanes[static_cast<std::size_t>(lane_of_record[i])].handle,
        r.arguments.empty() ? "" : " ", escape_xml(r.arguments), escape_xml(r.result));
  }
  // The legend.
  const double ly = height - 30;
  double lx = 10;
  auto legend = [&](std::string_view colour, std::string_view label) {
    svg += fmt::format(
        "<rect x=\"{:.0f}\" y=\"{:.0f}\" width=\"12\" height=\"12\" fill=\"{}\"/><text "
        "x=\"{:.0f}\" "
        "y=\"{:.0f}\">{}</text>\n",
        lx, ly, colour, lx + 16, ly + 11, label);
    lx += 24 + 8 * static_cast<double>(label.size());
  };
  legend("#2e7d32", "ok");
  legend("#1565c0", "data");
  legend("#ef6c00", "partial");
  legend("#9e9e9e", "would_block");
  legend("#6a1b9a", "eof");
  legend("#c62828", "error");
  legend("#90caf9", "readable");
  legend("#a5d6a7", "writable");
  legend("#ffcc80", "closed");
  legend("#ef9a9a", "error reported");
  svg += "</svg>\n";
  return svg;
}

}  // namespace muxlab

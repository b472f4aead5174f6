#pragma once
// How output is rendered: colour and redrawing only on a real terminal (ninja's line
// printer: isatty, TERM != dumb, NO_COLOR), JSON lines for machines.
#include <cstdio>
#include <string>

namespace m2r::cli {

struct OutputStyle {
  bool json = false;         // --json: machine-readable output only
  bool color = false;        // ANSI colours
  bool interactive = false;  // stdout is a terminal that can redraw a progress bar
};

OutputStyle detect_output_style(bool json_flag, bool no_color_flag);

std::string paint(const OutputStyle& style, const char* ansi, const std::string& text);
inline std::string green(const OutputStyle& s, const std::string& t) { return paint(s, "32", t); }
inline std::string yellow(const OutputStyle& s, const std::string& t) { return paint(s, "33", t); }
inline std::string red(const OutputStyle& s, const std::string& t) { return paint(s, "31", t); }
inline std::string bold(const OutputStyle& s, const std::string& t) { return paint(s, "1", t); }

}  // namespace m2r::cli

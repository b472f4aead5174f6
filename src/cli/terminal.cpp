#include "cli/terminal.hpp"

#include <cstdlib>
#include <cstring>
#include <unistd.h>

namespace m2r::cli {

OutputStyle detect_output_style(bool json_flag, bool no_color_flag) {
  OutputStyle style;
  style.json = json_flag;
  const char* term = std::getenv("TERM");
  const bool tty = isatty(STDOUT_FILENO) != 0 && !(term && std::strcmp(term, "dumb") == 0);
  style.interactive = tty && !json_flag;
  const char* no_color = std::getenv("NO_COLOR");  // https://no-color.org: any non-empty value
  style.color = style.interactive && !no_color_flag && !(no_color && *no_color);
  return style;
}

std::string paint(const OutputStyle& style, const char* ansi, const std::string& text) {
  if (!style.color) return text;
  return std::string("\x1b[") + ansi + "m" + text + "\x1b[0m";
}

}  // namespace m2r::cli

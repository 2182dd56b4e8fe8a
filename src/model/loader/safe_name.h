// SafeName: a name from a file made fit for an error message (internal). Names of tensors and
// keys help users find a defect, but they are untrusted bytes: non-printable characters become
// '?' and long names are cut, so errors never carry raw payload.
#pragma once

#include <string>
#include <string_view>

namespace ocular::loader {

inline std::string SafeName(std::string_view name) {
  constexpr size_t kMaxChars = 96;
  std::string out;
  out.reserve(std::min(name.size(), kMaxChars) + 3);
  for (size_t i = 0; i < name.size() && i < kMaxChars; ++i) {
    unsigned char c = static_cast<unsigned char>(name[i]);
    out += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '?';
  }
  if (name.size() > kMaxChars) out += "...";
  return "'" + out + "'";
}

}  // namespace ocular::loader

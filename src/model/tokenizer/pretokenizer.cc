#include "model/tokenizer/pretokenizer.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <string>
#include <utility>

namespace ocular::tokenizer {

namespace {

// Bounds a hostile pattern's backtracking (HF patterns need a few hundred steps per piece).
constexpr uint32_t kMatchLimit = 10'000'000;
constexpr uint32_t kDepthLimit = 100'000;

}  // namespace

struct RegexSplitter::Impl {
  pcre2_code* code = nullptr;
  pcre2_match_context* match_context = nullptr;
  ~Impl() {
    if (match_context != nullptr) pcre2_match_context_free(match_context);
    if (code != nullptr) pcre2_code_free(code);
  }
};

RegexSplitter::RegexSplitter(std::unique_ptr<Impl> impl, std::string pattern, bool jit)
    : impl_(std::move(impl)), pattern_(std::move(pattern)), jit_(jit) {}
RegexSplitter::RegexSplitter(RegexSplitter&&) noexcept = default;
RegexSplitter& RegexSplitter::operator=(RegexSplitter&&) noexcept = default;
RegexSplitter::~RegexSplitter() = default;

Result<RegexSplitter> RegexSplitter::Create(std::string_view pattern) {
  auto impl = std::make_unique<Impl>();
  int error_code = 0;
  PCRE2_SIZE error_offset = 0;
  impl->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                             PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF, &error_code,
                             &error_offset, nullptr);
  if (impl->code == nullptr) {
    return InvalidArgument("pre-tokenizer regex does not compile (at offset " +
                           std::to_string(error_offset) + ")");
  }
  // An empty match would make no progress; patterns that can match empty are refused.
  uint32_t min_length = 0;
  if (pcre2_pattern_info(impl->code, PCRE2_INFO_MINLENGTH, &min_length) != 0 || min_length == 0) {
    return InvalidArgument("pre-tokenizer regex can match the empty string");
  }
  const bool jit = pcre2_jit_compile(impl->code, PCRE2_JIT_COMPLETE) == 0;
  impl->match_context = pcre2_match_context_create(nullptr);
  if (impl->match_context == nullptr) return ResourceExhausted("out of memory compiling regex");
  pcre2_set_match_limit(impl->match_context, kMatchLimit);
  pcre2_set_depth_limit(impl->match_context, kDepthLimit);
  return RegexSplitter(std::move(impl), std::string(pattern), jit);
}

void RegexSplitter::Split(std::string_view text, std::vector<std::string_view>* pieces) const {
  if (text.empty()) return;
  pcre2_match_data* md = pcre2_match_data_create_from_pattern(impl_->code, nullptr);
  if (md == nullptr) {
    pieces->push_back(text);
    return;
  }
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  size_t pos = 0;  // end of the last piece emitted
  while (pos < text.size()) {
    const int rc = pcre2_match(impl_->code, subject, text.size(), pos, 0, md, impl_->match_context);
    if (rc < 0) break;  // no further match (or a limit): the rest is one piece
    const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
    const size_t start = ov[0];
    const size_t end = ov[1];
    if (end <= start || start < pos || end > text.size()) break;  // cannot happen (min length)
    if (start > pos) pieces->push_back(text.substr(pos, start - pos));
    pieces->push_back(text.substr(start, end - start));
    pos = end;
  }
  if (pos < text.size()) pieces->push_back(text.substr(pos));
  pcre2_match_data_free(md);
}

}  // namespace ocular::tokenizer

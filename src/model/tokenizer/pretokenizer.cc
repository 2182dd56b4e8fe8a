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

RegexSplitter::Scratch::Scratch(const RegexSplitter& splitter)
    : match_data(pcre2_match_data_create_from_pattern(splitter.impl_->code, nullptr)) {}

RegexSplitter::Scratch::~Scratch() {
  if (match_data != nullptr) pcre2_match_data_free(static_cast<pcre2_match_data*>(match_data));
}

bool RegexSplitter::NextMatch(std::string_view text, size_t pos, Scratch* scratch, size_t* start,
                              size_t* end) const {
  auto* md = static_cast<pcre2_match_data*>(scratch->match_data);
  if (md == nullptr) return false;
  const int rc = pcre2_match(impl_->code, reinterpret_cast<PCRE2_SPTR>(text.data()), text.size(),
                             pos, 0, md, impl_->match_context);
  if (rc < 0) return false;
  const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
  // The pattern cannot match empty (checked in Create); guard anyway so the loop progresses.
  if (ov[1] <= ov[0] || ov[0] < pos || ov[1] > text.size()) return false;
  *start = ov[0];
  *end = ov[1];
  return true;
}

}  // namespace ocular::tokenizer

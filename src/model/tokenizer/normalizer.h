// Unicode NFC normalization (HF `NFC` normalizer) via utf8proc.
#pragma once

#include <string>
#include <string_view>

namespace ocular::tokenizer {

// Appends the NFC form of `text` to `out`. Ill-formed UTF-8 bytes are copied unchanged and the
// well-formed runs between them are normalized independently, so invalid input still
// round-trips byte-exactly.
void AppendNfc(std::string_view text, std::string* out);

// Conservative quick check: true when every byte is < 0xCC, i.e. the text holds only code
// points below U+0300 (the first combining mark). Those are all NFC_Quick_Check=Yes with
// combining class 0, so NFC leaves such text unchanged.
bool IsTriviallyNfc(std::string_view text);

}  // namespace ocular::tokenizer

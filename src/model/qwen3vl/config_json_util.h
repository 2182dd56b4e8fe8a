// Strict typed reads of config.json-style objects. Every error names the key path
// ("text_config.hidden_size: must be an integer") and never echoes the value.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"

namespace ocular::qwen3vl::json_util {

// Parses `text` as a JSON object (no exceptions escape; depth is bounded by the caller's
// file sizes). `what` names the file in errors.
Result<nlohmann::json> ParseObject(std::string_view text, std::string_view what);
// Reads a whole (small) file; NotFound / ResourceExhausted above `max_bytes`.
Result<std::string> ReadSmallFile(const std::string& path, uint64_t max_bytes);

// `obj[key]` when present and not null.
const nlohmann::json* Find(const nlohmann::json& obj, std::string_view key);

// Integer field (JSON integer, no fractions or booleans). Missing -> NotFound unless a default
// is given.
Result<int64_t> GetInt(const nlohmann::json& obj, std::string_view key, std::string_view path);
Result<int64_t> GetInt(const nlohmann::json& obj, std::string_view key, std::string_view path,
                       int64_t default_value);
// Number field (integer or float), must be finite.
Result<double> GetNumber(const nlohmann::json& obj, std::string_view key, std::string_view path);
Result<double> GetNumber(const nlohmann::json& obj, std::string_view key, std::string_view path,
                         double default_value);
Result<bool> GetBool(const nlohmann::json& obj, std::string_view key, std::string_view path,
                     bool default_value);
Result<std::string> GetString(const nlohmann::json& obj, std::string_view key,
                              std::string_view path, std::string default_value);
// Array of integers (at most `max_len` entries).
Result<std::vector<int64_t>> GetIntArray(const nlohmann::json& obj, std::string_view key,
                                         std::string_view path, size_t max_len);
Result<std::vector<double>> GetNumberArray(const nlohmann::json& obj, std::string_view key,
                                           std::string_view path, size_t max_len);
// An integer or a list of integers (e.g. eos_token_id).
Result<std::vector<int64_t>> GetIntOrIntArray(const nlohmann::json& obj, std::string_view key,
                                              std::string_view path, size_t max_len);

std::string Join(std::string_view path, std::string_view key);

}  // namespace ocular::qwen3vl::json_util

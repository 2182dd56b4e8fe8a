#include "model/qwen3vl/config_json_util.h"

#include <cmath>
#include <fstream>
#include <sstream>
#include <system_error>
#include <filesystem>

namespace ocular::qwen3vl::json_util {

std::string Join(std::string_view path, std::string_view key) {
  if (path.empty()) return std::string(key);
  return std::string(path) + "." + std::string(key);
}

Result<nlohmann::json> ParseObject(std::string_view text, std::string_view what) {
  nlohmann::json j = nlohmann::json::parse(text, /*cb=*/nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return InvalidArgument(std::string(what) + ": not valid JSON");
  if (!j.is_object()) return InvalidArgument(std::string(what) + ": not a JSON object");
  return j;
}

Result<std::string> ReadSmallFile(const std::string& path, uint64_t max_bytes) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return NotFound(path + ": no such file");
  uint64_t size = std::filesystem::file_size(path, ec);
  if (ec) return NotFound(path + ": cannot stat");
  if (size > max_bytes) return ResourceExhausted(path + ": file too large");
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound(path + ": cannot open");
  std::ostringstream ss;
  ss << in.rdbuf();
  if (!in && !in.eof()) return DataLoss(path + ": read error");
  return ss.str();
}

const nlohmann::json* Find(const nlohmann::json& obj, std::string_view key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

namespace {

Result<int64_t> IntValue(const nlohmann::json& v, const std::string& name) {
  if (v.is_number_unsigned()) {
    uint64_t u = v.get<uint64_t>();
    if (u > static_cast<uint64_t>(INT64_MAX)) return OutOfRange(name + ": value too large");
    return static_cast<int64_t>(u);
  }
  if (v.is_number_integer()) return v.get<int64_t>();
  return InvalidArgument(name + ": must be an integer");
}

Result<double> NumberValue(const nlohmann::json& v, const std::string& name) {
  if (!v.is_number()) return InvalidArgument(name + ": must be a number");
  double d = v.get<double>();
  if (!std::isfinite(d)) return InvalidArgument(name + ": must be finite");
  return d;
}

}  // namespace

Result<int64_t> GetInt(const nlohmann::json& obj, std::string_view key, std::string_view path) {
  const nlohmann::json* v = Find(obj, key);
  if (v == nullptr) return NotFound(Join(path, key) + ": missing");
  return IntValue(*v, Join(path, key));
}

Result<int64_t> GetInt(const nlohmann::json& obj, std::string_view key, std::string_view path,
                       int64_t default_value) {
  const nlohmann::json* v = Find(obj, key);
  if (v == nullptr) return default_value;
  return IntValue(*v, Join(path, key));
}

Result<double> GetNumber(const nlohmann::json& obj, std::string_view key, std::string_view path) {
  const nlohmann::json* v = Find(obj, key);
  if (v == nullptr) return NotFound(Join(path, key) + ": missing");
  return NumberValue(*v, Join(path, key));
}

Result<double> GetNumber(const nlohmann::json& obj, std::string_view key, std::string_view path,
                         double default_value) {
  const nlohmann::json* v = Find(obj, key);
  if (v == nullptr) return default_value;
  return NumberValue(*v, Join(path, key));
}

Result<bool> GetBool(const nlohmann::json& obj, std::string_view key, std::string_view path,
                     bool default_value) {
  const nlohmann::json* v = Find(obj, key);
  if (v == nullptr) return default_value;
  if (!v->is_boolean()) return InvalidArgument(Join(path, key) + ": must be true or false");
  return v->get<bool>();
}

Result<std::string> GetString(const nlohmann::json& obj, std::string_view key,
                              std::string_view path, std::string default_value) {
  const nlohmann::json* v = Find(obj, key);
  if (v == nullptr) return default_value;
  if (!v->is_string()) return InvalidArgument(Join(path, key) + ": must be a string");
  return v->get<std::string>();
}

Result<std::vector<int64_t>> GetIntArray(const nlohmann::json& obj, std::string_view key,
                                         std::string_view path, size_t max_len) {
  const nlohmann::json* v = Find(obj, key);
  std::string name = Join(path, key);
  if (v == nullptr) return NotFound(name + ": missing");
  if (!v->is_array()) return InvalidArgument(name + ": must be a list of integers");
  if (v->size() > max_len) return OutOfRange(name + ": too many entries");
  std::vector<int64_t> out;
  for (const auto& e : *v) {
    ASSIGN_OR_RETURN(int64_t x, IntValue(e, name));
    out.push_back(x);
  }
  return out;
}

Result<std::vector<double>> GetNumberArray(const nlohmann::json& obj, std::string_view key,
                                           std::string_view path, size_t max_len) {
  const nlohmann::json* v = Find(obj, key);
  std::string name = Join(path, key);
  if (v == nullptr) return NotFound(name + ": missing");
  if (!v->is_array()) return InvalidArgument(name + ": must be a list of numbers");
  if (v->size() > max_len) return OutOfRange(name + ": too many entries");
  std::vector<double> out;
  for (const auto& e : *v) {
    ASSIGN_OR_RETURN(double x, NumberValue(e, name));
    out.push_back(x);
  }
  return out;
}

Result<std::vector<int64_t>> GetIntOrIntArray(const nlohmann::json& obj, std::string_view key,
                                              std::string_view path, size_t max_len) {
  const nlohmann::json* v = Find(obj, key);
  if (v == nullptr) return std::vector<int64_t>{};
  if (v->is_array()) return GetIntArray(obj, key, path, max_len);
  ASSIGN_OR_RETURN(int64_t x, IntValue(*v, Join(path, key)));
  return std::vector<int64_t>{x};
}

}  // namespace ocular::qwen3vl::json_util

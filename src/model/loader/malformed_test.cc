// The malformed-file matrix (RELIABILITY.md "Model files"): every truncation of small valid
// files, and every defect class, built by the test itself. Each case must give a non-OK Status;
// a crash, CHECK or sanitizer report fails the suite.
#include <gtest/gtest.h>

#include <limits>

#include "model/loader/gguf.h"
#include "model/loader/safetensors.h"
#include "model/loader/test_builders.h"

namespace ocular::loader {
namespace {

using test_bytes::GgufHeader;
using test_bytes::GgufTensorInfo;
using test_bytes::RawBytes;
using test_bytes::SafetensorsRaw;

std::vector<uint8_t> SmallSafetensors() {
  SafetensorsWriter w = SafetensorsWriter::CreateInMemory();
  CHECK(w.AddMetadata("format", "pt").ok());
  CHECK(w.AddTensor("a", DType::kBF16, {2, 2}).ok());
  CHECK(w.AddTensor("b", DType::kF32, {3}).ok());
  CHECK(w.WriteHeader().ok());
  CHECK(w.WriteChunk(std::vector<uint8_t>(8 + 12, 1)).ok());
  CHECK(w.Finish().ok());
  return w.TakeBytes();
}

// Tensor sizes are multiples of the alignment so there is no trailing padding: every
// truncation then cuts into something the parser needs.
std::vector<uint8_t> SmallGguf() {
  GgufWriter w = GgufWriter::CreateInMemory();
  CHECK(w.AddMetadata("general.architecture", GgufValue::String("qwen3vl")).ok());
  CHECK(w.AddMetadata("arr", GgufValue::I32Array({1, 2, 3})).ok());
  CHECK(w.AddMetadata("nested", GgufValue::ArrayOfArrays({GgufValue::StringArray({"x"})})).ok());
  CHECK(w.AddTensor("t0", DType::kF32, {2, 4}).ok());
  CHECK(w.AddTensor("t1", DType::kF16, {16}).ok());
  CHECK(w.WriteHeader().ok());
  CHECK(w.WriteChunk(std::vector<uint8_t>(64, 2)).ok());
  CHECK(w.Finish().ok());
  return w.TakeBytes();
}

TEST(Malformed, BaseFilesAreValid) {
  std::vector<uint8_t> st = SmallSafetensors();
  std::vector<uint8_t> gg = SmallGguf();
  EXPECT_TRUE(ParseSafetensors(st).ok());
  auto g = ParseGguf(gg);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(g->tensors().back().file_offset + g->tensors().back().size_bytes, gg.size());
}

TEST(Malformed, EveryTruncationOfSafetensors) {
  std::vector<uint8_t> file = SmallSafetensors();
  for (size_t len = 0; len < file.size(); ++len) {
    // A fresh exact-size copy so ASan sees any read past the truncated end.
    std::vector<uint8_t> cut(file.begin(), file.begin() + static_cast<ptrdiff_t>(len));
    EXPECT_FALSE(ParseSafetensors(cut).ok()) << "length " << len;
  }
}

TEST(Malformed, EveryTruncationOfGguf) {
  std::vector<uint8_t> file = SmallGguf();
  for (size_t len = 0; len < file.size(); ++len) {
    std::vector<uint8_t> cut(file.begin(), file.begin() + static_cast<ptrdiff_t>(len));
    EXPECT_FALSE(ParseGguf(cut).ok()) << "length " << len;
  }
}

// `expect`: a fragment of the message, so each case is shown to fail at the intended check.
void ExpectSafetensorsRejected(std::string_view header, size_t data_bytes, std::string_view why,
                               std::string_view expect = "") {
  auto r = ParseSafetensors(SafetensorsRaw(header, data_bytes));
  ASSERT_FALSE(r.ok()) << why;
  EXPECT_NE(r.status().message().find(expect), std::string::npos)
      << why << ": " << r.status().ToString();
}

TEST(Malformed, SafetensorsHeaderLength) {
  for (uint64_t len : {uint64_t{1} << 63, ~uint64_t{0}, uint64_t{100'000'001},
                       uint64_t{1000}}) {
    RawBytes b;
    b.U64(len).Raw("{}");
    auto r = ParseSafetensors(b.bytes());
    EXPECT_FALSE(r.ok()) << len;
  }
}

TEST(Malformed, SafetensorsJson) {
  const char* headers[] = {
      "", "{", "[]", "\"x\"", "null", "1", "{\"a\":1}", "{\"a\":[]}", "{}}", "{} x",
      "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}",  // unterminated
      "{\"\xff\xfe\":{}}",                                                 // bad UTF-8
      "{\"__metadata__\":{\"k\":1}}", "{\"__metadata__\":[]}",
  };
  for (const char* h : headers) ExpectSafetensorsRejected(h, 0, h);
  // Nesting far beyond any legitimate header (and beyond the depth bound).
  std::string deep = "{\"a\":" + std::string(100000, '[') + std::string(100000, ']') + "}";
  ExpectSafetensorsRejected(deep, 0, "deep nesting");
}

TEST(Malformed, SafetensorsTensorTable) {
  struct Case {
    const char* header;
    size_t data;
    const char* why;
    const char* expect;
  };
  const Case cases[] = {
      {R"({"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,15]}})", 15, "wrong byte length", "does not match"},
      {R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[12,20]}})", 20, "gap", "gap in the data"},
      {R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})", 12, "overlap", "overlaps"},
      {R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[0],"data_offsets":[4,4]}})", 8, "empty tensor inside another", "overlaps"},
      {R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"a":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})", 16, "duplicate name", "duplicate key"},
      {R"({"a":{"dtype":"Q9","shape":[2],"data_offsets":[0,8]}})", 8, "unknown dtype", "unknown dtype"},
      {R"({"a":{"dtype":"F8_E4M3","shape":[2],"data_offsets":[0,2]}})", 2, "fp8", "FP8 weights are not supported"},
      {R"({"a":{"dtype":"f32","shape":[2],"data_offsets":[0,8]}})", 8, "dtype is case-sensitive", "unknown dtype"},
      {R"({"a":{"dtype":7,"shape":[2],"data_offsets":[0,8]}})", 8, "dtype not a string", "\"dtype\""},
      {R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", 8, "negative dim", "non-negative"},
      {R"({"a":{"dtype":"F32","shape":[2.5],"data_offsets":[0,8]}})", 8, "fractional dim", "non-negative"},
      {R"({"a":{"dtype":"F32","shape":["2"],"data_offsets":[0,8]}})", 8, "string dim", "non-negative"},
      {R"({"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,0]}})", 0, "element count overflow", "element count overflows"},
      {R"({"a":{"dtype":"F32","shape":[4611686018427387904],"data_offsets":[0,0]}})", 0, "byte count overflow", "byte size overflows"},
      {R"({"a":{"dtype":"F32","shape":[18446744073709551615],"data_offsets":[0,4]}})", 4, "dim above int64", "non-negative"},
      {R"({"a":{"dtype":"F32","shape":[1,1,1,1,1,1,1,1,1],"data_offsets":[0,4]}})", 4, "rank 9", "rank above"},
      {R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", 8, "offsets past EOF", "past end of file"},
      {R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", 8, "trailing bytes", "tensors cover"},
      {R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", 8, "not starting at 0", "gap"},
      {R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[8,4]}})", 8, "begin > end", "begin <= end"},
      {R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[18446744073709551608,18446744073709551612]}})", 8, "huge offsets", "gap"},
      {R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}})", 4, "negative offset", "begin <= end"},
      {R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0]}})", 4, "one offset", "[begin, end]"},
      {R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4,8]}})", 4, "three offsets", "[begin, end]"},
      {R"({"a":{"shape":[1],"data_offsets":[0,4]}})", 4, "missing dtype", "\"dtype\""},
      {R"({"a":{"dtype":"F32","data_offsets":[0,4]}})", 4, "missing shape", "\"shape\""},
      {R"({"a":{"dtype":"F32","shape":[1]}})", 4, "missing offsets", "[begin, end]"},
      {R"({"a":{"dtype":"F32","shape":1,"data_offsets":[0,4]}})", 4, "shape not array", "\"shape\""},
      {R"({"a":[1,2]})", 4, "entry not object", "not a JSON object"},
  };
  for (const Case& c : cases) ExpectSafetensorsRejected(c.header, c.data, c.why, c.expect);
}

// --- GGUF -----------------------------------------------------------------------------------

void ExpectGgufRejected(const RawBytes& b, std::string_view why, std::string_view expect = "") {
  // Exact-size copy so ASan catches reads past the end.
  std::vector<uint8_t> file = b.bytes();
  auto r = ParseGguf(file);
  ASSERT_FALSE(r.ok()) << why;
  EXPECT_NE(r.status().message().find(expect), std::string::npos)
      << why << ": " << r.status().ToString();
}

// A file with one f32 [4] tensor and the given extra metadata writer and tensor-info tweaks.
RawBytes OneTensorFile(std::vector<uint64_t> ne, uint32_t type, uint64_t offset,
                       size_t data_bytes = 16) {
  RawBytes b = GgufHeader(3, 1, 0);
  GgufTensorInfo(b, "t", std::move(ne), type, offset);
  b.PadTo(32).Zeros(data_bytes);
  return b;
}

TEST(Malformed, GgufCounts) {
  ExpectGgufRejected(GgufHeader(3, uint64_t{1} << 63, 0), "2^63 tensors", "tensor count");
  ExpectGgufRejected(GgufHeader(3, 0, uint64_t{1} << 63), "2^63 keys", "metadata count");
  ExpectGgufRejected(GgufHeader(3, ~uint64_t{0}, ~uint64_t{0}), "max counts", "exceeds the limit");
  ExpectGgufRejected(GgufHeader(3, 65537, 0), "tensors above the limit", "tensor count");
  ExpectGgufRejected(GgufHeader(3, 0, 65537), "keys above the limit", "metadata count");
  ExpectGgufRejected(GgufHeader(3, 65536, 65536), "counts larger than the file", "counts larger than the file");
  ExpectGgufRejected(GgufHeader(3, 0, 1), "key missing", "counts larger than the file");
}

TEST(Malformed, GgufStrings) {
  RawBytes b = GgufHeader(3, 0, 1);
  b.U64(~uint64_t{0}).Zeros(64);
  ExpectGgufRejected(b, "key length 2^64-1", "exceeds the limit");
  RawBytes c = GgufHeader(3, 0, 1);
  c.Str("k").U32(8).U64((16u << 20) + 1).Zeros(64);
  ExpectGgufRejected(c, "string above 16 MiB", "exceeds the limit");
  RawBytes d = GgufHeader(3, 0, 1);
  d.Str("k").U32(8).U64(1000).Raw("short");
  ExpectGgufRejected(d, "string past EOF", "truncated");
  RawBytes e = GgufHeader(3, 1, 0);
  e.U64(~uint64_t{0}).Zeros(64);
  ExpectGgufRejected(e, "tensor name length 2^64-1", "exceeds the limit");
}

TEST(Malformed, GgufArrays) {
  RawBytes a = GgufHeader(3, 0, 1);
  a.Str("k").U32(9).U32(0).U64(uint64_t{1} << 63);
  ExpectGgufRejected(a, "array count 2^63", "exceeds the limit");
  RawBytes b = GgufHeader(3, 0, 1);
  b.Str("k").U32(9).U32(0).U64((64u << 20) + 1);
  ExpectGgufRejected(b, "array above 64 Mi elements", "exceeds the limit");
  RawBytes c = GgufHeader(3, 0, 1);
  c.Str("k").U32(9).U32(8).U64(1'000'000).Str("x");
  ExpectGgufRejected(c, "string array count larger than the file", "count larger than the rest");
  RawBytes d = GgufHeader(3, 0, 1);
  d.Str("k").U32(9).U32(6).U64(64u << 20).Zeros(64);
  ExpectGgufRejected(d, "f32 array at the element limit but past EOF", "count larger than the rest");
  RawBytes e = GgufHeader(3, 0, 1);
  e.Str("k").U32(9).U32(13).U64(0);
  ExpectGgufRejected(e, "unknown element type", "unknown array element type");
  RawBytes f = GgufHeader(3, 0, 1);
  f.Str("k").U32(9);
  for (int i = 0; i < 20; ++i) f.U32(9).U64(1);
  f.U32(0).U64(0);
  ExpectGgufRejected(f, "arrays nested too deep", "nested deeper");
  RawBytes g = GgufHeader(3, 0, 1);
  g.Str("k").U32(9).U32(9).U64(1000).Zeros(64);
  ExpectGgufRejected(g, "nested array count past EOF", "count larger than the rest");
}

TEST(Malformed, GgufMetadataTable) {
  RawBytes a = GgufHeader(3, 0, 1);
  a.Str("k").U32(13).U8(0);
  ExpectGgufRejected(a, "unknown value type", "unknown value type");
  RawBytes b = GgufHeader(3, 0, 2);
  b.Str("k").U32(0).U8(1).Str("k").U32(0).U8(2);
  ExpectGgufRejected(b, "duplicate key", "duplicate metadata key");
  RawBytes c = GgufHeader(3, 0, 1);
  c.Str("k").U32(10).U32(1);
  ExpectGgufRejected(c, "truncated u64", "truncated");
  for (uint32_t align : {0u, 3u, 48u, 1u << 21, 0x80000000u}) {
    RawBytes d = GgufHeader(3, 0, 1);
    d.Str("general.alignment").U32(4).U32(align);
    ExpectGgufRejected(d, "bad alignment " + std::to_string(align), "general.alignment");
  }
  RawBytes e = GgufHeader(3, 0, 1);
  e.Str("general.alignment").U32(8).Str("32");
  ExpectGgufRejected(e, "alignment as a string", "general.alignment");
  RawBytes f = GgufHeader(3, 0, 1);
  f.Str("general.alignment").U32(5).U32(static_cast<uint32_t>(-32));
  ExpectGgufRejected(f, "negative alignment", "general.alignment");
}

TEST(Malformed, GgufTensorInfos) {
  ExpectGgufRejected(OneTensorFile({}, 0, 0), "zero dims", "must be 1..4");
  ExpectGgufRejected(OneTensorFile({1, 1, 1, 1, 4}, 0, 0), "five dims", "must be 1..4");
  ExpectGgufRejected(OneTensorFile({4, 0}, 0, 0), "zero dim", "zero or too large");
  ExpectGgufRejected(OneTensorFile({uint64_t{1} << 63}, 0, 0), "dim 2^63", "zero or too large");
  ExpectGgufRejected(OneTensorFile({uint64_t{1} << 32, uint64_t{1} << 32}, 0, 0),
                     "element count overflow", "element count overflows");
  ExpectGgufRejected(OneTensorFile({uint64_t{1} << 62}, 0, 0), "byte count overflow", "byte size overflows");
  ExpectGgufRejected(OneTensorFile({4}, 99, 0), "unknown type id", "unknown tensor type");
  ExpectGgufRejected(OneTensorFile({4}, 4, 0), "removed type id 4", "unknown tensor type");
  ExpectGgufRejected(OneTensorFile({33}, 8, 0), "q8_0 row not a whole number of blocks", "whole number");
  ExpectGgufRejected(OneTensorFile({4}, 0, 1), "unaligned offset", "multiple of the alignment");
  ExpectGgufRejected(OneTensorFile({4}, 0, 32), "offset past EOF", "past end of file");
  ExpectGgufRejected(OneTensorFile({4}, 0, ~uint64_t{0} - 31), "offset + size overflows", "past end of file");
  ExpectGgufRejected(OneTensorFile({8}, 0, 0), "data past EOF", "past end of file");
  ExpectGgufRejected(OneTensorFile({4}, 0, 0, 0), "no data section at all", "past end of file");
  RawBytes nd = GgufHeader(3, 1, 0);
  nd.Str("t").U32(0xffffffffu).Zeros(64);
  ExpectGgufRejected(nd, "n_dims 2^32-1", "must be 1..4");

  RawBytes dup = GgufHeader(3, 2, 0);
  GgufTensorInfo(dup, "t", {4}, 0, 0);
  GgufTensorInfo(dup, "t", {4}, 0, 32);
  dup.PadTo(32).Zeros(64);
  ExpectGgufRejected(dup, "duplicate tensor names", "duplicate tensor name");

  RawBytes overlap = GgufHeader(3, 2, 0);
  GgufTensorInfo(overlap, "a", {16}, 0, 0);
  GgufTensorInfo(overlap, "b", {16}, 0, 32);
  overlap.PadTo(32).Zeros(128);
  ExpectGgufRejected(overlap, "overlapping tensors", "overlaps");

  RawBytes same = GgufHeader(3, 2, 0);
  GgufTensorInfo(same, "a", {4}, 0, 0);
  GgufTensorInfo(same, "b", {4}, 0, 0);
  same.PadTo(32).Zeros(32);
  ExpectGgufRejected(same, "two tensors at one offset", "overlaps");
}

// Control: the builder itself produces files the parser accepts, so the rejections above are
// caused by the defect each case introduces.
TEST(Malformed, GgufBuilderControl) {
  std::vector<uint8_t> ok = OneTensorFile({4}, 0, 0).bytes();
  EXPECT_TRUE(ParseGguf(ok).ok());
  RawBytes two = GgufHeader(3, 2, 0);
  GgufTensorInfo(two, "a", {4}, 0, 0);
  GgufTensorInfo(two, "b", {4}, 0, 32);
  two.PadTo(32).Zeros(48);
  std::vector<uint8_t> two_bytes = two.bytes();
  EXPECT_TRUE(ParseGguf(two_bytes).ok());
  std::vector<uint8_t> st = SafetensorsRaw(
      R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})",
      16);
  EXPECT_TRUE(ParseSafetensors(st).ok());
}

}  // namespace
}  // namespace ocular::loader

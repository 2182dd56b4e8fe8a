#include "model/loader/gguf.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "model/loader/test_builders.h"
#include "tests/support/golden.h"

namespace ocular::loader {
namespace {

using test_bytes::GgufHeader;
using test_bytes::GgufTensorInfo;
using test_bytes::RawBytes;

// A v3 file written field by field (independent of GgufWriter): one key of every scalar type,
// a string, arrays (numeric, string, nested), two tensors.
std::vector<uint8_t> HandBuiltGguf(uint32_t version = 3) {
  RawBytes b = GgufHeader(version, 2, 17);
  b.Str("k.u8").U32(0).U8(200);
  b.Str("k.i8").U32(1).Put<int8_t>(-5);
  b.Str("k.u16").U32(2).Put<uint16_t>(60000);
  b.Str("k.i16").U32(3).Put<int16_t>(-30000);
  b.Str("k.u32").U32(4).U32(4000000000u);
  b.Str("k.i32").U32(5).Put<int32_t>(-7);
  b.Str("k.f32").U32(6).Put<float>(1.5f);
  b.Str("k.bool").U32(7).U8(1);
  b.Str("k.str").U32(8).Str("hello");
  b.Str("k.u64").U32(10).U64(1ull << 40);
  b.Str("k.i64").U32(11).Put<int64_t>(-(1ll << 40));
  b.Str("k.f64").U32(12).Put<double>(0.25);
  b.Str("k.arr_i32").U32(9).U32(5).U64(3).Put<int32_t>(6).Put<int32_t>(5).Put<int32_t>(-1);
  b.Str("k.arr_str").U32(9).U32(8).U64(2).Str("a").Str("bc");
  b.Str("k.arr_bool").U32(9).U32(7).U64(2).U8(0).U8(1);
  // [[1, 2], []] as u8 arrays.
  b.Str("k.nested").U32(9).U32(9).U64(2);
  b.U32(0).U64(2).U8(1).U8(2);
  b.U32(0).U64(0);
  b.Str("general.alignment").U32(4).U32(64);
  // f32 [2, 3] (ne = [3, 2]) at 0, q8_0 [1, 32] at 64.
  GgufTensorInfo(b, "w.f32", {3, 2}, 0, 0);
  GgufTensorInfo(b, "w.q8", {32}, 8, 64);
  b.PadTo(64);
  for (int i = 0; i < 6; ++i) b.Put<float>(static_cast<float>(i));
  b.Zeros(64 - 24);
  b.Put<uint16_t>(0x3c00);  // q8_0 scale 1.0 (f16)
  for (int i = 0; i < 32; ++i) b.Put<int8_t>(static_cast<int8_t>(i - 16));
  return b.bytes();
}

TEST(GgufParse, HandBuiltFile) {
  for (uint32_t version : {2u, 3u}) {
    std::vector<uint8_t> file = HandBuiltGguf(version);
    auto r = ParseGguf(file);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    const GgufFile& g = *r;
    EXPECT_EQ(g.version(), version);
    EXPECT_EQ(g.alignment(), 64u);
    EXPECT_EQ(g.metadata().size(), 17u);
    EXPECT_EQ(g.metadata()[0].first, "k.u8");
    EXPECT_EQ(*g.GetU32("k.u8"), 200u);
    EXPECT_EQ(*g.GetI32("k.i8"), -5);
    EXPECT_EQ(*g.GetU32("k.u16"), 60000u);
    EXPECT_EQ(*g.GetI32("k.i16"), -30000);
    EXPECT_EQ(*g.GetU32("k.u32"), 4000000000u);
    EXPECT_EQ(*g.GetI64("k.i32"), -7);
    EXPECT_EQ(*g.GetF32("k.f32"), 1.5f);
    EXPECT_EQ(*g.GetBool("k.bool"), true);
    EXPECT_EQ(*g.GetString("k.str"), "hello");
    EXPECT_EQ(*g.GetU64("k.u64"), 1ull << 40);
    EXPECT_EQ(*g.GetI64("k.i64"), -(1ll << 40));
    EXPECT_EQ(*g.GetF32("k.f64"), 0.25f);
    EXPECT_EQ(g.Find("k.u16")->type(), GgufType::kU16);
    EXPECT_EQ(*g.GetI64Array("k.arr_i32"), (std::vector<int64_t>{6, 5, -1}));
    const GgufValue* strs = *g.GetArray("k.arr_str");
    ASSERT_NE(strs->strings(), nullptr);
    EXPECT_EQ(*strs->strings(), (std::vector<std::string>{"a", "bc"}));
    EXPECT_EQ(*g.Find("k.arr_bool")->ToBoolArray(), (std::vector<bool>{false, true}));
    const GgufValue* nested = g.Find("k.nested");
    ASSERT_NE(nested->arrays(), nullptr);
    ASSERT_EQ(nested->array_size(), 2u);
    EXPECT_EQ(*(*nested->arrays())[0].ToI64Array(), (std::vector<int64_t>{1, 2}));
    EXPECT_EQ((*nested->arrays())[1].array_size(), 0u);

    ASSERT_EQ(g.tensors().size(), 2u);
    const TensorInfo* w = g.FindTensor("w.f32");
    ASSERT_NE(w, nullptr);
    EXPECT_EQ(w->shape, (std::vector<int64_t>{2, 3})) << "ne[] reversed";
    EXPECT_EQ(w->dtype, DType::kF32);
    EXPECT_EQ(w->size_bytes, 24u);
    float f5;
    std::memcpy(&f5, w->data + 20, 4);
    EXPECT_EQ(f5, 5.0f);
    const TensorInfo* q = g.FindTensor("w.q8");
    ASSERT_NE(q, nullptr);
    EXPECT_EQ(q->dtype, DType::kQ8_0);
    EXPECT_EQ(q->file_dtype, "q8_0");
    EXPECT_EQ(q->size_bytes, 34u);
    EXPECT_EQ(q->file_offset, g.data_offset() + 64);
    EXPECT_EQ(q->file_offset % 64, 0u);
  }
}

TEST(GgufParse, GettersReportMissingAndWrongTypes) {
  std::vector<uint8_t> file = HandBuiltGguf();
  auto r = ParseGguf(file);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->GetU32("absent").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(r->GetU32("k.str").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r->GetU32("k.i8").status().code(), StatusCode::kInvalidArgument) << "negative";
  EXPECT_EQ(r->GetI32("k.u32").status().code(), StatusCode::kInvalidArgument) << "too large";
  EXPECT_EQ(r->GetString("k.u8").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r->GetArray("k.u8").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r->GetBool("k.u8").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r->GetF32("k.str").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r->FindTensor("absent"), nullptr);
}

TEST(GgufParse, RejectsOtherVersionsAndMagic) {
  std::vector<uint8_t> file = HandBuiltGguf();
  for (uint32_t v : {0u, 1u, 4u, 0x03000000u}) {
    std::memcpy(file.data() + 4, &v, 4);
    EXPECT_FALSE(ParseGguf(file).ok()) << v;
  }
  file = HandBuiltGguf();
  file[0] = 'X';
  EXPECT_FALSE(ParseGguf(file).ok());
}

// Every metadata type, nested arrays, custom alignment, several dtypes: write, parse back.
TEST(GgufWriter, RoundTrip) {
  std::vector<std::pair<std::string, GgufValue>> meta = {
      {"general.alignment", GgufValue::U32(128)},
      {"u8", GgufValue::U8(7)},
      {"i8", GgufValue::I8(-7)},
      {"u16", GgufValue::U16(65535)},
      {"i16", GgufValue::I16(-2)},
      {"u32", GgufValue::U32(123456)},
      {"i32", GgufValue::I32(-123456)},
      {"f32", GgufValue::F32(-0.5f)},
      {"bool", GgufValue::Bool(false)},
      {"string", GgufValue::String("qwen3vl")},
      {"u64", GgufValue::U64(~0ull)},
      {"i64", GgufValue::I64(-1)},
      {"f64", GgufValue::F64(1e300)},
      {"arr.str", GgufValue::StringArray({"x", "", "yz"})},
      {"arr.i32", GgufValue::I32Array({24, 20, 20, 0})},
      {"arr.f32", GgufValue::F32Array({0.5f, 0.25f})},
      {"arr.bool", GgufValue::BoolArray({false, true, true})},
      {"arr.u8", GgufValue::U8Array({})},
      {"arr.nested", GgufValue::ArrayOfArrays({GgufValue::StringArray({"a"}),
                                               GgufValue::ArrayOfArrays({GgufValue::I64Array({5})})})},
  };
  GgufWriter w = GgufWriter::CreateInMemory();
  for (const auto& [k, v] : meta) ASSERT_TRUE(w.AddMetadata(k, v).ok()) << k;
  ASSERT_TRUE(w.AddTensor("t.f32", DType::kF32, {3, 5}).ok());
  ASSERT_TRUE(w.AddTensor("t.f16", DType::kF16, {7}).ok());
  ASSERT_TRUE(w.AddTensor("t.q8", DType::kQ8_0, {2, 64}).ok());
  ASSERT_TRUE(w.AddTensor("t.bf16", DType::kBF16, {1, 1, 2, 2}).ok());
  ASSERT_TRUE(w.WriteHeader().ok());
  std::vector<std::vector<uint8_t>> data = {std::vector<uint8_t>(60), std::vector<uint8_t>(14),
                                            std::vector<uint8_t>(136), std::vector<uint8_t>(8)};
  uint8_t v = 0;
  for (auto& d : data)
    for (auto& x : d) x = ++v;
  ASSERT_TRUE(w.WriteTensor("t.f32", data[0]).ok());
  ASSERT_TRUE(w.WriteChunk(data[1]).ok());
  ASSERT_TRUE(w.WriteChunk(std::span(data[2]).first(100)).ok());
  ASSERT_TRUE(w.WriteChunk(std::span(data[2]).subspan(100)).ok());
  ASSERT_TRUE(w.WriteTensor("t.bf16", data[3]).ok());
  ASSERT_TRUE(w.Finish().ok());
  std::vector<uint8_t> file = w.TakeBytes();

  auto r = ParseGguf(file);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->version(), 3u);
  EXPECT_EQ(r->alignment(), 128u);
  EXPECT_EQ(r->data_offset() % 128, 0u);
  ASSERT_EQ(r->metadata().size(), meta.size());
  for (size_t i = 0; i < meta.size(); ++i) {
    EXPECT_EQ(r->metadata()[i].first, meta[i].first);
    EXPECT_TRUE(r->metadata()[i].second == meta[i].second) << meta[i].first;
  }
  const char* names[] = {"t.f32", "t.f16", "t.q8", "t.bf16"};
  std::vector<std::vector<int64_t>> shapes = {{3, 5}, {7}, {2, 64}, {1, 1, 2, 2}};
  ASSERT_EQ(r->tensors().size(), 4u);
  for (int i = 0; i < 4; ++i) {
    const TensorInfo& t = r->tensors()[i];
    EXPECT_EQ(t.name, names[i]);
    EXPECT_EQ(t.shape, shapes[i]);
    EXPECT_EQ((t.file_offset - r->data_offset()) % 128, 0u);
    ASSERT_EQ(t.size_bytes, data[i].size());
    EXPECT_EQ(std::memcmp(t.data, data[i].data(), t.size_bytes), 0) << names[i];
  }
}

TEST(GgufWriter, FileTargetAndOpen) {
  ocular::testing::TempDir dir;
  auto w = GgufWriter::Create(dir.path() / "x.gguf");
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE(w->AddMetadata("general.architecture", GgufValue::String("test")).ok());
  ASSERT_TRUE(w->AddTensor("a", DType::kF32, {4}).ok());
  ASSERT_TRUE(w->WriteHeader().ok());
  std::vector<uint8_t> bytes(16, 9);
  ASSERT_TRUE(w->WriteTensor("a", bytes).ok());
  ASSERT_TRUE(w->Finish().ok());
  auto g = OpenGguf(dir.path() / "x.gguf");
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(*g->GetString("general.architecture"), "test");
  EXPECT_EQ(g->FindTensor("a")->data[15], 9);
  EXPECT_EQ(OpenGguf(dir.path() / "missing.gguf").status().code(), StatusCode::kNotFound);
}

TEST(GgufWriter, MisuseIsAnError) {
  GgufWriter w = GgufWriter::CreateInMemory();
  EXPECT_TRUE(w.AddMetadata("a", GgufValue::U8(1)).ok());
  EXPECT_FALSE(w.AddMetadata("a", GgufValue::U8(1)).ok());
  EXPECT_FALSE(w.AddMetadata("general.alignment", GgufValue::U32(48)).ok());
  EXPECT_FALSE(w.AddTensor("q", DType::kQ8_0, {33}).ok()) << "partial block";
  EXPECT_FALSE(w.AddTensor("z", DType::kF32, {0}).ok());
  EXPECT_FALSE(w.AddTensor("r", DType::kF32, {1, 1, 1, 1, 1}).ok());
  EXPECT_FALSE(w.AddTensor("r", DType::kF32, {}).ok());
  EXPECT_FALSE(w.AddTensor(std::string(64, 'n'), DType::kF32, {2}).ok()) << "llama.cpp limit";
  EXPECT_FALSE(w.AddTensor("", DType::kF32, {2}).ok());
  ASSERT_TRUE(w.AddTensor("t", DType::kF32, {2}).ok());
  EXPECT_FALSE(w.AddTensor("t", DType::kF32, {2}).ok());
  ASSERT_TRUE(w.WriteHeader().ok());
  EXPECT_FALSE(w.WriteTensor("t", std::vector<uint8_t>(4)).ok());
  EXPECT_FALSE(w.WriteChunk(std::vector<uint8_t>(9)).ok()) << "more than declared";
}

TEST(GgufValue, Conversions) {
  EXPECT_EQ(GgufValue::I32(-1).ToU64(), std::nullopt);
  EXPECT_EQ(GgufValue::U64(1ull << 63).ToI64(), std::nullopt);
  EXPECT_EQ(GgufValue::U64(5).ToI32(), 5);
  EXPECT_EQ(GgufValue::F32(2.0f).ToU32(), std::nullopt) << "floats are not integers";
  EXPECT_EQ(GgufValue::I16(-3).ToF64(), -3.0);
  EXPECT_EQ(GgufValue::Bool(true).ToU32(), std::nullopt);
  EXPECT_EQ(GgufValue::String("s").ToF32(), std::nullopt);
  EXPECT_EQ(GgufValue::I32Array({1, 2}).ArrayElement(1).ToI64(), 2);
  EXPECT_EQ(GgufValue::StringArray({"a"}).ToI64Array(), std::nullopt);
  EXPECT_FALSE(GgufValue::U8(1) == GgufValue::I8(1));
}

}  // namespace
}  // namespace ocular::loader

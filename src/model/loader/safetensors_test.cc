#include "model/loader/safetensors.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "model/loader/test_builders.h"
#include "tests/support/golden.h"

namespace ocular::loader {
namespace {

namespace fs = std::filesystem;
using test_bytes::SafetensorsRaw;
using ocular::testing::TempDir;

std::vector<uint8_t> Iota(size_t n, uint8_t start = 1) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(start + i);
  return v;
}

void WriteText(const fs::path& p, std::string_view text) {
  std::ofstream f(p, std::ios::binary);
  f << text;
}

// A file written by hand (not by SafetensorsWriter): tensors listed out of data order.
TEST(SafetensorsParse, HandBuiltFile) {
  const std::string header =
      R"({"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]},)"
      R"("a":{"dtype":"BF16","shape":[1,2],"data_offsets":[0,4]},)"
      R"("s":{"dtype":"F16","shape":[],"data_offsets":[12,14]},)"
      R"("__metadata__":{"format":"pt"}})";
  std::vector<uint8_t> file = SafetensorsRaw(header, 14);
  auto r = ParseSafetensors(file);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->tensors.size(), 3u);
  // Data-offset order: a, b, s.
  EXPECT_EQ(r->tensors[0].name, "a");
  EXPECT_EQ(r->tensors[0].dtype, DType::kBF16);
  EXPECT_EQ(r->tensors[0].shape, (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(r->tensors[0].data, file.data() + 8 + header.size());
  EXPECT_EQ(r->tensors[1].name, "b");
  EXPECT_EQ(r->tensors[1].size_bytes, 8u);
  EXPECT_EQ(r->tensors[1].file_offset, 8 + header.size() + 4);
  EXPECT_EQ(r->tensors[2].name, "s");
  EXPECT_EQ(r->tensors[2].rank(), 0);
  EXPECT_EQ(r->tensors[2].num_elements, 1u);
  EXPECT_EQ(r->metadata.at("format"), "pt");
  EXPECT_EQ(r->header_bytes, header.size());
}

TEST(SafetensorsParse, EmptyFileWithEmptyHeaderIsValid) {
  auto r = ParseSafetensors(SafetensorsRaw("{}", 0));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->tensors.empty());
}

TEST(SafetensorsParse, UnsupportedDtypesAreFlagged) {
  const std::string header =
      R"({"i":{"dtype":"I32","shape":[1],"data_offsets":[0,4]},)"
      R"("u":{"dtype":"U8","shape":[2],"data_offsets":[4,6]},)"
      R"("b":{"dtype":"BOOL","shape":[2],"data_offsets":[6,8]}})";
  auto r = ParseSafetensors(SafetensorsRaw(header, 8));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  for (const TensorInfo& t : r->tensors) EXPECT_FALSE(t.supported) << t.name;
  EXPECT_EQ(r->tensors[1].file_dtype, "U8");
  EXPECT_EQ(r->tensors[2].file_dtype, "BOOL");
}

TEST(SafetensorsParse, Fp8IsRejectedClearly) {
  for (const char* dt : {"F8_E4M3", "F8_E5M2"}) {
    std::string header = std::string(R"({"w":{"dtype":")") + dt +
                         R"(","shape":[4],"data_offsets":[0,4]}})";
    auto r = ParseSafetensors(SafetensorsRaw(header, 4));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kUnimplemented);
    EXPECT_NE(r.status().message().find("FP8 weights are not supported"), std::string::npos);
  }
}

// Writer output parses back to the same tensors, bytes and metadata.
TEST(SafetensorsWriter, RoundTrip) {
  SafetensorsWriter w = SafetensorsWriter::CreateInMemory();
  ASSERT_TRUE(w.AddMetadata("format", "pt").ok());
  ASSERT_TRUE(w.AddTensor("x.weight", DType::kBF16, {2, 3}).ok());
  ASSERT_TRUE(w.AddTensor("y", DType::kF32, {4}).ok());
  ASSERT_TRUE(w.AddTensor("empty", DType::kF16, {0, 5}).ok());
  ASSERT_TRUE(w.AddTensor("z", DType::kF16, {}).ok());
  ASSERT_TRUE(w.WriteHeader().ok());
  std::vector<uint8_t> x = Iota(12), y = Iota(16, 100), z = Iota(2, 200);
  ASSERT_TRUE(w.WriteTensor("x.weight", x).ok());
  // y in two chunks that also spill into the following tensors.
  ASSERT_TRUE(w.WriteChunk(std::span(y).first(5)).ok());
  std::vector<uint8_t> rest(y.begin() + 5, y.end());
  rest.insert(rest.end(), z.begin(), z.end());
  ASSERT_TRUE(w.WriteChunk(rest).ok());
  ASSERT_TRUE(w.Finish().ok());
  std::vector<uint8_t> file = w.TakeBytes();
  uint64_t header_len;
  std::memcpy(&header_len, file.data(), 8);
  EXPECT_EQ(file.size(), 8 + header_len + 12 + 16 + 2);
  EXPECT_EQ((8 + header_len) % 8, 0u) << "data section starts 8-byte aligned";
  auto r = ParseSafetensors(file);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->tensors.size(), 4u);
  EXPECT_EQ(r->metadata.at("format"), "pt");
  auto check = [&](std::string_view name, DType dt, std::vector<int64_t> shape,
                   const std::vector<uint8_t>& bytes) {
    for (const TensorInfo& t : r->tensors) {
      if (t.name != name) continue;
      EXPECT_EQ(t.dtype, dt);
      EXPECT_EQ(t.shape, shape);
      ASSERT_EQ(t.size_bytes, bytes.size());
      if (!bytes.empty()) {
        EXPECT_EQ(std::memcmp(t.data, bytes.data(), bytes.size()), 0);
      }
      return;
    }
    ADD_FAILURE() << "missing " << name;
  };
  check("x.weight", DType::kBF16, {2, 3}, x);
  check("y", DType::kF32, {4}, y);
  check("empty", DType::kF16, {0, 5}, {});
  check("z", DType::kF16, {}, z);
}

TEST(SafetensorsWriter, MisuseIsAnError) {
  SafetensorsWriter w = SafetensorsWriter::CreateInMemory();
  ASSERT_TRUE(w.AddTensor("a", DType::kF32, {2}).ok());
  EXPECT_FALSE(w.AddTensor("a", DType::kF32, {2}).ok());
  EXPECT_FALSE(w.AddTensor("__metadata__", DType::kF32, {2}).ok());
  EXPECT_FALSE(w.AddTensor("q", DType::kQ8_0, {32}).ok());
  EXPECT_FALSE(w.AddTensor("n", DType::kF32, {-1}).ok());
  {
    SafetensorsWriter bad = SafetensorsWriter::CreateInMemory();
    ASSERT_TRUE(bad.AddTensor("\xff", DType::kF32, {1}).ok());
    EXPECT_FALSE(bad.WriteHeader().ok()) << "invalid UTF-8 name";
  }
  ASSERT_TRUE(w.AddTensor("b", DType::kF32, {1}).ok());
  EXPECT_FALSE(w.WriteChunk(Iota(4)).ok()) << "before WriteHeader";
  ASSERT_TRUE(w.WriteHeader().ok());
  EXPECT_FALSE(w.AddTensor("c", DType::kF32, {1}).ok());
  EXPECT_FALSE(w.WriteTensor("b", Iota(4)).ok()) << "out of order";
  EXPECT_FALSE(w.WriteTensor("a", Iota(4)).ok()) << "wrong size";
  ASSERT_TRUE(w.WriteTensor("a", Iota(8)).ok());
  EXPECT_FALSE(w.Finish().ok()) << "b not written";
}

TEST(SafetensorsWriter, FileTargetAppearsOnlyOnFinish) {
  TempDir dir;
  fs::path out = dir.path() / "m.safetensors";
  {
    auto w = SafetensorsWriter::Create(out);
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE(w->AddTensor("a", DType::kF32, {2}).ok());
    ASSERT_TRUE(w->WriteHeader().ok());
    EXPECT_FALSE(fs::exists(out));
    // Dropped without Finish: nothing is left behind.
  }
  EXPECT_FALSE(fs::exists(out));
  EXPECT_TRUE(fs::is_empty(dir.path()));
  auto w = SafetensorsWriter::Create(out);
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE(w->AddTensor("a", DType::kF32, {2}).ok());
  ASSERT_TRUE(w->WriteHeader().ok());
  ASSERT_TRUE(w->WriteTensor("a", Iota(8)).ok());
  ASSERT_TRUE(w->Finish().ok());
  auto m = SafetensorsModel::Open(out);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  ASSERT_NE(m->Find("a"), nullptr);
  EXPECT_EQ(m->Find("a")->data[7], 8);
  EXPECT_EQ(m->num_shards(), 1u);
}

// Writes a shard with the given tensor names (f32 [2] each) into `dir`.
void WriteShard(const fs::path& path, const std::vector<std::string>& names) {
  auto w = SafetensorsWriter::Create(path);
  ASSERT_TRUE(w.ok());
  for (const auto& n : names) ASSERT_TRUE(w->AddTensor(n, DType::kF32, {2}).ok());
  ASSERT_TRUE(w->WriteHeader().ok());
  uint8_t fill = 1;
  for (const auto& n : names) {
    std::vector<uint8_t> bytes(8, fill++);
    ASSERT_TRUE(w->WriteTensor(n, bytes).ok());
  }
  ASSERT_TRUE(w->Finish().ok());
}

class ShardedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    WriteShard(dir_.path() / "model-00001-of-00002.safetensors", {"a", "b"});
    WriteShard(dir_.path() / "model-00002-of-00002.safetensors", {"c"});
  }
  void WriteIndex(std::string_view weight_map) {
    WriteText(dir_.path() / "model.safetensors.index.json",
              std::string(R"({"metadata":{"total_size":24},"weight_map":)") +
                  std::string(weight_map) + "}");
  }
  TempDir dir_;
};

constexpr const char* kGoodMap =
    R"({"a":"model-00001-of-00002.safetensors","b":"model-00001-of-00002.safetensors",)"
    R"("c":"model-00002-of-00002.safetensors"})";

TEST_F(ShardedTest, OpensAllShards) {
  WriteIndex(kGoodMap);
  auto m = SafetensorsModel::Open(dir_.path());
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->num_shards(), 2u);
  ASSERT_EQ(m->tensors().size(), 3u);
  ASSERT_NE(m->Find("c"), nullptr);
  EXPECT_EQ(m->Find("c")->data[0], 1);
  EXPECT_EQ(m->Find("b")->data[0], 2);
  EXPECT_EQ(m->Find("nope"), nullptr);
  auto via_index = SafetensorsModel::Open(dir_.path() / "model.safetensors.index.json");
  ASSERT_TRUE(via_index.ok()) << via_index.status().ToString();
  EXPECT_EQ(via_index->tensors().size(), 3u);
}

TEST_F(ShardedTest, RejectsPathsOutsideTheFolder) {
  for (const char* shard : {"../model-00002-of-00002.safetensors", "/etc/passwd",
                            "sub/x.safetensors", "..", ".", ""}) {
    WriteIndex(std::string(R"({"a":"model-00001-of-00002.safetensors",)") +
               R"("b":"model-00001-of-00002.safetensors","c":")" + shard + R"("})");
    auto m = SafetensorsModel::Open(dir_.path());
    ASSERT_FALSE(m.ok()) << shard;
    EXPECT_EQ(m.status().code(), StatusCode::kPermissionDenied) << shard;
  }
}

TEST_F(ShardedTest, RejectsSymlinkEscape) {
  TempDir outside;
  WriteShard(outside.path() / "evil.safetensors", {"c"});
  fs::create_symlink(outside.path() / "evil.safetensors", dir_.path() / "link.safetensors");
  WriteIndex(R"({"a":"model-00001-of-00002.safetensors","b":"model-00001-of-00002.safetensors",)"
             R"("c":"link.safetensors"})");
  auto m = SafetensorsModel::Open(dir_.path());
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), StatusCode::kPermissionDenied);
}

TEST_F(ShardedTest, RejectsInconsistentIndex) {
  const char* cases[] = {
      // c named under the wrong shard.
      R"({"a":"model-00001-of-00002.safetensors","b":"model-00001-of-00002.safetensors",)"
      R"("c":"model-00001-of-00002.safetensors"})",
      // b missing from the index.
      R"({"a":"model-00001-of-00002.safetensors","c":"model-00002-of-00002.safetensors"})",
      // d in the index but in no shard.
      R"({"a":"model-00001-of-00002.safetensors","b":"model-00001-of-00002.safetensors",)"
      R"("c":"model-00002-of-00002.safetensors","d":"model-00002-of-00002.safetensors"})",
      // Missing shard file.
      R"({"a":"model-00001-of-00002.safetensors","b":"model-00001-of-00002.safetensors",)"
      R"("c":"model-00003-of-00003.safetensors"})",
      // Not an object / no weight_map / non-string value / duplicate key.
      R"([])", R"({"a":1})", R"({"a":"model-00001-of-00002.safetensors","a":"x"})",
  };
  for (const char* weight_map : cases) {
    WriteIndex(weight_map);
    EXPECT_FALSE(SafetensorsModel::Open(dir_.path()).ok()) << weight_map;
  }
  WriteText(dir_.path() / "model.safetensors.index.json", "{not json");
  EXPECT_FALSE(SafetensorsModel::Open(dir_.path()).ok());
}

TEST_F(ShardedTest, RejectsTensorInTwoShards) {
  WriteShard(dir_.path() / "model-00002-of-00002.safetensors", {"c", "a"});
  WriteIndex(kGoodMap);
  EXPECT_FALSE(SafetensorsModel::Open(dir_.path()).ok());
}

TEST(SafetensorsModel, MissingPaths) {
  TempDir dir;
  EXPECT_EQ(SafetensorsModel::Open(dir.path() / "nope").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(SafetensorsModel::Open(dir.path()).status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace ocular::loader

// The resumable vision encoder: any chunking (rows, heads, one chunk per Advance) gives
// exactly the one-shot Encode() outputs, for a multi-item batch holding a video and for a
// video alone, in f32 and bf16 (tiny-a golden checkpoint and preprocessed golden pixels).
#include <gtest/gtest.h>

#include <cstring>

#include "base/thread_pool.h"
#include "model/qwen3vl/model.h"
#include "tests/support/golden.h"

namespace ocular::qwen3vl {
namespace {

namespace fs = std::filesystem;

struct Item {
  std::vector<float> pixels;  // [t*h*w, 1536] f32
  int64_t t, h, w;
};

bool SameBits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

void ExpectIdentical(const std::vector<VisionOutput>& a, const std::vector<VisionOutput>& b,
                     const std::string& what) {
  ASSERT_EQ(a.size(), b.size()) << what;
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].num_tokens, b[i].num_tokens) << what << " item " << i;
    EXPECT_TRUE(SameBits(a[i].main, b[i].main)) << what << " item " << i << " main";
    ASSERT_EQ(a[i].deepstack.size(), b[i].deepstack.size());
    for (size_t j = 0; j < a[i].deepstack.size(); ++j) {
      EXPECT_TRUE(SameBits(a[i].deepstack[j], b[i].deepstack[j]))
          << what << " item " << i << " deepstack " << j;
    }
  }
}

// The tiny-a golden checkpoint, loaded in the test's precision, and golden pixels.
class VisionResumable : public ::testing::TestWithParam<kernels::Precision> {
 protected:
  void SetUp() override {
    OCULAR_REQUIRE_GOLDEN(golden);
    golden_ = golden;
    auto model = Qwen3VLModel::Load(golden / "models/tiny-a", {}, ctx_, GetParam());
    ASSERT_TRUE(model.ok()) << model.status().ToString();
    model_ = std::move(*model);
  }
  VisionEncoder& enc() { return model_->vision(); }
  std::vector<float> Pixels(const std::string& name) const {
    return testing::ReadF32(golden_ / "preprocess" / (name + ".pixel_values.f32"));
  }

  ThreadPool pool_{2};
  kernels::ComputeContext ctx_{pool_};
  fs::path golden_;
  std::unique_ptr<Qwen3VLModel> model_;
};

TEST_P(VisionResumable, ChunkedEncodeIsBitIdenticalToOneShot) {
  VisionEncoder& enc = this->enc();

  auto load = [&](const std::string& name, int64_t t, int64_t h, int64_t w) {
    Item it{Pixels(name), t, h, w};
    EXPECT_EQ(it.pixels.size(), size_t(t * h * w * 1536)) << name;
    return it;
  };
  std::vector<Item> store;
  store.push_back(load("img_224x224_shapes", 1, 16, 16));
  store.push_back(load("img_97x61_small", 1, 14, 22));
  store.push_back(load("video_a", 2, 6, 8));
  store.push_back(load("video_b", 3, 6, 10));
  auto inputs = [&](std::initializer_list<int> which) {
    std::vector<VisionInput> v;
    for (int i : which) {
      const Item& it = store[i];
      v.push_back({it.pixels.data(), it.t, it.h, it.w});
    }
    return v;
  };
  const std::vector<std::vector<VisionInput>> batches = {inputs({0, 1, 2}), inputs({3})};

  // Few chunkings per batch keep the test short: every chunk switches between oneDNN's
  // OpenMP team and our pool, which costs spin time on a busy machine.
  const bool f32 = GetParam() == kernels::Precision::kF32;
  const std::vector<std::vector<VisionChunking>> chunkings = {
      f32 ? std::vector<VisionChunking>{{36, 1, 40}, {64, 3}} : std::vector<VisionChunking>{{36, 1, 40}},
      {{1, 0}}};
  for (size_t bi = 0; bi < batches.size(); ++bi) {
    const auto& batch = batches[bi];
    auto one_shot = enc.Encode(batch);
    ASSERT_TRUE(one_shot.ok()) << one_shot.status().ToString();
    for (VisionChunking ch : chunkings[bi]) {
      const std::string what = "batch " + std::to_string(bi) + " rows " +
                               std::to_string(ch.rows) + " heads " + std::to_string(ch.heads) +
                               " query rows " + std::to_string(ch.query_rows);
      auto state = enc.Begin(batch, ch);
      ASSERT_TRUE(state.ok());
      VisionEncodeState& s = **state;
      EXPECT_GT(s.bytes(), 0u);
      int64_t chunks = 0;
      double last = -1;
      while (!enc.Advance(s, /*max_chunks=*/1)) {
        ++chunks;
        EXPECT_GE(s.progress(), last);
        last = s.progress();
        ASSERT_LT(chunks, 100000);
      }
      // Really chunked: several chunks per layer (5 layers, 3 phases each).
      EXPECT_GT(chunks, 3 * 5) << what;
      EXPECT_EQ(s.progress(), 1.0);
      ExpectIdentical(*one_shot, enc.Finish(s), what);
    }
  }
  // A deadline in the past still makes progress, one chunk per call.
  auto one_shot = enc.Encode(batches[1]);
  ASSERT_TRUE(one_shot.ok());
  auto state = enc.Begin(batches[1], {36, 2});
  ASSERT_TRUE(state.ok());
  int64_t calls = 0;
  while (!enc.Advance(**state, -1, /*deadline_ns=*/1)) ++calls;
  EXPECT_GT(calls, 3 * 5);
  ExpectIdentical(*one_shot, enc.Finish(**state), "deadline");
}

TEST_P(VisionResumable, DroppingAPartialEncodeIsSafeAndInvalidGridsAreRefused) {
  VisionEncoder& enc = this->enc();
  const std::vector<float> px = Pixels("img_224x224_shapes");
  VisionInput in{px.data(), 1, 16, 16};
  {
    auto s = enc.Begin(std::span<const VisionInput>(&in, 1), {36, 1});
    ASSERT_TRUE(s.ok());
    EXPECT_FALSE(enc.Advance(**s, 5));
    EXPECT_GT((*s)->progress(), 0.0);
    EXPECT_LT((*s)->progress(), 1.0);
  }  // dropped mid-encode (sanitizer builds check nothing leaks)
  VisionInput bad{px.data(), 1, 15, 16};
  EXPECT_EQ(enc.Begin(std::span<const VisionInput>(&bad, 1)).status().code(),
            StatusCode::kInvalidArgument);
}

// The engine's hand-over: the outputs' own buffers, bit for bit the one-shot encode's, and a
// second encode after it (reusing the first one's spare state) gives the same again.
TEST_P(VisionResumable, TakeOutputsHandsOverTheOneShotOutputs) {
  VisionEncoder& enc = this->enc();
  const std::vector<float> px = Pixels("img_224x224_shapes");
  const VisionInput in{px.data(), 1, 16, 16};
  auto one_shot = enc.Encode(std::span<const VisionInput>(&in, 1));
  ASSERT_TRUE(one_shot.ok());
  const VisionOutput& ref = (*one_shot)[0];
  for (int round = 0; round < 2; ++round) {
    auto state = enc.Begin(std::span<const VisionInput>(&in, 1), {36, 1});
    ASSERT_TRUE(state.ok());
    while (!enc.Advance(**state, 4)) {
    }
    VisionOutputBuffers out = enc.TakeOutputs(**state);
    ASSERT_EQ(out.num_tokens, ref.num_tokens);
    ASSERT_EQ(out.main.size(), ref.main.size() * sizeof(float));
    EXPECT_EQ(std::memcmp(out.main.data(), ref.main.data(), out.main.size()), 0) << round;
    ASSERT_EQ(out.deepstack.size(), ref.deepstack.size());
    for (size_t j = 0; j < ref.deepstack.size(); ++j) {
      ASSERT_EQ(out.deepstack[j].size(), ref.deepstack[j].size() * sizeof(float));
      EXPECT_EQ(std::memcmp(out.deepstack[j].data(), ref.deepstack[j].data(),
                            out.deepstack[j].size()),
                0)
          << round << " level " << j;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Precisions, VisionResumable,
                         ::testing::Values(kernels::Precision::kF32, kernels::Precision::kBf16),
                         [](const auto& info) {
                           return info.param == kernels::Precision::kF32 ? "f32" : "bf16";
                         });

}  // namespace
}  // namespace ocular::qwen3vl

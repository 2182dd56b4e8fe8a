// FetchHubModel against a loopback server that mimics the hub's file API (listing with LFS
// sha256, resolve with a CDN redirect and X-Linked-Etag for LFS files, Range requests).
// Expected checksums are computed here from the served bytes (an independent reference).
#include "hub/hub_download.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "base/sha256.h"

namespace ocular::hub {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string Sha(const std::string& s) { return ToHex(Sha256::Hash(s.data(), s.size())); }

std::string ReadAll(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

class FakeHub {
 public:
  // `files`: name -> bytes; names ending in .safetensors/.gguf are served as LFS (redirect).
  explicit FakeHub(std::map<std::string, std::string> files) : files_(std::move(files)) {
    server_.Get(R"(/api/models/([^/]+)/([^/]+)/revision/([^/]+))", [this](const httplib::Request& req, httplib::Response& res) {
      if (req.matches[1] != "acme" || req.matches[2] != "tiny") {
        res.status = 404;
        return;
      }
      json sib = json::array();
      for (const auto& [name, bytes] : files_) {
        json s = {{"rfilename", name}, {"size", bytes.size()}};
        if (IsLfs(name)) s["lfs"] = {{"sha256", Sha(bytes)}, {"size", bytes.size()}};
        sib.push_back(s);
      }
      res.set_content(json{{"id", "acme/tiny"}, {"siblings", sib}}.dump(), "application/json");
    });
    server_.Get(R"(/acme/tiny/resolve/main/(.+))", [this](const httplib::Request& req, httplib::Response& res) {
      const std::string name = req.matches[1];
      Count(name);
      auto it = files_.find(name);
      if (it == files_.end()) {
        res.status = 404;
        return;
      }
      if (IsLfs(name)) {
        res.status = 302;
        res.set_header("X-Linked-Etag", "\"" + Sha(it->second) + "\"");
        res.set_header("Location", "/cdn/" + name);
        return;
      }
      res.set_content(it->second, "application/octet-stream");
    });
    server_.Get(R"(/cdn/(.+))", [this](const httplib::Request& req, httplib::Response& res) {
      const std::string name = req.matches[1];
      Count("cdn:" + name);
      auto it = files_.find(name);
      if (it == files_.end()) {
        res.status = 404;
        return;
      }
      const std::string& bytes = it->second;
      size_t from = 0;
      if (req.has_header("Range")) {
        const std::string r = req.get_header_value("Range");  // bytes=N-
        from = std::stoull(r.substr(6));
        std::lock_guard<std::mutex> lock(mu_);
        ranges_.push_back(from);
      }
      if (from >= bytes.size()) {
        res.status = 416;
        return;
      }
      if (cut_next_.exchange(false) && from == 0) {
        // Declares the full length, sends half and drops the connection.
        const size_t half = bytes.size() / 2;
        res.set_content_provider(bytes.size(), "application/octet-stream",
                                 [bytes, half](size_t offset, size_t, httplib::DataSink& sink) {
                                   if (offset >= half) return false;
                                   sink.write(bytes.data() + offset, half - offset);
                                   return true;
                                 });
        return;
      }
      res.set_content(bytes, "application/octet-stream");  // the library answers Range with 206
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~FakeHub() {
    server_.stop();
    thread_.join();
  }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int hits(const std::string& name) {
    std::lock_guard<std::mutex> lock(mu_);
    return counts_[name];
  }
  std::vector<size_t> ranges() {
    std::lock_guard<std::mutex> lock(mu_);
    return ranges_;
  }
  void CutNextTransfer() { cut_next_.store(true); }

 private:
  static bool IsLfs(const std::string& n) {
    return n.ends_with(".safetensors") || n.ends_with(".gguf") || n.ends_with(".bin");
  }
  void Count(const std::string& n) {
    std::lock_guard<std::mutex> lock(mu_);
    counts_[n]++;
  }
  std::map<std::string, std::string> files_;
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::map<std::string, int> counts_;
  std::vector<size_t> ranges_;
  std::atomic<bool> cut_next_{false};
};

std::string Bytes(size_t n, uint32_t seed) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) {
    seed = seed * 1664525u + 1013904223u;
    s[i] = char(seed >> 24);
  }
  return s;
}

class HubDownloadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cache_ = fs::temp_directory_path() / ("ocular_hub_test_" + std::to_string(::getpid()) + "_" +
                                          ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(cache_);
  }
  void TearDown() override { fs::remove_all(cache_); }
  HubOptions Options(const std::string& endpoint) {
    HubOptions o;
    o.endpoint = endpoint;
    o.cache_dir = cache_;
    o.progress = false;
    return o;
  }
  fs::path cache_;
};

std::map<std::string, std::string> SafetensorsRepo() {
  return {{"config.json", R"({"model_type": "qwen3_vl"})"},
          {"tokenizer.json", R"({"model": {}})"},
          {"model.safetensors", Bytes(300000, 7)},
          {"modeling_qwen.py", "import os\n"},
          {"pytorch_model.bin", Bytes(1000, 9)},
          {"README.md", "# tiny\n"}};
}

TEST(HubRefTest, ParsesAndRejects) {
  auto r = ParseHubRef("hf:Qwen/Qwen3-VL-2B-Instruct");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->owner, "Qwen");
  EXPECT_EQ(r->repo, "Qwen3-VL-2B-Instruct");
  EXPECT_EQ(r->selector, "");
  r = ParseHubRef("hf:ggml-org/Qwen3-VL-2B-Instruct-GGUF:Q4_K_M");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->selector, "Q4_K_M");
  for (const char* bad : {"hf:", "hf:noslash", "hf:a/../b", "hf:../x/y", "hf:a/b:../../etc", "hf:a b/c", "Qwen/x"}) {
    EXPECT_FALSE(ParseHubRef(bad).ok()) << bad;
  }
}

TEST_F(HubDownloadTest, DownloadsWeightsAndConfigOnlyAndVerifiesThem) {
  auto files = SafetensorsRepo();
  FakeHub hub(files);
  auto ref = ParseHubRef("hf:acme/tiny");
  ASSERT_TRUE(ref.ok());
  auto m = FetchHubModel(*ref, Options(hub.endpoint()));
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_FALSE(m->from_cache);
  EXPECT_TRUE(fs::is_directory(m->model));
  for (const char* f : {"config.json", "tokenizer.json", "model.safetensors"}) {
    EXPECT_EQ(ReadAll(m->model / f), files[f]) << f;
  }
  // Never code or pickles, not even a request for them.
  EXPECT_EQ(hub.hits("modeling_qwen.py"), 0);
  EXPECT_EQ(hub.hits("pytorch_model.bin"), 0);
  EXPECT_FALSE(fs::exists(m->model / "modeling_qwen.py"));
  EXPECT_EQ(hub.hits("cdn:model.safetensors"), 1);  // through the redirect

  // Second time: the complete cached copy, no network at all (the hub is gone).
  const fs::path first = m->model;
  auto again = FetchHubModel(*ref, Options("http://127.0.0.1:1"));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(again->from_cache);
  EXPECT_EQ(again->model, first);
}

TEST_F(HubDownloadTest, ResumesAnInterruptedDownloadWithARangeRequest) {
  auto files = SafetensorsRepo();
  FakeHub hub(files);
  auto ref = ParseHubRef("hf:acme/tiny");
  ASSERT_TRUE(ref.ok());
  hub.CutNextTransfer();
  auto m = FetchHubModel(*ref, Options(hub.endpoint()));
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), StatusCode::kUnavailable) << m.status().ToString();
  // Half of the file is kept for resuming.
  fs::path part;
  for (auto& e : fs::recursive_directory_iterator(cache_)) {
    if (e.path().filename() == "model.safetensors.part") part = e.path();
  }
  ASSERT_FALSE(part.empty());
  const size_t kept = fs::file_size(part);
  EXPECT_GT(kept, 0u);
  EXPECT_LT(kept, files["model.safetensors"].size());

  m = FetchHubModel(*ref, Options(hub.endpoint()));
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(ReadAll(m->model / "model.safetensors"), files["model.safetensors"]);
  ASSERT_EQ(hub.ranges().size(), 1u);
  EXPECT_EQ(hub.ranges()[0], kept);  // only the rest was asked for
}

TEST_F(HubDownloadTest, ACorruptPartialFileIsDiscardedAndDownloadedAgain) {
  auto files = SafetensorsRepo();
  FakeHub hub(files);
  auto ref = ParseHubRef("hf:acme/tiny");
  ASSERT_TRUE(ref.ok());
  const fs::path dir = cache_ / "acme/tiny/main";
  fs::create_directories(dir);
  {
    std::ofstream out(dir / "model.safetensors.part", std::ios::binary);
    out << Bytes(1000, 12345);  // wrong bytes: the resumed file fails its checksum
  }
  auto m = FetchHubModel(*ref, Options(hub.endpoint()));
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(ReadAll(m->model / "model.safetensors"), files["model.safetensors"]);
  EXPECT_EQ(hub.hits("cdn:model.safetensors"), 2);  // resumed once, then from the start
  EXPECT_FALSE(fs::exists(dir / "model.safetensors.part"));
}

TEST_F(HubDownloadTest, OfflineWithoutACacheIsOneClearError) {
  auto ref = ParseHubRef("hf:acme/tiny");
  ASSERT_TRUE(ref.ok());
  auto m = FetchHubModel(*ref, Options("http://127.0.0.1:1"));
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), StatusCode::kUnavailable);
  const std::string msg = m.status().message();
  EXPECT_NE(msg.find("hf:acme/tiny"), std::string::npos) << msg;
  EXPECT_NE(msg.find("no complete cached copy"), std::string::npos) << msg;
  EXPECT_EQ(msg.find('\n'), std::string::npos);
  HubOptions o = Options("http://127.0.0.1:1");
  o.offline = true;
  m = FetchHubModel(*ref, o);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("offline"), std::string::npos);
}

TEST_F(HubDownloadTest, UnknownRepositoryIsNotFound) {
  FakeHub hub(SafetensorsRepo());
  auto ref = ParseHubRef("hf:acme/other");
  ASSERT_TRUE(ref.ok());
  auto m = FetchHubModel(*ref, Options(hub.endpoint()));
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), StatusCode::kNotFound) << m.status().ToString();
}

TEST_F(HubDownloadTest, GgufRepositoryPicksTheQuantAndItsProjector) {
  std::map<std::string, std::string> files = {{"Tiny-Q4_K_M.gguf", Bytes(5000, 1)},
                                              {"Tiny-Q8_0.gguf", Bytes(6000, 2)},
                                              {"mmproj-Tiny-F16.gguf", Bytes(4000, 3)},
                                              {"README.md", "x"}};
  FakeHub hub(files);
  auto ref = ParseHubRef("hf:acme/tiny:q4_k_m");
  ASSERT_TRUE(ref.ok());
  auto m = FetchHubModel(*ref, Options(hub.endpoint()));
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->model.filename(), "Tiny-Q4_K_M.gguf");
  EXPECT_EQ(m->mmproj.filename(), "mmproj-Tiny-F16.gguf");
  EXPECT_EQ(ReadAll(m->model), files["Tiny-Q4_K_M.gguf"]);
  EXPECT_EQ(ReadAll(m->mmproj), files["mmproj-Tiny-F16.gguf"]);
  EXPECT_EQ(hub.hits("Tiny-Q8_0.gguf"), 0);
  // Default choice: Q8_0.
  auto ref2 = ParseHubRef("hf:acme/tiny");
  auto m2 = FetchHubModel(*ref2, Options(hub.endpoint()));
  ASSERT_TRUE(m2.ok()) << m2.status().ToString();
  EXPECT_EQ(m2->model.filename(), "Tiny-Q8_0.gguf");
  // A quant the repository does not have.
  auto ref3 = ParseHubRef("hf:acme/tiny:IQ1_S");
  auto m3 = FetchHubModel(*ref3, Options(hub.endpoint()));
  ASSERT_FALSE(m3.ok());
  EXPECT_EQ(m3.status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace ocular::hub

#include "webui/web_assets.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <fstream>
#include <iterator>
#include <regex>
#include <string>

namespace ocular::webui {
namespace {

#if OCULAR_WEB_BUILT
std::string Body(const WebAsset& a) {
  if (a.content_encoding.empty()) return std::string(a.body);
  EXPECT_EQ(a.content_encoding, "gzip");
  z_stream z{};
  EXPECT_EQ(inflateInit2(&z, 15 + 16), Z_OK);
  std::string out(1 << 20, '\0');
  std::string all;
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(a.body.data()));
  z.avail_in = static_cast<uInt>(a.body.size());
  int rc;
  do {
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    rc = inflate(&z, Z_NO_FLUSH);
    all.append(out.data(), out.size() - z.avail_out);
  } while (rc == Z_OK);
  inflateEnd(&z);
  EXPECT_EQ(rc, Z_STREAM_END);
  return all;
}
#endif

TEST(WebAssets, UnknownPathsAreAbsent) {
  EXPECT_EQ(FindWebAsset("/no/such/file.js"), nullptr);
  EXPECT_EQ(FindWebAsset("/v1/models"), nullptr);
  EXPECT_EQ(FindWebAsset("/../index.html"), nullptr);
}

#if OCULAR_WEB_BUILT
TEST(WebAssets, RootIsTheAppPageAndItsScriptsAreEmbedded) {
  const WebAsset* root = FindWebAsset("/");
  ASSERT_NE(root, nullptr);
  EXPECT_EQ(root->path, "/index.html");
  EXPECT_EQ(root->content_type, "text/html; charset=utf-8");
  EXPECT_FALSE(root->immutable);
  EXPECT_EQ(FindWebAsset("/?x=1"), root);
  const std::string html = Body(*root);
  // The page keeps the mount point of the source index.html.
  std::ifstream src(OCULAR_WEB_INDEX);
  const std::string source((std::istreambuf_iterator<char>(src)), std::istreambuf_iterator<char>());
  ASSERT_NE(source.find("<div id=\"app\"></div>"), std::string::npos);
  EXPECT_NE(html.find("<div id=\"app\"></div>"), std::string::npos);
  // Every script and stylesheet the page references is in the table, same-origin and relative.
  std::regex ref(R"re((?:src|href)="\./(assets/[^"]+)")re");
  int refs = 0;
  for (std::sregex_iterator it(html.begin(), html.end(), ref), end; it != end; ++it) {
    std::string path(1, '/');  // appended, not "/" + s: GCC 12 warns falsely on that
    path += (*it)[1].str();
    const WebAsset* a = FindWebAsset(path);
    ASSERT_NE(a, nullptr) << path;
    EXPECT_TRUE(a->immutable);
    EXPECT_FALSE(Body(*a).empty());
    if (path.ends_with(".js")) {
      EXPECT_EQ(a->content_type, "text/javascript; charset=utf-8");
    } else if (path.ends_with(".css")) {
      EXPECT_EQ(a->content_type, "text/css; charset=utf-8");
    }
    ++refs;
  }
  EXPECT_GE(refs, 2);  // the entry script and its stylesheet
  EXPECT_EQ(html.find("http://"), std::string::npos);
  EXPECT_EQ(html.find("https://"), std::string::npos);
}
#else
TEST(WebAssets, EmptyWithoutTheWebBuild) {
  EXPECT_EQ(WebAssetCount(), 0u);
  EXPECT_EQ(FindWebAsset("/"), nullptr);
}
#endif

}  // namespace
}  // namespace ocular::webui

#include <gtest/gtest.h>
#include "model/chat/jinja_template.h"
namespace ocular::chat::jinja { namespace {
TEST(Jinja, Smoke) {
  auto t = Template::Parse("{{ 1 + 2 }}");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  auto r = t->Render(nlohmann::ordered_json::object());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, "3");
}
}}

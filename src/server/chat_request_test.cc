// Request validation without a model: every bad field names its parameter.
#include "server/chat_request.h"

#include <gtest/gtest.h>

namespace ocular::server {
namespace {

using nlohmann::json;

json Base() { return json{{"model", "m"}, {"messages", {{{"role", "user"}, {"content", "hi"}}}}}; }

std::string ParamOf(const json& body) {
  auto r = ParseChatRequest(body, RequestLimits{});
  EXPECT_FALSE(r.ok()) << body.dump();
  return r.ok() ? "<ok>" : ErrorParam(r.status());
}

TEST(ParseChatRequest, ValidRequestIsParsed) {
  json b = Base();
  b["temperature"] = 0.5;
  b["stop"] = "x";
  b["n"] = 2;
  b["logprobs"] = true;
  b["top_logprobs"] = 3;
  b["max_completion_tokens"] = 7;
  b["max_tokens"] = 9;
  b["messages"].push_back({{"role", "assistant"}, {"content", nullptr}});
  b["messages"].push_back({{"role", "user"},
                           {"content", {{{"type", "text"}, {"text", "a"}},
                                        {{"type", "image_url"}, {"image_url", {{"url", "data:x"}}}, {"max_pixels", 5000}}}}});
  auto r = ParseChatRequest(b, RequestLimits{});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->n, 2);
  EXPECT_EQ(*r->max_tokens, 7);  // max_completion_tokens wins
  EXPECT_EQ(r->stop, std::vector<std::string>{"x"});
  EXPECT_EQ(*r->overrides.num_logprobs, 3);
  ASSERT_EQ(r->media.size(), 1u);
  EXPECT_EQ(*r->media[0].max_pixels, 5000);
  EXPECT_EQ(r->messages[2]["content"][1]["type"], "image");
}

TEST(ParseChatRequest, BadFieldsNameTheirParameter) {
  auto with = [](const char* k, json v) {
    json b = Base();
    b[k] = std::move(v);
    return b;
  };
  EXPECT_EQ(ParamOf(with("temperature", -1)), "temperature");
  EXPECT_EQ(ParamOf(with("temperature", "hot")), "temperature");
  EXPECT_EQ(ParamOf(with("top_p", 2)), "top_p");
  EXPECT_EQ(ParamOf(with("top_p", 0)), "top_p");
  EXPECT_EQ(ParamOf(with("max_tokens", 0)), "max_tokens");
  EXPECT_EQ(ParamOf(with("max_completion_tokens", -3)), "max_completion_tokens");
  EXPECT_EQ(ParamOf(with("n", 17)), "n");
  EXPECT_EQ(ParamOf(with("n", 0)), "n");
  EXPECT_EQ(ParamOf(with("top_k", -2)), "top_k");
  EXPECT_EQ(ParamOf(with("min_p", 1.5)), "min_p");
  EXPECT_EQ(ParamOf(with("presence_penalty", 3)), "presence_penalty");
  EXPECT_EQ(ParamOf(with("seed", -1)), "seed");
  EXPECT_EQ(ParamOf(with("stop", json::array({1}))), "stop");
  EXPECT_EQ(ParamOf(with("stop", json(std::vector<std::string>(17, "s")))), "stop");
  json lp = with("logprobs", true);
  lp["top_logprobs"] = 21;
  EXPECT_EQ(ParamOf(lp), "top_logprobs");
  EXPECT_EQ(ParamOf(with("top_logprobs", 2)), "top_logprobs");  // without logprobs
  EXPECT_EQ(ParamOf(with("messages", json::array())), "messages");
  EXPECT_EQ(ParamOf(with("messages", {{{"role", "wizard"}, {"content", "x"}}})), "messages[0].role");
  EXPECT_EQ(ParamOf(with("messages", {{{"role", "user"}, {"content", 5}}})), "messages[0].content");
  EXPECT_EQ(ParamOf(with("messages", {{{"role", "user"}, {"content", {{{"type", "audio"}}}}}})),
            "messages[0].content[0].type");
  EXPECT_EQ(ParamOf(with("messages", {{{"role", "system"},
                                       {"content", {{{"type", "image_url"}, {"image_url", {{"url", "data:"}}}}}}}})),
            "messages[0].content[0]");
  json nine = Base();
  json parts = json::array();
  for (int i = 0; i < 9; ++i) parts.push_back({{"type", "image_url"}, {"image_url", {{"url", "data:x"}}}});
  nine["messages"] = {{{"role", "user"}, {"content", parts}}};
  EXPECT_EQ(ParamOf(nine), "messages[0].content[8]");
}

TEST(ParseJsonBody, DepthAndSyntax) {
  EXPECT_TRUE(ParseJsonBody(R"({"a": [[["x]]]]"]]]})", 64).ok());
  std::string deep(100, '[');
  deep += std::string(100, ']');
  EXPECT_FALSE(ParseJsonBody("{\"a\":" + deep + "}", 64).ok());
  EXPECT_FALSE(ParseJsonBody("{\"a\":", 64).ok());
  EXPECT_FALSE(ParseJsonBody("[1]", 64).ok());
}

}  // namespace
}  // namespace ocular::server

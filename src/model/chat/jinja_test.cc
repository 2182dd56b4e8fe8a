// Jinja-subset interpreter: behaviour against Python Jinja2 (testdata/jinja_cases.json, made by
// testdata/make_jinja_cases.py with HF's environment) and hand-derived cases.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "model/chat/jinja_template.h"
#include "model/chat/jinja_value.h"

namespace ocular::chat::jinja {
namespace {

using Json = nlohmann::ordered_json;

Result<std::string> Render(std::string_view source, const Json& context = Json::object()) {
  ASSIGN_OR_RETURN(Template t, Template::Parse(source));
  return t.Render(context);
}

std::string MustRender(std::string_view source, const Json& context = Json::object()) {
  Result<std::string> r = Render(source, context);
  EXPECT_TRUE(r.ok()) << source << " -> " << r.status().ToString();
  return r.ok() ? *r : std::string();
}

TEST(JinjaOracle, MatchesJinja2OnEveryCase) {
  std::ifstream in(std::string(OCULAR_CHAT_TESTDATA) + "/jinja_cases.json");
  ASSERT_TRUE(in) << "jinja_cases.json missing";
  std::stringstream buffer;
  buffer << in.rdbuf();
  Json data = Json::parse(buffer.str());
  const Json& context = data["context"];
  int checked = 0;
  for (const Json& c : data["cases"]) {
    const std::string tmpl = c["template"].get<std::string>();
    SCOPED_TRACE(tmpl);
    Result<std::string> r = Render(tmpl, context);
    if (c.contains("expected")) {
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      EXPECT_EQ(*r, c["expected"].get<std::string>());
    } else {
      EXPECT_FALSE(r.ok()) << "Jinja2 fails with " << c["error"] << " but we rendered: " << *r;
    }
    ++checked;
  }
  EXPECT_GT(checked, 100);
}

TEST(Jinja, TrimBlocksAndLstripBlocks) {
  // trim_blocks drops the newline after a block tag; lstrip_blocks the indentation before it.
  EXPECT_EQ(MustRender("{% if true %}\nyes\n{% endif %}\n"), "yes\n");
  EXPECT_EQ(MustRender("    {% if true %}\n    x\n    {% endif %}\n"), "    x\n");
  // Variable tags are not trimmed.
  EXPECT_EQ(MustRender("  {{ 'v' }}\n"), "  v");  // the single trailing newline is dropped
  EXPECT_EQ(MustRender("a\n\n"), "a\n");
  EXPECT_EQ(MustRender("a  {{- 'b' -}}  \n c"), "abc");
}

TEST(Jinja, GenerationTagRendersItsBody) {
  EXPECT_EQ(MustRender("{% generation %}gen {{ 1 }}{% endgeneration %}"), "gen 1");
}

TEST(Jinja, NamespaceSurvivesLoopScopes) {
  EXPECT_EQ(MustRender("{% set ns = namespace(found=false) %}{% for x in [1, 2, 3] %}"
                       "{% if x == 2 %}{% set ns.found = true %}{% endif %}{% endfor %}"
                       "{{ ns.found }}"),
            "True");
  // A plain set inside a loop does not leak out.
  EXPECT_EQ(MustRender("{% set v = 0 %}{% for x in [1, 2] %}{% set v = x %}{% endfor %}{{ v }}"),
            "0");
}

TEST(Jinja, ReverseLoopOverMessagesLikeQwen3) {
  Json ctx = {{"messages", Json::array({{{"role", "user"}, {"content", "a"}},
                                        {{"role", "assistant"}, {"content", "b"}},
                                        {{"role", "user"}, {"content", "<tool_response>x</tool_response>"}}})}};
  const char* tmpl =
      "{%- set ns = namespace(multi_step_tool=true, last_query_index=messages|length - 1) %}"
      "{%- for message in messages[::-1] %}"
      "{%- set index = (messages|length - 1) - loop.index0 %}"
      "{%- if ns.multi_step_tool and message.role == \"user\" and message.content is string and "
      "not(message.content.startswith('<tool_response>') and "
      "message.content.endswith('</tool_response>')) %}"
      "{%- set ns.multi_step_tool = false %}{%- set ns.last_query_index = index %}"
      "{%- endif %}{%- endfor %}{{ ns.last_query_index }}";
  EXPECT_EQ(MustRender(tmpl, ctx), "0");
}

TEST(Jinja, ErrorsNameTheLine) {
  Result<std::string> r = Render("line one\n{% if true %}\n{{ 1 + }}\n{% endif %}");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("line 3"), std::string::npos) << r.status().message();

  r = Render("a\nb\n{{ missing.attr }}");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("line 3"), std::string::npos) << r.status().message();

  r = Render("{% if true %}\n{% for x in y %}\n");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("endfor"), std::string::npos) << r.status().message();
}

TEST(Jinja, RaiseExceptionCarriesTheTemplateMessage) {
  Result<std::string> r = Render("{{ raise_exception('System message must be first') }}");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("System message must be first"), std::string::npos);
}

TEST(Jinja, UndefinedSemantics) {
  EXPECT_EQ(MustRender("[{{ x }}][{{ x | length }}][{{ x is defined }}][{{ x ~ 'a' }}]"),
            "[][0][False][a]");
  EXPECT_EQ(MustRender("{% for a in x %}no{% else %}empty{% endfor %}"), "empty");
  EXPECT_EQ(MustRender("{{ d.a }}|{{ d['a'] }}|{{ none_value.a }}|",
                       {{"d", Json::object()}, {"none_value", nullptr}}),
            "|||");
  EXPECT_FALSE(Render("{{ x.y }}").ok());
  EXPECT_FALSE(Render("{{ x + 1 }}").ok());
  EXPECT_FALSE(Render("{{ x | tojson }}").ok());
}

TEST(Jinja, DictMethodsShadowKeysOnAttributeAccessOnly) {
  Json ctx = {{"d", {{"items", "key"}, {"a", 1}}}};
  EXPECT_EQ(MustRender("{{ d['items'] }}", ctx), "key");
  EXPECT_EQ(MustRender("{% for k, v in d.items() %}{{ k }}{{ v }}{% endfor %}", ctx), "itemskeya1");
}

TEST(Jinja, UnicodeStringsIndexByCodePoint) {
  Json ctx = {{"s", "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"}};  // a é € 😀
  EXPECT_EQ(MustRender("{{ s | length }}", ctx), "4");
  EXPECT_EQ(MustRender("{{ s[1] }}", ctx), "\xc3\xa9");
  EXPECT_EQ(MustRender("{{ s[::-1] }}", ctx), "\xf0\x9f\x98\x80\xe2\x82\xac\xc3\xa9" "a");
  EXPECT_EQ(MustRender("{{ s[-1:] }}", ctx), "\xf0\x9f\x98\x80");
}

TEST(Jinja, TojsonMatchesPythonJsonDumps) {
  // json.dumps(..., ensure_ascii=False): ", " and ": " separators, key order kept, non-ASCII raw,
  // control characters as \u00XX, floats as Python repr.
  Json ctx = Json::parse(R"({"v": {"z": "Z\u00fcrich", "a": [1, 2.0, 1e100, -0.5, null, true], "c": "\u0007\n"}})");
  EXPECT_EQ(MustRender("{{ v | tojson }}", ctx),
            "{\"z\": \"Z\xc3\xbcrich\", \"a\": [1, 2.0, 1e+100, -0.5, null, true], "
            "\"c\": \"\\u0007\\n\"}");
}

TEST(JinjaValue, PythonFloatRepr) {
  EXPECT_EQ(PyFloatRepr(0.0), "0.0");
  EXPECT_EQ(PyFloatRepr(-0.0), "-0.0");
  EXPECT_EQ(PyFloatRepr(1.0), "1.0");
  EXPECT_EQ(PyFloatRepr(0.1), "0.1");
  EXPECT_EQ(PyFloatRepr(1e16), "1e+16");
  EXPECT_EQ(PyFloatRepr(9999999999999998.0), "9999999999999998.0");
  EXPECT_EQ(PyFloatRepr(0.0001), "0.0001");
  EXPECT_EQ(PyFloatRepr(0.00001), "1e-05");
  EXPECT_EQ(PyFloatRepr(1.5e-7), "1.5e-07");
  EXPECT_EQ(PyFloatRepr(123.456), "123.456");
  EXPECT_EQ(PyFloatRepr(1.7976931348623157e308), "1.7976931348623157e+308");
  EXPECT_EQ(PyFloatRepr(5e-324), "5e-324");
}

TEST(JinjaValue, PythonStringRepr) {
  EXPECT_EQ(PyStringRepr("abc"), "'abc'");
  EXPECT_EQ(PyStringRepr("it's"), "\"it's\"");
  EXPECT_EQ(PyStringRepr("'\""), "'\\'\"'");
  EXPECT_EQ(PyStringRepr("a\nb\t\\"), "'a\\nb\\t\\\\'");
  EXPECT_EQ(PyStringRepr(std::string("\x01\x7f", 2)), "'\\x01\\x7f'");
  EXPECT_EQ(PyStringRepr("\xc3\xa9"), "'\xc3\xa9'");
}

}  // namespace
}  // namespace ocular::chat::jinja

// GGUF-style vocabulary lists: the thin GGUF adapter and its list validation.
#include "model/tokenizer/vocab_lists.h"

#include <gtest/gtest.h>

#include "model/tokenizer/test_vocab.h"
#ifdef OCULAR_TOKENIZER_HAS_GGUF
#include "model/loader/gguf.h"
#include "model/tokenizer/gguf_tokenizer.h"
#endif

namespace ocular::tokenizer {
namespace {

// The small test vocabulary as GGUF lists: vocab by id, then the added tokens, then padding.
VocabLists SmallLists() {
  const TokenizerSpec spec = testing::SmallVocabSpec();
  VocabLists lists;
  lists.tokens.resize(spec.vocab.size());
  lists.token_types.assign(spec.vocab.size(), static_cast<int32_t>(GgufTokenType::kNormal));
  for (const auto& [token, id] : spec.vocab) lists.tokens[id] = token;
  for (const AddedToken& a : spec.added_tokens) {
    lists.tokens.push_back(a.content);
    lists.token_types.push_back(static_cast<int32_t>(a.special ? GgufTokenType::kControl
                                                               : GgufTokenType::kUserDefined));
  }
  for (int i = 0; i < 5; ++i) {
    lists.tokens.push_back("[PAD" + std::to_string(i) + "]");
    lists.token_types.push_back(static_cast<int32_t>(GgufTokenType::kUnused));
  }
  for (const auto& [l, r] : spec.merges) lists.merges.push_back(l + " " + r);
  lists.pre = PreTokenizerKind::kQwen2;
  return lists;
}

const char* kSample = "the hello world, 你好 <think>and<|end|> 123 e\xCC\x81 \xFF!";

TEST(VocabListsTest, MatchesTheSpecTokenizer) {
  Result<Tokenizer> from_lists = TokenizerFromVocabLists(SmallLists());
  ASSERT_TRUE(from_lists.ok()) << from_lists.status().ToString();
  Result<Tokenizer> from_spec = Tokenizer::Create(testing::SmallVocabSpec());
  ASSERT_TRUE(from_spec.ok());
  EXPECT_EQ(from_lists->Encode(kSample), from_spec->Encode(kSample));
  // Trailing unused (padding) entries are not tokens.
  EXPECT_EQ(from_lists->size(), from_spec->size());
  EXPECT_TRUE(from_lists->nfc());  // qwen2 implies NFC
}

TEST(VocabListsTest, RejectsBadLists) {
  VocabLists l = SmallLists();
  l.token_types.pop_back();
  EXPECT_FALSE(TokenizerFromVocabLists(l).ok());
  l = SmallLists();
  l.token_types[10] = 42;
  EXPECT_FALSE(TokenizerFromVocabLists(l).ok());
  l = SmallLists();
  l.merges.push_back("nospace");
  EXPECT_FALSE(TokenizerFromVocabLists(l).ok());
  l = SmallLists();
  l.merges.push_back("q q");
  EXPECT_FALSE(TokenizerFromVocabLists(l).ok());
  EXPECT_FALSE(PreTokenizerKindFromName("llama-bpe").ok());
  EXPECT_TRUE(PreTokenizerKindFromName("qwen2").ok());
}

#ifdef OCULAR_TOKENIZER_HAS_GGUF
TEST(GgufTokenizerTest, InMemoryGguf) {
  const VocabLists lists = SmallLists();
  loader::GgufWriter w = loader::GgufWriter::CreateInMemory();
  ASSERT_TRUE(w.AddMetadata("tokenizer.ggml.model", loader::GgufValue::String("gpt2")).ok());
  ASSERT_TRUE(w.AddMetadata("tokenizer.ggml.pre", loader::GgufValue::String("qwen2")).ok());
  ASSERT_TRUE(w.AddMetadata("tokenizer.ggml.tokens", loader::GgufValue::StringArray(lists.tokens)).ok());
  ASSERT_TRUE(w.AddMetadata("tokenizer.ggml.token_type", loader::GgufValue::I32Array(lists.token_types)).ok());
  ASSERT_TRUE(w.AddMetadata("tokenizer.ggml.merges", loader::GgufValue::StringArray(lists.merges)).ok());
  ASSERT_TRUE(w.AddMetadata("tokenizer.ggml.eos_token_id", loader::GgufValue::U32(258)).ok());
  ASSERT_TRUE(w.WriteHeader().ok());
  ASSERT_TRUE(w.Finish().ok());
  const std::vector<uint8_t> bytes = w.TakeBytes();
  Result<loader::GgufFile> gguf = loader::ParseGguf(bytes);
  ASSERT_TRUE(gguf.ok()) << gguf.status().ToString();
  Result<Tokenizer> t = LoadTokenizerFromGguf(*gguf);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->Encode(kSample), Tokenizer::Create(testing::SmallVocabSpec())->Encode(kSample));
  EXPECT_EQ(t->eos_id(), 258);
  EXPECT_EQ(t->bos_id(), std::nullopt);
}

TEST(GgufTokenizerTest, WrongModelOrTypes) {
  loader::GgufWriter w = loader::GgufWriter::CreateInMemory();
  ASSERT_TRUE(w.AddMetadata("tokenizer.ggml.model", loader::GgufValue::String("llama")).ok());
  ASSERT_TRUE(w.AddMetadata("tokenizer.ggml.tokens", loader::GgufValue::I32Array({1, 2})).ok());
  ASSERT_TRUE(w.WriteHeader().ok());
  ASSERT_TRUE(w.Finish().ok());
  const std::vector<uint8_t> bytes = w.TakeBytes();
  Result<loader::GgufFile> gguf = loader::ParseGguf(bytes);
  ASSERT_TRUE(gguf.ok());
  Result<Tokenizer> t = LoadTokenizerFromGguf(*gguf);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), StatusCode::kUnimplemented);

  loader::GgufWriter w2 = loader::GgufWriter::CreateInMemory();
  ASSERT_TRUE(w2.AddMetadata("tokenizer.ggml.model", loader::GgufValue::String("gpt2")).ok());
  ASSERT_TRUE(w2.AddMetadata("tokenizer.ggml.tokens", loader::GgufValue::I32Array({1, 2})).ok());
  ASSERT_TRUE(w2.WriteHeader().ok());
  ASSERT_TRUE(w2.Finish().ok());
  const std::vector<uint8_t> bytes2 = w2.TakeBytes();
  Result<loader::GgufFile> gguf2 = loader::ParseGguf(bytes2);
  ASSERT_TRUE(gguf2.ok());
  EXPECT_FALSE(LoadTokenizerFromGguf(*gguf2).ok());  // tokens must be strings
}
#endif

}  // namespace
}  // namespace ocular::tokenizer

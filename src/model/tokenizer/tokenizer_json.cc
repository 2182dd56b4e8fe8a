#include "model/tokenizer/tokenizer_json.h"

#include <nlohmann/json.hpp>

#include <exception>
#include <string>
#include <utility>

#include "base/mapped_file.h"
#include "model/tokenizer/pretokenizer.h"

namespace ocular::tokenizer {

namespace {

using Json = nlohmann::json;

// `obj[key]` when present and not null, else nullptr.
const Json* Field(const Json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

Status OptionalBool(const Json& obj, const char* key, bool* out, const std::string& where) {
  const Json* v = Field(obj, key);
  if (v == nullptr) return OkStatus();
  if (!v->is_boolean()) return InvalidArgument(where + ": '" + key + "' is not a boolean");
  *out = v->get<bool>();
  return OkStatus();
}

Status OptionalString(const Json& obj, const char* key, std::string* out, const std::string& where) {
  const Json* v = Field(obj, key);
  if (v == nullptr) return OkStatus();
  if (!v->is_string()) return InvalidArgument(where + ": '" + key + "' is not a string");
  *out = v->get<std::string>();
  return OkStatus();
}

Result<int32_t> TokenId(const Json& v, const std::string& where) {
  if (!v.is_number_integer()) return InvalidArgument(where + ": id is not an integer");
  const int64_t id = v.is_number_unsigned() && v.get<uint64_t>() > INT64_MAX
                         ? -1
                         : v.get<int64_t>();
  if (id < 0 || id > kMaxTokenId) return InvalidArgument(where + ": id out of range");
  return static_cast<int32_t>(id);
}


// Streaming parse that stores model.vocab and model.merges (99% of a real tokenizer.json:
// 151k entries each) straight into the spec, and builds an ordinary DOM for everything else
// (where those two become null). Building a DOM object with 151k keys costs several times
// more than parsing.
class BulkFieldSax {
 public:
  BulkFieldSax(Json* rest, TokenizerSpec* spec) : dom_(*rest, /*allow_exceptions=*/false), spec_(spec) {}

  const Status& status() const { return status_; }
  bool saw_vocab() const { return saw_vocab_; }
  bool saw_merges() const { return saw_merges_; }

  bool null() { return Scalar([&] { return dom_.null(); }); }
  bool boolean(bool v) { return Scalar([&] { return dom_.boolean(v); }); }
  bool number_float(double v, const std::string& s) {
    return Scalar([&] { return dom_.number_float(v, s); });
  }
  bool binary(Json::binary_t& v) { return Scalar([&] { return dom_.binary(v); }); }
  bool number_integer(int64_t v) {
    if (mode_ == Mode::kVocab) return VocabId(v);
    return Scalar([&] { return dom_.number_integer(v); });
  }
  bool number_unsigned(uint64_t v) {
    if (mode_ == Mode::kVocab) return VocabId(v > static_cast<uint64_t>(kMaxTokenId) ? -1 : static_cast<int64_t>(v));
    return Scalar([&] { return dom_.number_unsigned(v); });
  }
  bool string(std::string& v) {
    if (mode_ == Mode::kMerges) {
      const size_t space = v.find(' ');
      if (space == std::string::npos || space == 0 || space + 1 == v.size() ||
          v.find(' ', space + 1) != std::string::npos) {
        return Fail("model.merges[" + std::to_string(spec_->merges.size()) + "] is not of the form \"a b\"");
      }
      spec_->merges.emplace_back(v.substr(0, space), v.substr(space + 1));
      return true;
    }
    if (mode_ == Mode::kMergePair) {
      if (pair_.size() >= 2) return Fail(MergeShapeError());
      pair_.push_back(std::move(v));
      return true;
    }
    return Scalar([&] { return dom_.string(v); });
  }
  bool key(std::string& k) {
    if (mode_ == Mode::kVocab) {
      key_ = std::move(k);
      return true;
    }
    last_key_ = k;
    return dom_.key(k);
  }
  bool start_object(std::size_t n) {
    if (mode_ != Mode::kNone) return Fail(mode_ == Mode::kVocab ? VocabTypeError() : MergeShapeError());
    if (InModel() && last_key_ == "vocab") {
      mode_ = Mode::kVocab;
      saw_vocab_ = true;
      return dom_.null();
    }
    path_.push_back({ChildKey(), true});
    return dom_.start_object(n);
  }
  bool end_object() {
    if (mode_ == Mode::kVocab) {
      mode_ = Mode::kNone;
      return true;
    }
    path_.pop_back();
    return dom_.end_object();
  }
  bool start_array(std::size_t n) {
    if (mode_ == Mode::kVocab) return Fail(VocabTypeError());
    if (mode_ == Mode::kMergePair) return Fail(MergeShapeError());
    if (mode_ == Mode::kMerges) {
      mode_ = Mode::kMergePair;
      pair_.clear();
      return true;
    }
    if (InModel() && last_key_ == "merges") {
      mode_ = Mode::kMerges;
      saw_merges_ = true;
      return dom_.null();
    }
    path_.push_back({ChildKey(), false});
    return dom_.start_array(n);
  }
  bool end_array() {
    if (mode_ == Mode::kMergePair) {
      if (pair_.size() != 2) return Fail(MergeShapeError());
      spec_->merges.emplace_back(std::move(pair_[0]), std::move(pair_[1]));
      mode_ = Mode::kMerges;
      return true;
    }
    if (mode_ == Mode::kMerges) {
      mode_ = Mode::kNone;
      return true;
    }
    path_.pop_back();
    return dom_.end_array();
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) {
    if (status_.ok()) status_ = InvalidArgument("tokenizer.json: not valid JSON");
    return false;
  }

 private:
  enum class Mode { kNone, kVocab, kMerges, kMergePair };

  struct Frame {
    std::string key;  // the key naming this container in its parent object ("" otherwise)
    bool is_object;
  };

  std::string ChildKey() const {
    return !path_.empty() && path_.back().is_object ? last_key_ : std::string();
  }
  // True when the next value opens directly inside the top-level "model" object.
  bool InModel() const {
    return path_.size() == 2 && path_[0].is_object && path_[1].is_object && path_[1].key == "model";
  }

  template <typename Fn>
  bool Scalar(Fn&& forward) {
    if (mode_ == Mode::kVocab) return Fail(VocabTypeError());
    if (mode_ != Mode::kNone) return Fail(MergeShapeError());
    return forward();
  }
  bool VocabId(int64_t id) {
    if (id < 0 || id > kMaxTokenId) return Fail("model.vocab: id out of range");
    spec_->vocab.emplace_back(std::move(key_), static_cast<int32_t>(id));
    return true;
  }
  std::string VocabTypeError() const { return "model.vocab: id is not an integer"; }
  std::string MergeShapeError() const {
    return "model.merges[" + std::to_string(spec_->merges.size()) +
           "] is neither \"a b\" nor [\"a\", \"b\"]";
  }
  bool Fail(std::string message) {
    status_ = InvalidArgument(std::move(message));
    return false;
  }

  nlohmann::detail::json_sax_dom_parser<Json> dom_;
  TokenizerSpec* spec_;
  Status status_;
  Mode mode_ = Mode::kNone;
  std::vector<Frame> path_;  // every open container, outermost first
  std::string last_key_;
  std::string key_;
  std::vector<std::string> pair_;
  bool saw_vocab_ = false;
  bool saw_merges_ = false;
};

Status ParseModel(const Json& model, bool bulk_vocab, bool bulk_merges, TokenizerSpec* spec) {
  if (!model.is_object()) return InvalidArgument("tokenizer.json: 'model' is not an object");
  std::string type = "BPE";
  RETURN_IF_ERROR(OptionalString(model, "type", &type, "model"));
  if (type != "BPE") return Unimplemented("tokenizer.json: only BPE models are supported");
  bool byte_fallback = false;
  RETURN_IF_ERROR(OptionalBool(model, "byte_fallback", &byte_fallback, "model"));
  if (byte_fallback) return Unimplemented("tokenizer.json: BPE byte_fallback is not supported");
  RETURN_IF_ERROR(OptionalBool(model, "ignore_merges", &spec->ignore_merges, "model"));
  for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"}) {
    std::string affix;
    RETURN_IF_ERROR(OptionalString(model, key, &affix, "model"));
    if (!affix.empty()) return Unimplemented(std::string("tokenizer.json: BPE ") + key + " is not supported");
  }
  if (const Json* dropout = Field(model, "dropout"); dropout != nullptr) {
    if (!dropout->is_number()) return InvalidArgument("model: 'dropout' is not a number");
    if (dropout->get<double>() != 0.0) return Unimplemented("tokenizer.json: BPE dropout is not supported");
  }

  if (!bulk_vocab) {
    const Json* vocab = Field(model, "vocab");
    if (vocab == nullptr || !vocab->is_object()) {
      return InvalidArgument("tokenizer.json: 'model.vocab' is missing or not an object");
    }
    spec->vocab.reserve(vocab->size());
    for (auto it = vocab->begin(); it != vocab->end(); ++it) {
      ASSIGN_OR_RETURN(int32_t id, TokenId(it.value(), "model.vocab"));
      spec->vocab.emplace_back(it.key(), id);
    }
  }

  if (bulk_merges) return OkStatus();
  const Json* merges = Field(model, "merges");
  if (merges == nullptr) return OkStatus();  // a vocab without merges: bytes only
  if (!merges->is_array()) return InvalidArgument("tokenizer.json: 'model.merges' is not an array");
  spec->merges.reserve(merges->size());
  for (size_t i = 0; i < merges->size(); ++i) {
    const Json& m = (*merges)[i];
    const std::string where = "model.merges[" + std::to_string(i) + "]";
    if (m.is_string()) {
      const std::string& s = m.get_ref<const std::string&>();
      const size_t space = s.find(' ');
      if (space == std::string::npos || space == 0 || space + 1 == s.size() ||
          s.find(' ', space + 1) != std::string::npos) {
        return InvalidArgument(where + " is not of the form \"a b\"");
      }
      spec->merges.emplace_back(s.substr(0, space), s.substr(space + 1));
    } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
      spec->merges.emplace_back(m[0].get<std::string>(), m[1].get<std::string>());
    } else {
      return InvalidArgument(where + " is neither \"a b\" nor [\"a\", \"b\"]");
    }
  }
  return OkStatus();
}

Status ParseAddedTokens(const Json& added, TokenizerSpec* spec) {
  if (!added.is_array()) return InvalidArgument("tokenizer.json: 'added_tokens' is not an array");
  if (added.size() > kMaxAddedTokens) return InvalidArgument("tokenizer.json: too many added tokens");
  for (size_t i = 0; i < added.size(); ++i) {
    const Json& a = added[i];
    const std::string where = "added_tokens[" + std::to_string(i) + "]";
    if (!a.is_object()) return InvalidArgument(where + " is not an object");
    AddedToken token;
    const Json* id = Field(a, "id");
    if (id == nullptr) return InvalidArgument(where + ": 'id' is missing");
    ASSIGN_OR_RETURN(token.id, TokenId(*id, where));
    const Json* content = Field(a, "content");
    if (content == nullptr || !content->is_string()) {
      return InvalidArgument(where + ": 'content' is missing or not a string");
    }
    token.content = content->get<std::string>();
    RETURN_IF_ERROR(OptionalBool(a, "special", &token.special, where));
    RETURN_IF_ERROR(OptionalBool(a, "normalized", &token.normalized, where));
    RETURN_IF_ERROR(OptionalBool(a, "lstrip", &token.lstrip, where));
    RETURN_IF_ERROR(OptionalBool(a, "rstrip", &token.rstrip, where));
    RETURN_IF_ERROR(OptionalBool(a, "single_word", &token.single_word, where));
    spec->added_tokens.push_back(std::move(token));
  }
  return OkStatus();
}

Status ParseNormalizer(const Json& n, TokenizerSpec* spec) {
  if (!n.is_object()) return InvalidArgument("tokenizer.json: 'normalizer' is not an object");
  std::string type;
  RETURN_IF_ERROR(OptionalString(n, "type", &type, "normalizer"));
  if (type == "NFC") {
    spec->nfc = true;
    return OkStatus();
  }
  if (type == "Sequence") {
    const Json* list = Field(n, "normalizers");
    if (list == nullptr || !list->is_array()) {
      return InvalidArgument("tokenizer.json: 'normalizer.normalizers' is not an array");
    }
    for (const Json& item : *list) RETURN_IF_ERROR(ParseNormalizer(item, spec));
    return OkStatus();
  }
  return Unimplemented("tokenizer.json: only the NFC normalizer is supported");
}

Status ParseByteLevel(const Json& p, bool alone, TokenizerSpec* spec) {
  bool add_prefix_space = false;
  bool use_regex = true;
  RETURN_IF_ERROR(OptionalBool(p, "add_prefix_space", &add_prefix_space, "pre_tokenizer"));
  RETURN_IF_ERROR(OptionalBool(p, "use_regex", &use_regex, "pre_tokenizer"));
  if (add_prefix_space) return Unimplemented("tokenizer.json: ByteLevel add_prefix_space is not supported");
  if (use_regex) {
    if (!alone) return Unimplemented("tokenizer.json: a Split followed by ByteLevel(use_regex) is not supported");
    spec->split_pattern = std::string(kGpt2Pattern);
  }
  return OkStatus();
}

Status ParseSplit(const Json& p, TokenizerSpec* spec) {
  const Json* pattern = Field(p, "pattern");
  const Json* regex = pattern != nullptr && pattern->is_object() ? Field(*pattern, "Regex") : nullptr;
  if (regex == nullptr || !regex->is_string()) {
    return Unimplemented("tokenizer.json: only Split pre-tokenizers with a Regex pattern are supported");
  }
  std::string behavior;
  bool invert = false;
  RETURN_IF_ERROR(OptionalString(p, "behavior", &behavior, "pre_tokenizer"));
  RETURN_IF_ERROR(OptionalBool(p, "invert", &invert, "pre_tokenizer"));
  if (behavior != "Isolated" || invert) {
    return Unimplemented("tokenizer.json: only Split behavior Isolated (not inverted) is supported");
  }
  if (!spec->split_pattern.empty()) return Unimplemented("tokenizer.json: more than one Split");
  spec->split_pattern = regex->get<std::string>();
  if (spec->split_pattern.empty()) return InvalidArgument("tokenizer.json: empty Split pattern");
  return OkStatus();
}

Status ParsePreTokenizer(const Json& p, TokenizerSpec* spec) {
  if (!p.is_object()) return InvalidArgument("tokenizer.json: 'pre_tokenizer' is not an object");
  std::string type;
  RETURN_IF_ERROR(OptionalString(p, "type", &type, "pre_tokenizer"));
  if (type == "ByteLevel") return ParseByteLevel(p, /*alone=*/true, spec);
  if (type == "Split") return ParseSplit(p, spec);
  if (type != "Sequence") return Unimplemented("tokenizer.json: unsupported pre-tokenizer type");
  const Json* list = Field(p, "pretokenizers");
  if (list == nullptr || !list->is_array()) {
    return InvalidArgument("tokenizer.json: 'pre_tokenizer.pretokenizers' is not an array");
  }
  for (const Json& item : *list) {
    if (!item.is_object()) return InvalidArgument("tokenizer.json: a pre-tokenizer is not an object");
    std::string item_type;
    RETURN_IF_ERROR(OptionalString(item, "type", &item_type, "pre_tokenizer"));
    if (item_type == "Split") {
      RETURN_IF_ERROR(ParseSplit(item, spec));
    } else if (item_type == "ByteLevel") {
      RETURN_IF_ERROR(ParseByteLevel(item, /*alone=*/spec->split_pattern.empty(), spec));
    } else {
      return Unimplemented("tokenizer.json: unsupported pre-tokenizer type in Sequence");
    }
  }
  return OkStatus();
}

Status ParseDecoder(const Json& d) {
  if (!d.is_object()) return InvalidArgument("tokenizer.json: 'decoder' is not an object");
  std::string type;
  RETURN_IF_ERROR(OptionalString(d, "type", &type, "decoder"));
  if (type != "ByteLevel") return Unimplemented("tokenizer.json: only the ByteLevel decoder is supported");
  return OkStatus();
}

Result<TokenizerSpec> ParseDocument(const Json& doc, bool bulk_vocab, bool bulk_merges,
                                    TokenizerSpec spec) {
  if (!doc.is_object()) return InvalidArgument("tokenizer.json: not a JSON object");
  const Json* model = Field(doc, "model");
  if (model == nullptr) return InvalidArgument("tokenizer.json: 'model' is missing");
  RETURN_IF_ERROR(ParseModel(*model, bulk_vocab, bulk_merges, &spec));
  if (const Json* added = Field(doc, "added_tokens")) RETURN_IF_ERROR(ParseAddedTokens(*added, &spec));
  if (const Json* n = Field(doc, "normalizer")) RETURN_IF_ERROR(ParseNormalizer(*n, &spec));
  if (const Json* p = Field(doc, "pre_tokenizer")) RETURN_IF_ERROR(ParsePreTokenizer(*p, &spec));
  if (const Json* d = Field(doc, "decoder")) RETURN_IF_ERROR(ParseDecoder(*d));
  return spec;
}

}  // namespace

Result<TokenizerSpec> ParseTokenizerJson(std::string_view json_text) {
  try {
    Json rest;
    TokenizerSpec spec;
    BulkFieldSax sax(&rest, &spec);
    if (!Json::sax_parse(json_text.begin(), json_text.end(), &sax)) {
      return sax.status().ok() ? InvalidArgument("tokenizer.json: not valid JSON") : sax.status();
    }
    return ParseDocument(rest, sax.saw_vocab(), sax.saw_merges(), std::move(spec));
  } catch (const std::bad_alloc&) {
    return ResourceExhausted("tokenizer.json: out of memory");
  } catch (const std::exception&) {
    return InvalidArgument("tokenizer.json: malformed content");
  }
}

Result<Tokenizer> LoadTokenizerJson(std::string_view json_text, const TokenizerOptions& options) {
  ASSIGN_OR_RETURN(TokenizerSpec spec, ParseTokenizerJson(json_text));
  return Tokenizer::Create(std::move(spec), options);
}

Result<Tokenizer> LoadTokenizerJsonFile(const std::filesystem::path& path,
                                        const TokenizerOptions& options) {
  ASSIGN_OR_RETURN(MappedFile file, MappedFile::Open(path.string()));
  const std::string_view text(reinterpret_cast<const char*>(file.data()), file.size());
  Result<Tokenizer> tokenizer = LoadTokenizerJson(text, options);
  if (!tokenizer.ok()) return tokenizer.status().WithContext(path.filename().string());
  return tokenizer;
}

}  // namespace ocular::tokenizer

#include "model/chat/jinja_lexer.h"

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "model/chat/utf8_util.h"

namespace ocular::chat::jinja {
namespace {

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

Status LexError(int line, std::string_view what) {
  return InvalidArgument("template line " + std::to_string(line) + ": " + std::string(what));
}

// Python's "unicode-escape" decoding of a string literal body.
Result<std::string> DecodeStringLiteral(std::string_view body, int line) {
  std::string out;
  out.reserve(body.size());
  for (size_t i = 0; i < body.size(); ++i) {
    char c = body[i];
    if (c != '\\' || i + 1 >= body.size()) {
      out.push_back(c);
      continue;
    }
    char e = body[++i];
    auto hex = [&](size_t n) -> Result<uint32_t> {
      if (body.size() - i - 1 < n) {
        return LexError(line, "truncated escape in string literal");
      }
      uint32_t v = 0;
      for (size_t k = 1; k <= n; ++k) {
        char h = body[i + k];
        if (!std::isxdigit(static_cast<unsigned char>(h))) {
          return LexError(line, "bad escape in string literal");
        }
        v = v * 16 + static_cast<uint32_t>(std::isdigit(static_cast<unsigned char>(h))
                                               ? h - '0'
                                               : (std::tolower(h) - 'a' + 10));
      }
      i += n;
      return v;
    };
    switch (e) {
      case '\n': break;  // line continuation
      case '\\': out.push_back('\\'); break;
      case '\'': out.push_back('\''); break;
      case '"': out.push_back('"'); break;
      case 'a': out.push_back('\a'); break;
      case 'b': out.push_back('\b'); break;
      case 'f': out.push_back('\f'); break;
      case 'n': out.push_back('\n'); break;
      case 'r': out.push_back('\r'); break;
      case 't': out.push_back('\t'); break;
      case 'v': out.push_back('\v'); break;
      case 'x': {
        ASSIGN_OR_RETURN(uint32_t cp, hex(2));
        AppendUtf8(cp, out);
        break;
      }
      case 'u': {
        ASSIGN_OR_RETURN(uint32_t cp, hex(4));
        AppendUtf8(cp, out);
        break;
      }
      case 'U': {
        ASSIGN_OR_RETURN(uint32_t cp, hex(8));
        if (cp > 0x10FFFF) return LexError(line, "bad escape in string literal");
        AppendUtf8(cp, out);
        break;
      }
      default:
        if (e >= '0' && e <= '7') {
          uint32_t v = static_cast<uint32_t>(e - '0');
          for (int k = 0; k < 2 && i + 1 < body.size() && body[i + 1] >= '0' && body[i + 1] <= '7';
               ++k) {
            v = v * 8 + static_cast<uint32_t>(body[++i] - '0');
          }
          AppendUtf8(v, out);
        } else {
          out.push_back('\\');  // unknown escapes are kept verbatim, as in Python
          out.push_back(e);
        }
    }
  }
  return out;
}

class Lexer {
 public:
  Lexer(std::string_view source, const LexOptions& options) : options_(options) {
    // Jinja2 normalises \r\n and \r to \n and drops one trailing newline.
    src_.reserve(source.size());
    for (size_t i = 0; i < source.size(); ++i) {
      if (source[i] == '\r') {
        src_.push_back('\n');
        if (i + 1 < source.size() && source[i + 1] == '\n') ++i;
      } else {
        src_.push_back(source[i]);
      }
    }
    if (!src_.empty() && src_.back() == '\n') src_.pop_back();
  }

  Result<std::vector<Token>> Run() {
    bool line_starting = true;
    while (pos_ < src_.size()) {
      size_t tag = FindTagStart(pos_);
      std::string text = src_.substr(pos_, tag - pos_);
      if (tag == src_.size()) {
        EmitText(std::move(text), line_);
        pos_ = tag;
        break;
      }
      char kind = src_[tag + 1];
      char sign = tag + 2 < src_.size() ? src_[tag + 2] : '\0';
      if (sign != '-' && sign != '+') sign = '\0';
      int text_line = line_;
      if (sign == '-') {
        size_t end = text.size();
        while (end > 0 && IsSpace(text[end - 1])) --end;
        text.resize(end);
      } else if (sign != '+' && options_.lstrip_blocks && kind != '{') {
        size_t l_pos = text.rfind('\n');
        l_pos = l_pos == std::string::npos ? 0 : l_pos + 1;
        if (l_pos > 0 || line_starting) {
          bool all_space = l_pos < text.size();
          for (size_t i = l_pos; i < text.size(); ++i) {
            if (!IsSpace(text[i])) all_space = false;
          }
          if (all_space) text.resize(l_pos);
        }
      }
      EmitText(std::move(text), text_line);
      Advance(tag);
      pos_ = tag + 2 + (sign != '\0' ? 1 : 0);
      if (kind == '#') {
        RETURN_IF_ERROR(SkipComment());
      } else {
        RETURN_IF_ERROR(LexTag(kind == '%'));
      }
      line_starting = pos_ > 0 && src_[pos_ - 1] == '\n';
      if (tokens_.size() > options_.max_tokens) {
        return LexError(line_, "template has too many tokens");
      }
    }
    Token eof;
    eof.type = TokenType::kEof;
    eof.line = line_;
    tokens_.push_back(std::move(eof));
    return std::move(tokens_);
  }

 private:
  size_t FindTagStart(size_t from) const {
    for (size_t i = from; i + 1 < src_.size(); ++i) {
      if (src_[i] == '{' && (src_[i + 1] == '{' || src_[i + 1] == '%' || src_[i + 1] == '#')) {
        return i;
      }
    }
    return src_.size();
  }

  // Moves the line counter to `to` (pos_ itself is set by the caller).
  void Advance(size_t to) {
    for (size_t i = counted_; i < to; ++i) {
      if (src_[i] == '\n') ++line_;
    }
    if (to > counted_) counted_ = to;
  }

  void EmitText(std::string text, int line) {
    if (text.empty()) return;
    Token t;
    t.type = TokenType::kText;
    t.value = std::move(text);
    t.line = line;
    tokens_.push_back(std::move(t));
  }

  // After a closing delimiter: `-` strips all following whitespace; trim_blocks drops one "\n"
  // after block and comment tags unless `+` was given.
  void AfterTagEnd(char sign, bool is_block_or_comment) {
    if (sign == '-') {
      while (pos_ < src_.size() && IsSpace(src_[pos_])) ++pos_;
    } else if (sign != '+' && is_block_or_comment && options_.trim_blocks && pos_ < src_.size() &&
               src_[pos_] == '\n') {
      ++pos_;
    }
    Advance(pos_);
  }

  Status SkipComment() {
    size_t end = src_.find("#}", pos_);
    if (end == std::string::npos) return LexError(line_, "unterminated comment");
    char sign = (end > pos_ && (src_[end - 1] == '-' || src_[end - 1] == '+')) ? src_[end - 1] : 0;
    pos_ = end + 2;
    AfterTagEnd(sign, true);
    return OkStatus();
  }

  void Push(TokenType type, std::string value) {
    Token t;
    t.type = type;
    t.value = std::move(value);
    t.line = line_;
    tokens_.push_back(std::move(t));
  }

  Status LexTag(bool is_block) {
    Push(is_block ? TokenType::kBlockBegin : TokenType::kVarBegin, "");
    int depth = 0;
    while (true) {
      while (pos_ < src_.size() && IsSpace(src_[pos_])) ++pos_;
      Advance(pos_);
      if (pos_ >= src_.size()) return LexError(line_, "unterminated tag");
      std::string_view rest(src_.data() + pos_, src_.size() - pos_);
      if (depth == 0) {
        const char* end2 = is_block ? "%}" : "}}";
        char sign = 0;
        size_t len = 0;
        if ((rest[0] == '-' || (is_block && rest[0] == '+')) && rest.substr(1, 2) == end2) {
          sign = rest[0];
          len = 3;
        } else if (rest.substr(0, 2) == end2) {
          len = 2;
        }
        if (len > 0) {
          pos_ += len;
          Push(is_block ? TokenType::kBlockEnd : TokenType::kVarEnd, "");
          AfterTagEnd(sign, is_block);
          return OkStatus();
        }
      }
      char c = rest[0];
      if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
        size_t n = 1;
        while (n < rest.size() &&
               (std::isalnum(static_cast<unsigned char>(rest[n])) || rest[n] == '_')) {
          ++n;
        }
        Push(TokenType::kName, std::string(rest.substr(0, n)));
        pos_ += n;
      } else if (std::isdigit(static_cast<unsigned char>(c))) {
        RETURN_IF_ERROR(LexNumber(rest));
      } else if (c == '\'' || c == '"') {
        size_t i = 1;
        while (i < rest.size() && rest[i] != c) {
          if (rest[i] == '\\') ++i;
          ++i;
        }
        if (i >= rest.size()) return LexError(line_, "unterminated string literal");
        ASSIGN_OR_RETURN(std::string decoded, DecodeStringLiteral(rest.substr(1, i - 1), line_));
        Push(TokenType::kString, std::move(decoded));
        pos_ += i + 1;
        Advance(pos_);
      } else {
        static constexpr std::string_view kOps2[] = {"//", "**", "==", "!=", ">=", "<="};
        std::string op;
        for (std::string_view two : kOps2) {
          if (rest.substr(0, 2) == two) op = std::string(two);
        }
        if (op.empty()) {
          if (std::string_view("+-/*%~[](){}><=.:|,;").find(c) == std::string_view::npos) {
            return LexError(line_, "unexpected character in tag");
          }
          op = std::string(1, c);
        }
        if (op == "(" || op == "[" || op == "{") ++depth;
        if (op == ")" || op == "]" || op == "}") {
          if (depth == 0) return LexError(line_, "unbalanced bracket");
          --depth;
        }
        pos_ += op.size();
        Push(TokenType::kOp, std::move(op));
      }
      if (tokens_.size() > options_.max_tokens) {
        return LexError(line_, "template has too many tokens");
      }
    }
  }

  Status LexNumber(std::string_view rest) {
    size_t n = 0;
    std::string digits;
    auto take_digits = [&]() {
      size_t start = n;
      while (n < rest.size() &&
             (std::isdigit(static_cast<unsigned char>(rest[n])) ||
              (rest[n] == '_' && n + 1 < rest.size() &&
               std::isdigit(static_cast<unsigned char>(rest[n + 1])) && n > start))) {
        if (rest[n] != '_') digits.push_back(rest[n]);
        ++n;
      }
    };
    take_digits();
    bool is_float = false;
    if (n + 1 < rest.size() && rest[n] == '.' && std::isdigit(static_cast<unsigned char>(rest[n + 1]))) {
      is_float = true;
      digits.push_back('.');
      ++n;
      take_digits();
    }
    if (n < rest.size() && (rest[n] == 'e' || rest[n] == 'E')) {
      size_t m = n + 1;
      if (m < rest.size() && (rest[m] == '+' || rest[m] == '-')) ++m;
      if (m < rest.size() && std::isdigit(static_cast<unsigned char>(rest[m]))) {
        is_float = true;
        digits.push_back('e');
        digits.append(rest.substr(n + 1, m - n - 1));
        n = m;
        take_digits();
      }
    }
    Token t;
    t.line = line_;
    t.value = std::string(rest.substr(0, n));
    if (is_float) {
      t.type = TokenType::kFloat;
      t.float_value = std::strtod(digits.c_str(), nullptr);
    } else {
      t.type = TokenType::kInt;
      errno = 0;
      char* end = nullptr;
      long long v = std::strtoll(digits.c_str(), &end, 10);
      if (errno == ERANGE) return LexError(line_, "integer literal out of range");
      t.int_value = v;
    }
    tokens_.push_back(std::move(t));
    pos_ += n;
    return OkStatus();
  }

  LexOptions options_;
  std::string src_;
  size_t pos_ = 0;
  size_t counted_ = 0;
  int line_ = 1;
  std::vector<Token> tokens_;
};

}  // namespace

Result<std::vector<Token>> Lex(std::string_view source, const LexOptions& options) {
  return Lexer(source, options).Run();
}

}  // namespace ocular::chat::jinja

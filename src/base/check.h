// CHECK / DCHECK: broken invariants abort with a message (STYLE.md rule 10).
// Input validation never uses these; release builds keep CHECK on, DCHECK is debug-only.
#pragma once

#include <sstream>

namespace ocular::internal {

// Collects the streamed message and aborts in its destructor.
class CheckFailure {
 public:
  CheckFailure(const char* file, int line, const char* condition);
  [[noreturn]] ~CheckFailure();
  std::ostream& stream() { return stream_; }

 private:
  std::ostringstream stream_;
};

// Swallows the stream expression when the check passes.
struct Voidify {
  void operator&(std::ostream&) {}
};

}  // namespace ocular::internal

#define CHECK(cond)                                                 \
  (cond) ? (void)0                                                  \
         : ::ocular::internal::Voidify() &                          \
               ::ocular::internal::CheckFailure(__FILE__, __LINE__, #cond).stream()

#define OCULAR_CHECK_OP(a, b, op) CHECK((a)op(b)) << "(" << (a) << " vs " << (b) << ") "
#define CHECK_EQ(a, b) OCULAR_CHECK_OP(a, b, ==)
#define CHECK_NE(a, b) OCULAR_CHECK_OP(a, b, !=)
#define CHECK_LT(a, b) OCULAR_CHECK_OP(a, b, <)
#define CHECK_LE(a, b) OCULAR_CHECK_OP(a, b, <=)
#define CHECK_GT(a, b) OCULAR_CHECK_OP(a, b, >)
#define CHECK_GE(a, b) OCULAR_CHECK_OP(a, b, >=)

#ifdef NDEBUG
#define DCHECK(cond) \
  while (false) CHECK(cond)
#define DCHECK_EQ(a, b) \
  while (false) CHECK_EQ(a, b)
#define DCHECK_LT(a, b) \
  while (false) CHECK_LT(a, b)
#define DCHECK_LE(a, b) \
  while (false) CHECK_LE(a, b)
#else
#define DCHECK(cond) CHECK(cond)
#define DCHECK_EQ(a, b) CHECK_EQ(a, b)
#define DCHECK_LT(a, b) CHECK_LT(a, b)
#define DCHECK_LE(a, b) CHECK_LE(a, b)
#endif

#include "model/loader/byte_sink.h"

#include <algorithm>
#include <array>
#include <system_error>
#include <utility>

namespace ocular::loader {

Result<ByteSink> ByteSink::OpenFile(const std::filesystem::path& path) {
  ByteSink sink;
  sink.path_ = path;
  sink.tmp_path_ = path;
  sink.tmp_path_ += ".tmp";
  sink.file_ = std::fopen(sink.tmp_path_.c_str(), "wb");
  if (sink.file_ == nullptr) {
    return PermissionDenied("cannot create " + path.filename().string() + " for writing");
  }
  // A large buffer keeps streaming writes efficient without holding tensors in memory.
  std::setvbuf(sink.file_, nullptr, _IOFBF, 1 << 20);
  return sink;
}

ByteSink ByteSink::Memory() { return ByteSink(); }

ByteSink::ByteSink(ByteSink&& o) noexcept
    : file_(std::exchange(o.file_, nullptr)),
      path_(std::move(o.path_)),
      tmp_path_(std::move(o.tmp_path_)),
      memory_(std::move(o.memory_)),
      written_(o.written_) {}

ByteSink& ByteSink::operator=(ByteSink&& o) noexcept {
  if (this != &o) {
    Abandon();
    file_ = std::exchange(o.file_, nullptr);
    path_ = std::move(o.path_);
    tmp_path_ = std::move(o.tmp_path_);
    memory_ = std::move(o.memory_);
    written_ = o.written_;
  }
  return *this;
}

ByteSink::~ByteSink() { Abandon(); }

void ByteSink::Abandon() {
  if (file_ != nullptr) {
    std::fclose(file_);
    file_ = nullptr;
    std::error_code ec;
    std::filesystem::remove(tmp_path_, ec);
  }
}

Status ByteSink::Write(std::span<const uint8_t> bytes) {
  if (bytes.empty()) return OkStatus();
  if (!path_.empty()) {
    if (file_ == nullptr) return FailedPrecondition("write after commit");
    if (std::fwrite(bytes.data(), 1, bytes.size(), file_) != bytes.size()) {
      return Unavailable("write failed for " + path_.filename().string() + " (disk full?)");
    }
  } else {
    memory_.insert(memory_.end(), bytes.begin(), bytes.end());
  }
  written_ += bytes.size();
  return OkStatus();
}

Status ByteSink::WriteZeros(uint64_t n) {
  static constexpr std::array<uint8_t, 4096> kZeros{};
  while (n > 0) {
    uint64_t k = std::min<uint64_t>(n, kZeros.size());
    RETURN_IF_ERROR(Write(std::span<const uint8_t>(kZeros.data(), k)));
    n -= k;
  }
  return OkStatus();
}

Status ByteSink::Commit() {
  if (path_.empty()) return OkStatus();
  if (file_ == nullptr) return FailedPrecondition("already committed");
  bool ok = std::fflush(file_) == 0;
  ok = (std::fclose(file_) == 0) && ok;
  file_ = nullptr;
  std::error_code ec;
  if (!ok) {
    std::filesystem::remove(tmp_path_, ec);
    return Unavailable("write failed for " + path_.filename().string() + " (disk full?)");
  }
  std::filesystem::rename(tmp_path_, path_, ec);
  if (ec) {
    std::filesystem::remove(tmp_path_, ec);
    return Unavailable("cannot move " + path_.filename().string() + " into place");
  }
  return OkStatus();
}

TensorStream::TensorStream(std::vector<std::string> names, std::vector<uint64_t> sizes,
                           uint64_t alignment)
    : names_(std::move(names)), sizes_(std::move(sizes)), alignment_(alignment) {
  CHECK_EQ(names_.size(), sizes_.size());
  CHECK(alignment_ > 0 && (alignment_ & (alignment_ - 1)) == 0);
}

Status TensorStream::FinishCurrentIfFull(ByteSink& sink) {
  // Zero-size tensors complete immediately; loop so they are skipped too.
  while (current_ < sizes_.size() && current_written_ == sizes_[current_]) {
    stream_offset_ += sizes_[current_];
    uint64_t pad = (alignment_ - stream_offset_ % alignment_) % alignment_;
    RETURN_IF_ERROR(sink.WriteZeros(pad));
    stream_offset_ += pad;
    ++current_;
    current_written_ = 0;
  }
  return OkStatus();
}

Status TensorStream::WriteChunk(ByteSink& sink, std::span<const uint8_t> bytes) {
  RETURN_IF_ERROR(FinishCurrentIfFull(sink));
  while (!bytes.empty()) {
    if (current_ >= sizes_.size()) {
      return FailedPrecondition("more tensor bytes written than declared");
    }
    uint64_t room = sizes_[current_] - current_written_;
    uint64_t k = std::min<uint64_t>(room, bytes.size());
    RETURN_IF_ERROR(sink.Write(bytes.first(k)));
    current_written_ += k;
    bytes = bytes.subspan(k);
    RETURN_IF_ERROR(FinishCurrentIfFull(sink));
  }
  return OkStatus();
}

Status TensorStream::WriteTensor(ByteSink& sink, std::string_view name,
                                 std::span<const uint8_t> bytes) {
  RETURN_IF_ERROR(FinishCurrentIfFull(sink));
  if (current_ >= names_.size()) return FailedPrecondition("all tensors already written");
  if (current_written_ != 0) {
    return FailedPrecondition("tensor " + names_[current_] + " is partially written");
  }
  if (names_[current_] != name) {
    return FailedPrecondition("tensors must be written in declaration order: expected " +
                              names_[current_] + ", got " + std::string(name));
  }
  if (bytes.size() != sizes_[current_]) {
    return InvalidArgument("tensor " + names_[current_] + ": expected " +
                           std::to_string(sizes_[current_]) + " bytes, got " +
                           std::to_string(bytes.size()));
  }
  if (bytes.empty()) return FinishCurrentIfFull(sink);
  return WriteChunk(sink, bytes);
}

Status TensorStream::CheckComplete() const {
  // current_ may still point at trailing zero-size tensors; they count as complete.
  for (size_t i = current_; i < sizes_.size(); ++i) {
    uint64_t done = i == current_ ? current_written_ : 0;
    if (done != sizes_[i]) {
      return FailedPrecondition("tensor " + names_[i] + " not completely written");
    }
  }
  return OkStatus();
}

}  // namespace ocular::loader

// The byte input of the DNC file readers: a file descriptor or a memory string, read in
// chunks, inflated with zlib when the data starts with the gzip magic.
#include "dnc/lists/file_detail.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace stopgate::dnc::lists::detail {
namespace {

constexpr std::size_t sniff_bytes = 4;

boost::system::error_code fail(file_errc e, std::string& err, std::string msg) {
  err = std::move(msg);
  return make_error_code(e);
}

// The current errno as an error code, with its text appended to `prefix` in `err`.
boost::system::error_code fail_errno(std::string& err, std::string prefix) {
  const int e = errno;
  err = std::move(prefix) + std::strerror(e);
  return {e, boost::system::generic_category()};
}

}  // namespace

input::~input() {
  if (z_init_) inflateEnd(&z_);
  if (fd_ >= 0) ::close(fd_);
}

boost::system::error_code input::open_file(const std::filesystem::path& p, std::size_t chunk,
                                           std::string& err) {
  path_ = p.string();
  chunk_ = chunk;
  fd_ = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) return fail_errno(err, path_ + ": ");
  struct stat st {};
  if (::fstat(fd_, &st) != 0) return fail_errno(err, path_ + ": ");
  if (S_ISDIR(st.st_mode)) {
    err = path_ + ": is a directory";
    return make_error_code(boost::system::errc::is_a_directory);
  }
  file_size_ = std::uint64_t(st.st_size);
  // Sequential one-pass read: tell the kernel to read ahead aggressively.
  ::posix_fadvise(fd_, 0, 0, POSIX_FADV_SEQUENTIAL);
  return {};
}

void input::open_memory(std::string data, std::size_t chunk) {
  path_ = "(memory)";
  chunk_ = chunk;
  memory_ = std::move(data);
  file_size_ = memory_.size();
  from_memory_ = true;
}

boost::system::result<std::size_t> input::read_raw(char* dst, std::size_t cap, std::string& err) {
  if (raw_eof_) return std::size_t{0};
  cap = std::min(cap, chunk_);
  std::size_t n = 0;
  if (from_memory_) {
    n = std::min(cap, memory_.size() - memory_pos_);
    std::memcpy(dst, memory_.data() + memory_pos_, n);
    memory_pos_ += n;
  } else {
    ssize_t r;
    do r = ::read(fd_, dst, cap);
    while (r < 0 && errno == EINTR);
    if (r < 0) return fail_errno(err, path_ + ": read: ");
    n = std::size_t(r);
  }
  if (n == 0) raw_eof_ = true;
  bytes_in_ += n;
  return n;
}

boost::system::error_code input::sniff(std::string& err) {
  sniffed_ = true;
  in_.reset(new char[chunk_ < sniff_bytes ? sniff_bytes : chunk_]);
  // A tiny chunk size may need several reads to see the magic.
  while (in_len_ < sniff_bytes && !raw_eof_) {
    auto n = read_raw(in_.get() + in_len_, sniff_bytes - in_len_, err);
    if (!n) return n.error();
    in_len_ += *n;
  }
  const auto* b = reinterpret_cast<const unsigned char*>(in_.get());
  if (in_len_ >= 4 && b[0] == 'P' && b[1] == 'K' && b[2] == 3 && b[3] == 4)
    return fail(file_errc::zip_archive, err,
                path_ + ": is a zip archive (FTC downloads are zipped): unzip it first");
  if (in_len_ >= 2 && b[0] == 0x1f && b[1] == 0x8b) {
    gzip_ = true;
    // 15 + 16: a gzip wrapper (not zlib, not raw deflate) with the largest window.
    if (inflateInit2(&z_, 15 + 16) != Z_OK)
      return fail(file_errc::gzip_corrupt, err, path_ + ": cannot initialise zlib");
    z_init_ = true;
    z_.next_in = reinterpret_cast<Bytef*>(in_.get());
    z_.avail_in = uInt(in_len_);
  }
  return {};
}

boost::system::result<std::size_t> input::read(char* dst, std::size_t cap, std::string& err) {
  if (!sniffed_)
    if (auto ec = sniff(err)) return ec;
  if (gzip_) return inflate_some(dst, cap, err);
  // Plain: hand on the sniffed head first, then read straight into the caller's buffer.
  if (in_pos_ < in_len_) {
    const std::size_t n = std::min(cap, in_len_ - in_pos_);
    std::memcpy(dst, in_.get() + in_pos_, n);
    in_pos_ += n;
    return n;
  }
  return read_raw(dst, cap, err);
}

boost::system::result<std::size_t> input::inflate_some(char* dst, std::size_t cap,
                                                       std::string& err) {
  z_.next_out = reinterpret_cast<Bytef*>(dst);
  // zlib counts in uInt; a read never asks for more than a chunk plus a line anyway.
  z_.avail_out = uInt(std::min<std::size_t>(cap, 1u << 30));
  const uInt want = z_.avail_out;
  while (z_.avail_out == want) {
    if (z_.avail_in == 0 && !raw_eof_) {
      auto n = read_raw(in_.get(), chunk_, err);
      if (!n) return n.error();
      z_.next_in = reinterpret_cast<Bytef*>(in_.get());
      z_.avail_in = uInt(*n);
    }
    if (z_member_done_) {
      if (z_.avail_in == 0) return std::size_t{0};  // clean end after the last member
      // Concatenated gzip members (as `cat a.gz b.gz` makes) are one stream.
      if (inflateReset(&z_) != Z_OK)
        return fail(file_errc::gzip_corrupt, err, path_ + ": cannot reset zlib");
      z_member_done_ = false;
    }
    if (z_.avail_in == 0 && raw_eof_)
      return fail(file_errc::gzip_truncated, err,
                  path_ + ": gzip data ends early (truncated file?)");
    const int rc = inflate(&z_, Z_NO_FLUSH);
    if (rc == Z_STREAM_END) {
      z_member_done_ = true;
    } else if (rc == Z_BUF_ERROR) {
      continue;  // no progress without more input; the loop refills or reports truncation
    } else if (rc != Z_OK) {
      return fail(file_errc::gzip_corrupt, err,
                  path_ + ": gzip data is corrupt (" + (z_.msg ? z_.msg : "inflate failed") + ")");
    }
  }
  return std::size_t(want - z_.avail_out);
}

}  // namespace stopgate::dnc::lists::detail

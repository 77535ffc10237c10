#pragma once
// The error for output the machine could not take: the file system is full, over quota, read-only or failing.
// Nothing is wrong with the input, and nothing half-written is left as a final file; the command line turns it
// into one line on stderr and exit status 3, so a scheduler retries it once there is room (a rerun resumes).

#include <stdexcept>
#include <string>
#include <system_error>

namespace r2s {

class OutputError : public std::runtime_error {
 public:
  // file: the path that could not be written; problem: what the system said ("No space left on device").
  OutputError(std::string file, std::string problem);

  const std::string& file() const { return file_; }

 private:
  std::string file_;
};

// Whether `code` is the file system's fault rather than the input's or the program's: ENOSPC, EDQUOT, EROFS, EIO,
// EFBIG.
bool IsOutputFailure(const std::error_code& code);

}  // namespace r2s

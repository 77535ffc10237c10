#pragma once
// The error for bad input: it names the file, the field in it and the value found, and the command line
// turns it into one line on stderr and exit status 2.

#include <stdexcept>
#include <string>

namespace r2s {

class InputError : public std::runtime_error {
 public:
  // file: the path the user gave; field: where in it (a dataset path, a YAML key, a column); problem: what is
  // wrong with the value found, the value included ("has 99 frames, expected 100").
  InputError(std::string file, std::string field, std::string problem);

  const std::string& file() const { return file_; }
  const std::string& field() const { return field_; }
  const std::string& problem() const { return problem_; }

 private:
  std::string file_;
  std::string field_;
  std::string problem_;
};

}  // namespace r2s

#pragma once
// The text of the coverage report's CSV files: numbers in shortest round-trip form (so a file read back gives the
// same doubles) and RFC 4180 fields. Shared by the writer (coverage_report.cc) and the run folder's reader and
// merger (amplify/run_coverage.cc), so both sides quote and format alike.

#include <string>
#include <vector>

namespace r2s::randomize {

// The shortest decimal text that reads back as exactly x (std::to_chars).
std::string FormatNumber(double x);

// `text` as one CSV field: quoted, with quotes doubled, when it holds a comma, a quote or a line break.
std::string CsvField(const std::string& text);

// The fields of one CSV line (RFC 4180 quoting; no line breaks inside fields). False on a stray quote.
bool SplitCsvLine(const std::string& line, std::vector<std::string>* fields);

}  // namespace r2s::randomize

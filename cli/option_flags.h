#pragma once
// The library names a bad option by its field (file "GeneratorOptions", field "variants"; field "RunOptions.out"
// for a run folder's path); the user of the command line gave it as a flag. One table maps the one to the other,
// so every command's errors speak in flags and no library code knows them.

#include "episode/input_error.h"

namespace r2s::cli {

// The error in the command line's terms: an options struct's error becomes the command line's, its field the flag
// that sets it, and every field named in its problem ("or RunOptions.overwrite to replace it") that field's flag.
// An error about anything else comes back as it was.
InputError InFlagTerms(const InputError& error);

}  // namespace r2s::cli

#pragma once
// For programs that exit right after an error (the command line): libhdf5's atexit teardown flushes every file
// still open, and a file whose close failed (its flush met a full disk) stays half-open inside libhdf5, so the
// teardown crashes flushing it again. r2s closes every file it finishes itself and removes a failed one's
// temporary name, so the teardown has nothing left worth doing.

namespace r2s::episode {

// Turns libhdf5's atexit teardown off. Call at the start of main, before any other HDF5 use.
void SkipHdf5TeardownAtExit();

}  // namespace r2s::episode

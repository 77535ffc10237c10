#pragma once
// A first read of an untrusted HDF5 file in a child process, so that a corrupt file cannot take r2s down.
//
// libhdf5 trusts a file's metadata: a few mutated bytes in a global heap or an object header make it read out of
// bounds (SIGSEGV inside H5HG_read through H5Aread in 1.10.8), loop forever, or allocate gigabytes. Validating
// every structure before libhdf5 reads it would mean re-implementing its file format. Instead a forked child opens
// the file and reads everything the readers will read of its metadata — every group, dataset header and
// attribute, below every hard link — under a memory limit and a time limit. Only when the child finishes cleanly
// does the calling process read the same metadata itself; libhdf5 is deterministic, so what the child survived
// the parent survives. The data (dataset chunks) are not read in the child: a corrupt chunk is a decompression
// or read error, which libhdf5 reports rather than crashes on.

#include <chrono>
#include <cstddef>
#include <filesystem>

namespace r2s::episode::hdf5 {

struct IsolatedCheckLimits {
  std::size_t address_space_bytes = std::size_t{4} << 30;  // the child's RLIMIT_AS (not under AddressSanitizer)
  // A libhdf5 loop on a corrupt file spins the CPU; a slow network file system only waits. So the child's CPU time
  // is bounded tightly and its wall time loosely.
  std::chrono::seconds cpu_time{30};
  std::chrono::seconds wall_time{600};
};

// Throws InputError naming the file and, where the child found one, the object: the same errors the readers give
// (a cycle, a soft link, an unreadable attribute), or that libhdf5 crashed (the signal), ran out of the memory
// limit, or did not finish in time on this file. Returns when the metadata reads cleanly.
void CheckMetadataInChildProcess(const std::filesystem::path& file, const IsolatedCheckLimits& limits = {});

}  // namespace r2s::episode::hdf5

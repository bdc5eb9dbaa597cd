// Names the calling thread, so `top -H`, `ps -L`, perf (--sort comm) and debuggers show
// what each of almanacd's threads is (the sequencer, the journal's writer, an HTTP
// worker...) instead of the program's name for all of them.
//
// Thread safety: affects only the calling thread.
#ifndef ALMANAC_BASE_THREAD_NAME_H_
#define ALMANAC_BASE_THREAD_NAME_H_

namespace almanac {

// Linux keeps at most this many characters of a thread's name; longer names are cut.
inline constexpr int kThreadNameCharsMax = 15;

// Sets the calling thread's name to the first kThreadNameCharsMax characters of `name`.
// Best effort: a failure leaves the old name (nothing depends on it).
void NameThisThread(const char* name);

}  // namespace almanac

#endif  // ALMANAC_BASE_THREAD_NAME_H_

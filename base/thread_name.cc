#include "base/thread_name.h"

#include <pthread.h>

#include <cstring>

namespace almanac {

void NameThisThread(const char* name) {
  char cut[kThreadNameCharsMax + 1] = {};
  std::strncpy(cut, name, kThreadNameCharsMax);
  pthread_setname_np(pthread_self(), cut);
}

}  // namespace almanac

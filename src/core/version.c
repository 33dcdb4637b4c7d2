/* ctcir_version / ctcir_commit (include/ctcir/version.h). CMake passes both. */
#include "ctcir/version.h"

#ifndef CTCIR_VERSION
#define CTCIR_VERSION "unknown"
#endif
#ifndef CTCIR_COMMIT
#define CTCIR_COMMIT "unknown"
#endif

const char *ctcir_version(void) { return CTCIR_VERSION; }
const char *ctcir_commit(void) { return CTCIR_COMMIT[0] ? CTCIR_COMMIT : "unknown"; }

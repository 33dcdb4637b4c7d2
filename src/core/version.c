/* Build identity (ctcir/version.h); CMake passes CTCIR_VERSION and CTCIR_COMMIT. */
#include "ctcir/version.h"

#ifndef CTCIR_VERSION
#define CTCIR_VERSION "unknown"
#endif
#ifndef CTCIR_COMMIT
#define CTCIR_COMMIT "unknown"
#endif

#define CT_STR2(x) #x
#define CT_STR(x)  CT_STR2(x)

const char *ctcir_version(void) { return CTCIR_VERSION; }
const char *ctcir_commit(void) { return CTCIR_COMMIT; }

const char *ctcir_compiler(void) {
#if defined(__clang__)
    return "clang " __clang_version__;
#elif defined(__GNUC__)
    return "gcc " CT_STR(__GNUC__) "." CT_STR(__GNUC_MINOR__) "." CT_STR(__GNUC_PATCHLEVEL__);
#else
    return "unknown compiler";
#endif
}

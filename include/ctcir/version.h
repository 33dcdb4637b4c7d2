/* Which ctcir this is: the release version and the source commit the library was built
 * from. Every file retrieval writes (index metadata, predictions) records both, so that a
 * result can be traced to the code that produced it. */
#ifndef CTCIR_VERSION_H
#define CTCIR_VERSION_H

#ifdef __cplusplus
extern "C" {
#endif

/* "0.1.0" (the project version of CMakeLists.txt). */
const char *ctcir_version(void);
/* `git describe --always --dirty` of the source tree when CMake configured the build
 * (e.g. "5b03f85" or "5b03f85-dirty"); "unknown" for a build outside git. */
const char *ctcir_commit(void);

#ifdef __cplusplus
}
#endif
#endif

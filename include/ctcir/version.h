/* Which ctcir this is: recorded in every file ctcir writes for provenance (checkpoints'
 * trainer_state.json, index metadata, eval JSON, predictions) and printed by --version. */
#ifndef CTCIR_VERSION_H
#define CTCIR_VERSION_H

#ifdef __cplusplus
extern "C" {
#endif

const char *ctcir_version(void);  /* "0.2.0" */
const char *ctcir_commit(void);   /* `git describe --always --dirty` at configure time, or "unknown" */
const char *ctcir_compiler(void); /* e.g. "gcc 12.2.0" */

#ifdef __cplusplus
}
#endif
#endif

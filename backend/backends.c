/* backends.c — the backends of the mmgc command: the LLVM backend (the
 * default) and the reference interpreter. */
#include "engine.h"

const EngineOps *const engine_backends[] = {&engine_llvm, &engine_interp, NULL};

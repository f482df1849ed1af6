/* registry.c — lookup in the program's list of backends (engine.h). The
 * list itself, engine_backends, is defined once per program: a program
 * that never looks a backend up by name links neither. */
#include "engine.h"

#include <stdio.h>
#include <string.h>

const EngineOps *engine_find(const char *name) {
    for (int i = 0; engine_backends[i]; i++)
        if (!strcmp(engine_backends[i]->name, name)) return engine_backends[i];
    return NULL;
}

const EngineOps *engine_default(void) { return engine_backends[0]; }

const char *engine_names(void) {
    static char names[128];
    size_t at = 0;
    for (int i = 0; engine_backends[i] && at < sizeof names; i++)
        at += (size_t)snprintf(names + at, sizeof names - at, "%s%s", i ? ", " : "", engine_backends[i]->name);
    return names;
}

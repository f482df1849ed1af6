/* opt_hint.c — see opt_hint.h. */
#include "opt_hint.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "elaborate.h"
#include "hints.h"
#include "util.h"

/* Train settings as options people coming from other tools type, and the key. */
static const struct {
    const char *option, *key, *value;
} setting_options[] = {
    {"epochs", "max_epochs", "N"},        {"batch_size", "batch", "N"}, {"bs", "batch", "N"},
    {"lr", "optimizer", "adam(lr: LR)"}, {"learning_rate", "optimizer", "adam(lr: LR)"},
    {"patience", "early_stopping.patience", "N"}, {"monitor", "early_stopping.monitor", "val_loss"},
    {"min_delta", "early_stopping.min_delta", "D"},
};
#define NSETTING_OPTIONS (int)(sizeof setting_options / sizeof setting_options[0])

/* The train setting an option name means ("batch_size", "seed", "epoch"):
 * its key, and what to write after '=' in *value; NULL if none. `exact`:
 * only names as they are, else near misses too. */
static const char *setting_of(const char *name, int exact, const char **value) {
    const char *names[64 + NSETTING_OPTIONS];
    int n = 0;
    for (int i = 0; i < NSETTING_OPTIONS; i++) names[n++] = setting_options[i].option;
    for (int i = 0; n < 64 + NSETTING_OPTIONS && train_setting_key(i); i++) names[n++] = train_setting_key(i);
    const char *hit = NULL;
    for (int i = 0; i < n && !hit; i++)
        if (!strcmp(name, names[i])) hit = names[i];
    if (!hit && !exact) hit = hint_nearest(name, names, n);
    for (int i = 0; hit && i < NSETTING_OPTIONS; i++)
        if (hit == setting_options[i].option) {
            *value = setting_options[i].value;
            return setting_options[i].key;
        }
    *value = "VALUE";
    return hit;
}

void opt_unknown(const char *arg, const char *const *options, int noptions, char *err, size_t n) {
    const char *eq = strchr(arg, '=');
    char key[128];
    const char *p = arg;
    while (*p == '-') p++;
    snprintf(key, sizeof key, "%.*s", (int)(eq ? eq - p : (long)strlen(p)), p);
    for (char *c = key; *c; c++)
        if (*c == '-') *c = '_';
    const char **plain = xmalloc((size_t)noptions * sizeof *plain); /* the options without dashes */
    for (int i = 0; i < noptions; i++) plain[i] = options[i] + strspn(options[i], "-");
    const char *value, *setting = NULL, *near = NULL;
    if (!strncmp(arg, "--", 2)) { /* a train setting by name, a typo of an option, a typo of a setting */
        setting = setting_of(key, 1, &value);
        if (!setting && strlen(key) >= 3 && !(near = hint_nearest(key, plain, noptions))) setting = setting_of(key, 0, &value);
    }
    if (setting) {
        char v[128]; /* the value given after '=', in the setting's form */
        if (!strcmp(setting, "optimizer")) snprintf(v, sizeof v, "adam(lr: %s)", eq ? eq + 1 : "LR");
        else snprintf(v, sizeof v, "%s", eq ? eq + 1 : value);
        const char *q = strpbrk(v, " ()[]\"*") ? "'" : ""; /* as a shell needs it */
        snprintf(err, n, "unknown option '%s'; %s is a train setting: --set %s%s=%s%s", arg, setting, q, setting, v, q);
        free(plain);
        return;
    }
    for (int i = 0; near && i < noptions; i++)
        if (plain[i] == near) {
            snprintf(err, n, "unknown option '%s'; did you mean '%s'?", arg, options[i]);
            free(plain);
            return;
        }
    free(plain);
    size_t len = (size_t)snprintf(err, n, "unknown option '%s'; the options are", arg);
    for (int i = 0; i < noptions && len < n; i++)
        len += (size_t)snprintf(err + len, n - len, "%s %s", i ? "," : "", options[i]);
}

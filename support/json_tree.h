/* json_tree.h — a small JSON reader that builds a tree: safetensors
 * headers (runtime/checkpoint.c) and the metrics files a study collects.
 *
 *   Json root;
 *   if (json_parse(text, len, path, "file", 0, 1, &root, err, sizeof err)) ... err says where
 *   double acc = json_number_or(json_get(&root, "test_accuracy"), NAN);
 *   json_free(&root);
 *
 * Strict RFC 8259: no comments, no trailing commas, strings valid UTF-8
 * without NUL, nesting at most JSON_MAX_DEPTH deep.
 */
#ifndef MMGC_JSON_TREE_H
#define MMGC_JSON_TREE_H

#include <stddef.h>
#include <stdint.h>

#define JSON_MAX_DEPTH 64

typedef enum { JSON_NULL, JSON_BOOL, JSON_NUM, JSON_STR, JSON_ARR, JSON_OBJ } JsonType;

typedef struct Json Json;
struct Json {
    JsonType type;
    size_t pos;     /* where the value starts, as a byte offset (plus json_parse's base) */
    char *str;      /* JSON_STR: the decoded string (no NULs inside)            */
    int boolean;    /* JSON_BOOL                                                */
    double num;     /* JSON_NUM                                                 */
    int is_int;     /* JSON_NUM: an integer literal (no '.', no exponent) that fits int64 */
    int64_t ival;   /* JSON_NUM when is_int                                     */
    int n, cap;     /* JSON_ARR, JSON_OBJ: the number of elements               */
    Json *items;    /* JSON_ARR, JSON_OBJ: the elements (values)                */
    char **keys;    /* JSON_OBJ: the keys, keys[i] for items[i]                 */
};

/* Parses text[0..n) (NUL-terminated at n) as one JSON value into *out; with
 * object, it must be an object. 0, or -1 with a message
 * "PATH: WHAT is not valid JSON: REASON at byte N" (N counted from base)
 * and nothing to free. */
int json_parse(const char *text, size_t n, const char *path, const char *what, size_t base, int object, Json *out,
               char *err, size_t errlen);
/* Frees what v owns (not v itself). */
void json_free(Json *v);
/* The value of key in an object, or NULL (also when obj is not an object). */
const Json *json_get(const Json *obj, const char *key);
/* v's number, or dflt when v is NULL or not a number. */
double json_number_or(const Json *v, double dflt);

#endif

/* test_limits.c — inputs at and past the front end's limits get one clear
 * diagnostic, never a crash: deep expressions, deep bracket nesting, long
 * chains of blocks, huge files, very long lines in messages. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compile.h"
#include "harness.h"
#include "util.h"

#define TOO_DEEP "expression nested too deeply (at most 1000 levels of operators, calls and brackets)"

/* A growing string. */
typedef struct {
    char *s;
    size_t len, cap;
} Buf;

static void put(Buf *b, const char *text) {
    size_t n = strlen(text);
    if (b->len + n + 1 > b->cap) {
        b->cap = 2 * (b->len + n + 1);
        b->s = xrealloc(b->s, b->cap);
    }
    memcpy(b->s + b->len, text, n + 1);
    b->len += n;
}

static void repeat(Buf *b, const char *text, int n) {
    for (int i = 0; i < n; i++) put(b, text);
}

/* Compiles text and asserts exactly one error, with this message. */
static void expect_one_error(const char *text, const char *msg) {
    Compiled c;
    compile_text(&c, text, NULL, 0);
    CU_ASSERT_EQUAL(c.status, 1);
    CU_ASSERT_EQUAL(c.prog.diag.nerrors, 1);
    int found = 0;
    for (int i = 0; i < c.prog.diag.n; i++) found |= !strcmp(c.prog.diag.items[i].msg, msg);
    if (!found || c.prog.diag.nerrors != 1) {
        fprintf(stderr, "\nexpected one error '%s', got:\n", msg);
        diag_print(&c.prog.diag, stderr);
    }
    CU_ASSERT_TRUE(found);
    compile_free(&c);
}

#define MODEL_HEAD "import \"nn.mmg\"\nmodel m {\n  input a: [B, 4]\n  label y: [B] i64\n"

/* 3,600 chained `+` and 4,000 nested calls crashed the elaborator; 100,000
 * brackets overflowed the parser's stack. */
static void test_deep_expressions(void) {
    Buf b = {0};
    put(&b, MODEL_HEAD "  loss = sum(a");
    repeat(&b, " + a", 3600);
    put(&b, ")\n}\n");
    expect_one_error(b.s, TOO_DEEP);
    b.len = 0;
    put(&b, MODEL_HEAD "  loss = sum(");
    repeat(&b, "relu(", 4000);
    put(&b, "a");
    repeat(&b, ")", 4000);
    put(&b, ")\n}\n");
    expect_one_error(b.s, TOO_DEEP);
    b.len = 0;
    put(&b, MODEL_HEAD "  loss = sum(a) * ");
    repeat(&b, "(", 100000);
    put(&b, "1");
    repeat(&b, ")", 100000);
    put(&b, "\n}\n");
    expect_one_error(b.s, TOO_DEEP);
    /* just under the limit is fine */
    b.len = 0;
    put(&b, MODEL_HEAD "  loss = sum(a");
    repeat(&b, " + a", 990);
    put(&b, ")\n}\n");
    Compiled c;
    compile_text(&c, b.s, NULL, 0);
    CU_ASSERT_EQUAL(c.status, 0);
    compile_free(&c);
    free(b.s);
}

/* A chain of blocks is as deep as it is long: 200 different blocks are
 * not recursion. */
static void test_block_chain(void) {
    Buf b = {0};
    char line[160];
    put(&b, "import \"nn.mmg\"\n");
    for (int i = 0; i < 200; i++) {
        snprintf(line, sizeof line, "def b%d(x: [B, n]) -> [B, n] { return %s }\n", i, i == 199 ? "relu(x)" : "");
        put(&b, line);
        if (i < 199) {
            b.len -= 3; /* before " }\n" */
            b.s[b.len] = 0;
            snprintf(line, sizeof line, "b%d(x) }\n", i + 1);
            put(&b, line);
        }
    }
    put(&b, MODEL_HEAD "  loss = sum(b0(a))\n}\n");
    Compiled c;
    compile_text(&c, b.s, NULL, 0);
    if (c.status) diag_print(&c.prog.diag, stderr);
    CU_ASSERT_EQUAL(c.status, 0);
    compile_free(&c);

    /* many blocks each nesting deeply: a clear limit, not a crash */
    b.len = 0;
    put(&b, "import \"nn.mmg\"\n");
    for (int i = 0; i < 40; i++) {
        snprintf(line, sizeof line, "def b%d(x: [B, n]) -> [B, n] { return ", i);
        put(&b, line);
        repeat(&b, "relu(", 900);
        snprintf(line, sizeof line, i == 39 ? "x" : "b%d(x)", i + 1);
        put(&b, line);
        repeat(&b, ")", 900);
        put(&b, " }\n");
    }
    put(&b, MODEL_HEAD "  loss = sum(b0(a))\n}\n");
    expect_one_error(b.s, "evaluation nested more than 20000 levels deep (calls within calls)");
    free(b.s);
}

/* A source over 16 MiB (or an endless one like /dev/zero) is refused
 * before it is read whole. */
static void test_huge_file(void) {
    Compiled c;
    compile_file(&c, "/dev/zero", NULL, 0);
    CU_ASSERT_EQUAL(c.status, 1);
    CU_ASSERT_EQUAL(c.prog.diag.nerrors, 1);
    if (c.prog.diag.n)
        CU_ASSERT_STRING_EQUAL(c.prog.diag.items[0].msg, "cannot read '/dev/zero': a .mmg file may hold at most 16 MiB");
    compile_free(&c);
}

/* A diagnostic on a very long line quotes a window around the caret. */
static void test_long_line_quote(void) {
    Buf b = {0};
    put(&b, MODEL_HEAD "  loss = sum(a");
    repeat(&b, " + a", 3000);
    put(&b, ")\n}\n");
    Compiled c;
    compile_text(&c, b.s, NULL, 0);
    char *out = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&out, &len);
    diag_print(&c.prog.diag, m);
    fclose(m);
    CU_ASSERT_TRUE(len < 600);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "    ...+ a + a"));
    /* the caret stands under the 1,000th `+`: column 14 + 999 * 4 + 2 */
    CU_ASSERT_PTR_NOT_NULL(strstr(out, ":5:4012: error: "));
    free(out);
    compile_free(&c);
    free(b.s);
}

/* Errors past the hundredth are counted, not listed. */
static void test_many_errors(void) {
    Buf b = {0};
    put(&b, MODEL_HEAD "  loss = sum(a)\n");
    char line[64];
    for (int i = 0; i < 500; i++) {
        snprintf(line, sizeof line, "  x%d = nope%d\n", i, i);
        put(&b, line);
    }
    put(&b, "}\n");
    Compiled c;
    compile_text(&c, b.s, NULL, 0);
    CU_ASSERT_EQUAL(c.status, 1);
    CU_ASSERT_EQUAL(c.prog.diag.nerrors, 500);
    CU_ASSERT_TRUE(c.prog.diag.n <= 101);
    CU_ASSERT_STRING_EQUAL(c.prog.diag.items[c.prog.diag.n - 1].msg, "too many errors; the first 100 are shown");
    compile_free(&c);
    free(b.s);
}

static CU_TestInfo tests[] = {
    {"deep expressions: one error, no crash", test_deep_expressions},
    {"long chains of blocks compile; deeper ones stop with a message", test_block_chain},
    {"a source over the size limit is refused", test_huge_file},
    {"a long line is quoted as a window around the caret", test_long_line_quote},
    {"errors past the hundredth are counted, not listed", test_many_errors},
    CU_TEST_INFO_NULL,
};

int main(void) { return harness_run("limits", tests); }

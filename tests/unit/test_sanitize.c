/* The range checks that stand in for AddressSanitizer's per-access checks in
 * the hottest loops (runtime/sanitize.h): under ASan an access outside its
 * buffer must still be reported, by the check of a whole range as it was by
 * the checked access. The reference convolution is given tensors whose
 * buffers are one element shorter than their shapes say, as a kernel or
 * planning bug would hand it, and must not finish: the child process that
 * runs it must die with ASan's heap-buffer-overflow report.
 * Without ASan there is nothing to test: the executable says so and exits 77
 * (skipped). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "deltakern/graph.h"
#include "kernels/ref/ref_kernels.h"
#include "runtime/sanitize.h"
#include "test_util.h"

#ifdef DK_ASAN
/* Runs fn(arg) in a child with stderr captured; returns what it wrote and
 * sets *exited_ok when it exited with status 0. */
static char *in_child(void (*fn)(void *), void *arg, int *exited_ok)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        dup2(fds[1], 2);
        alarm(120); /* a hang is a failure too */
        fn(arg);
        _exit(0);
    }
    close(fds[1]);
    size_t cap = 1 << 16, len = 0;
    char *out = malloc(cap + 1);
    assert_non_null(out);
    ssize_t got;
    while ((got = read(fds[0], out + len, cap - len)) > 0 && (len += (size_t)got) < cap) {}
    out[len] = 0;
    close(fds[0]);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    *exited_ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    return out;
}

static void expect_overflow_report(void (*fn)(void *), void *arg, const char *what)
{
    int ok = 0;
    char *out = in_child(fn, arg, &ok);
    if (ok || !strstr(out, "ERROR: AddressSanitizer: heap-buffer-overflow"))
        fail_msg("%s: expected ASan's heap-buffer-overflow report and a failed exit, got exit %s and:\n%s",
                 what, ok ? "0" : "non-zero", out);
    free(out);
}

static void check_sixteen_of(void *arg)
{
    int n = *(int *)arg;
    float *p = malloc(16 * sizeof *p);
    DK_CHECK_RANGE(p, n);
    free(p);
}

/* The check itself: 16 elements of 16 pass, 17 are reported. */
static void test_check_range(void **state)
{
    (void)state;
    int n = 16, ok = 0;
    char *out = in_child(check_sixteen_of, &n, &ok);
    if (!ok) fail_msg("a check within the buffer failed:\n%s", out);
    free(out);
    n = 17;
    expect_overflow_report(check_sixteen_of, &n, "17 elements of a 16-element buffer");
}

/* A 3x3 convolution of x [1,4,8,8] (no padding, unit strides: the kernel
 * reads x in place) into y [1,4,6,6]; short_which 0 shortens x, 1 y. */
static void conv_with_short_buffer(void *arg)
{
    int short_which = *(int *)arg;
    const int64_t xd[] = {1, 4, 8, 8}, wd[] = {4, 4, 3, 3};
    dk_graph *g = tu_new_graph(13);
    int ins[2] = {tu_add_value(g, "x", DK_VALUE_INPUT, DK_F32, 4, xd, -1, 1),
                  tu_add_value(g, "w", DK_VALUE_CONSTANT, DK_F32, 4, wd, -1, 1)};
    int k = tu_add_node(g, DK_OP_CONV, ins, 2, 1);
    if (dk_graph_finalize(g) != DK_OK) _exit(3);
    dk_tensor *x = &g->values[ins[0]].t;
    dk_tensor y = {0};
    const dk_tensor *yshape = &g->values[g->nodes[k].outputs[0]].t;
    if (dk_tensor_alloc(&y, DK_F32, yshape->ndim, yshape->dims) != DK_OK) _exit(3);
    dk_tensor *t = short_which == 0 ? x : &y;
    size_t n = (size_t)dk_tensor_numel(t) - 1;
    float *shorter = malloc(n * sizeof *shorter);
    memcpy(shorter, t->data, n * sizeof *shorter);
    free(t->data);
    t->data = shorter;
    const dk_tensor *in[2] = {x, &g->values[ins[1]].t};
    dk_tensor *out[1] = {&y};
    dk_ref_conv(&g->nodes[k], in, out);
}

/* The reference convolution's loops, range-checked: an input or output one
 * element short is reported. */
static void test_conv_short_buffers(void **state)
{
    (void)state;
    int which = 0;
    expect_overflow_report(conv_with_short_buffer, &which, "Conv reading an input one element short");
    which = 1;
    expect_overflow_report(conv_with_short_buffer, &which, "Conv writing an output one element short");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check_range),
        cmocka_unit_test(test_conv_short_buffers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
#else
int main(void)
{
    printf("SKIP: not built with AddressSanitizer (DK_SANITIZE=ON), whose per-access checks these range checks stand in for\n");
    return 77;
}
#endif

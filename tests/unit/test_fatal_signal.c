/* The fatal-signal handler without a crash: its arguments, the alternate
 * stack it gives a thread, and how it passes a signal on to the handler
 * that was installed before it. The tests run in order: the first install
 * saves the dispositions that later ones restore. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tenantlog/tenantlog.h"

static sigjmp_buf back;
static volatile sig_atomic_t previous_sig;
static volatile sig_atomic_t previous_code;
static void *volatile previous_addr;
static int *volatile null_target;
static char output[4096];

/* Stands for an application's crash handler installed before ours. */
static void on_previous(int sig, siginfo_t *info, void *context)
{
    (void)context;
    previous_sig = sig;
    previous_code = info->si_code;
    previous_addr = info->si_addr;
    siglongjmp(back, 1);
}

static void set_previous(int sig)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_previous;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    assert_int_equal(sigaction(sig, &sa, NULL), 0);
}

static void set_default(int sig)
{
    signal(sig, SIG_DFL);
}

/* Runs fn with stderr sent to a temporary file, then reads it into
 * output. */
static void capture(void (*fn)(void))
{
    char path[] = "/tmp/tl-fatal-XXXXXX";
    int fd = mkstemp(path), saved = dup(STDERR_FILENO);
    ssize_t n;

    assert_true(fd >= 0);
    dup2(fd, STDERR_FILENO);
    fn();
    dup2(saved, STDERR_FILENO);
    close(saved);
    n = pread(fd, output, sizeof(output) - 1, 0);
    output[n > 0 ? n : 0] = '\0';
    close(fd);
    unlink(path);
}

static void raise_abort(void)
{
    if (sigsetjmp(back, 1) == 0) {
        raise(SIGABRT);
    }
}

/* UBSan's null check is off here, because in a sanitizer build it would
 * end the process before the fault. */
__attribute__((no_sanitize("null"))) static void write_null(void)
{
    if (sigsetjmp(back, 1) == 0) {
        *null_target = 1;
    }
}

typedef void (*siginfo_handler)(int, siginfo_t *, void *);

static siginfo_handler current_handler(int sig)
{
    struct sigaction sa;

    sigaction(sig, NULL, &sa);
    return sa.sa_sigaction;
}

static void fatal_negative_drain(void **state)
{
    (void)state;
    assert_int_equal(tl_fatal_signals_install(-1), TL_EINVAL);
}

/* raise(SIGABRT), then a fault. The handler reports each, and then the
 * previous handler gets the signal and is the disposition again. For the
 * fault it receives the fault's own siginfo, because the handler returns
 * to the faulting write instead of raising again. Both run in one test
 * because cmocka replaces the SIGSEGV disposition around each test. */
static void fatal_chains_previous(void **state)
{
    (void)state;
    set_previous(SIGABRT);
    set_previous(SIGSEGV);
    assert_int_equal(tl_fatal_signals_install(0), 0);

    previous_sig = 0;
    capture(raise_abort);
    assert_int_equal(previous_sig, SIGABRT);
    assert_non_null(strstr(output, "\"level\":\"crit\",\"msg\":\"fatal "
                                   "signal SIGABRT (6): no queued "
                                   "records\"}\n"));
    assert_ptr_equal(current_handler(SIGABRT), on_previous);

    previous_sig = 0;
    capture(write_null);
    assert_int_equal(previous_sig, SIGSEGV);
    assert_int_equal(previous_code, SEGV_MAPERR);
    assert_null(previous_addr);
    assert_non_null(strstr(output, "fatal signal SIGSEGV (11): no queued"));
    assert_ptr_equal(current_handler(SIGSEGV), on_previous);
    set_default(SIGABRT);
    set_default(SIGSEGV);
}

/* Installs on a thread without an alternate stack. AddressSanitizer gives
 * each thread one, so the thread turns it off first. */
static void *install_on_thread(void *arg)
{
    stack_t *after = arg;
    stack_t off = {.ss_flags = SS_DISABLE};

    if (sigaltstack(&off, NULL) != 0) {
        return "sigaltstack failed";
    }
    if (tl_fatal_signals_install(0) != 0) {
        return "install failed";
    }
    sigaltstack(NULL, after);
    return NULL;
}

static void fatal_gives_stack(void **state)
{
    stack_t after;
    pthread_t t;
    void *error;

    (void)state;
    assert_int_equal(pthread_create(&t, NULL, install_on_thread, &after), 0);
    pthread_join(t, &error);
    assert_null(error);
    assert_int_equal(after.ss_flags & SS_DISABLE, 0);
    assert_true(after.ss_size >= 64 * 1024);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fatal_negative_drain),
        cmocka_unit_test(fatal_chains_previous),
        cmocka_unit_test(fatal_gives_stack),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

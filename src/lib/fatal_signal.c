/* The optional fatal-signal handler: on a crash it writes an emergency
 * record, gives the writer thread a bounded time to write what is queued,
 * then lets the signal end the process as it would have without it. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "logger.h"
#include "tenantlog/tenantlog.h"

#define ALT_STACK_BYTES (64 * 1024)
#define POLL_NS 1000000 /* between two reads of the queue's backlog */
#define MSG_MAX_BYTES 256

static const int fatal_signals[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT};
#define N_FATAL (sizeof(fatal_signals) / sizeof(fatal_signals[0]))

static pthread_mutex_t install_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;
static pthread_key_t stack_key; /* the thread's alternate stack memory */
static bool installed;          /* under install_mu */
/* The dispositions before the first install. They are written before the
 * handler is installed and only read afterwards. */
static struct sigaction previous[N_FATAL];
static _Atomic int drain_ms_setting;
/* CLOCK_MONOTONIC deadline of the first fatal signal, 0 before one. */
static _Atomic int64_t crash_deadline_ns;

/* A message built without stdio, which is not async-signal-safe. */
struct msg {
    char text[MSG_MAX_BYTES];
    size_t len;
};

static void msg_str(struct msg *m, const char *s)
{
    size_t n = strlen(s);

    if (n > sizeof(m->text) - 1 - m->len) {
        n = sizeof(m->text) - 1 - m->len;
    }
    memcpy(m->text + m->len, s, n);
    m->len += n;
    m->text[m->len] = '\0';
}

static void msg_u64(struct msg *m, uint64_t value)
{
    char digits[21];
    size_t i = sizeof(digits) - 1;

    digits[i] = '\0';
    do {
        digits[--i] = (char)('0' + value % 10);
        value /= 10;
    } while (value != 0);
    msg_str(m, digits + i);
}

static const char *signal_name(int sig)
{
    switch (sig) {
    case SIGSEGV:
        return "SIGSEGV";
    case SIGBUS:
        return "SIGBUS";
    case SIGILL:
        return "SIGILL";
    case SIGFPE:
        return "SIGFPE";
    case SIGABRT:
        return "SIGABRT";
    }
    return "unknown signal";
}

/* Starts the message with "fatal signal NAME (N)". */
static void msg_signal(struct msg *m, int sig)
{
    m->len = 0;
    msg_str(m, "fatal signal ");
    msg_str(m, signal_name(sig));
    msg_str(m, " (");
    msg_u64(m, (uint64_t)sig);
    msg_str(m, ")");
}

static int64_t monotonic_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void sleep_poll(void)
{
    struct timespec ts = {0, POLL_NS};

    nanosleep(&ts, NULL);
}

/* Waits until the backlog reads 0 twice in a row, POLL_NS apart, or until
 * deadline_ns. The second read covers a record whose producer has pushed
 * it but not yet counted it. Returns the last backlog read. */
static uint64_t wait_drained(int64_t deadline_ns)
{
    uint64_t backlog = tl__logger_backlog();
    int quiet = 0;

    while (monotonic_ns() < deadline_ns) {
        quiet = backlog == 0 ? quiet + 1 : 0;
        if (quiet == 2) {
            break;
        }
        sleep_poll();
        backlog = tl__logger_backlog();
    }
    return backlog;
}

/* Reports the signal and waits for the writer, on the first fatal signal
 * of the process. */
static void report_and_drain(int sig, int drain_ms, int64_t deadline_ns)
{
    uint64_t backlog = tl__logger_backlog();
    struct msg m;

    msg_signal(&m, sig);
    if (tl__logger_on_writer()) {
        msg_str(&m, " on the writer thread: ");
        msg_u64(&m, backlog);
        msg_str(&m, " queued records are lost");
        tl_log_emergency(TL_CRIT, m.text);
        return;
    }
    if (backlog == 0) {
        msg_str(&m, ": no queued records");
        tl_log_emergency(TL_CRIT, m.text);
        return;
    }
    msg_str(&m, ": waiting up to ");
    msg_u64(&m, (uint64_t)drain_ms);
    msg_str(&m, " ms for the writer thread to write ");
    msg_u64(&m, backlog);
    msg_str(&m, " queued records");
    tl_log_emergency(TL_CRIT, m.text);
    backlog = wait_drained(deadline_ns);
    if (backlog > 0) {
        msg_signal(&m, sig);
        msg_str(&m, ": ");
        msg_u64(&m, backlog);
        msg_str(&m, " records still queued at the deadline are lost");
        tl_log_emergency(TL_CRIT, m.text);
    }
}

/* Puts back the disposition from before the install. An ignored fatal
 * signal becomes the default, so the process still ends. */
static void restore(int sig)
{
    struct sigaction dfl;
    size_t i;

    for (i = 0; i < N_FATAL; i++) {
        if (fatal_signals[i] != sig) {
            continue;
        }
        if (previous[i].sa_handler == SIG_IGN) {
            memset(&dfl, 0, sizeof(dfl));
            dfl.sa_handler = SIG_DFL;
            sigaction(sig, &dfl, NULL);
        } else {
            sigaction(sig, &previous[i], NULL);
        }
    }
}

/* Returns true when returning from the handler re-executes the
 * instruction that caused the signal, so the fault repeats with its own
 * siginfo. A signal sent by kill(2), raise(3) or abort(3) has
 * si_code <= 0. A memory error reported ahead of use (BUS_MCEERR_AO)
 * does not repeat. */
static bool fault_repeats(int sig, const siginfo_t *info)
{
    if (sig == SIGABRT || info == NULL || info->si_code <= 0) {
        return false;
    }
    return !(sig == SIGBUS && info->si_code == BUS_MCEERR_AO);
}

static void on_fatal(int sig, siginfo_t *info, void *context)
{
    int saved = errno, drain_ms = atomic_load(&drain_ms_setting);
    int64_t deadline_ns = monotonic_ns() + (int64_t)drain_ms * 1000000;
    int64_t first = 0;

    (void)context;
    if (atomic_compare_exchange_strong(&crash_deadline_ns, &first,
                                       deadline_ns)) {
        report_and_drain(sig, drain_ms, deadline_ns);
    } else {
        /* Another thread crashed first and is draining. Ending the
         * process now would cut its wait short. */
        while (monotonic_ns() < first) {
            sleep_poll();
        }
    }
    restore(sig);
    if (first == 0) {
        /* When a previous handler lets the process go on, the next fatal
         * signal is reported as a first one. */
        atomic_store(&crash_deadline_ns, 0);
    }
    errno = saved;
    if (!fault_repeats(sig, info)) {
        raise(sig);
    }
}

static void stack_free(void *mem)
{
    stack_t off = {.ss_flags = SS_DISABLE};

    sigaltstack(&off, NULL);
    free(mem);
}

static void key_create(void)
{
    pthread_key_create(&stack_key, stack_free);
}

/* Gives the calling thread an alternate signal stack unless it has one.
 * The memory is freed when the thread exits. */
static int stack_ensure(void)
{
    stack_t current, ss = {.ss_flags = 0};
    long suggested_bytes = sysconf(_SC_SIGSTKSZ);
    int result;

    if (sigaltstack(NULL, &current) != 0) {
        return -errno;
    }
    if (!(current.ss_flags & SS_DISABLE)) {
        return 0;
    }
    pthread_once(&key_once, key_create);
    ss.ss_size = ALT_STACK_BYTES;
    if (suggested_bytes > ALT_STACK_BYTES) {
        ss.ss_size = (size_t)suggested_bytes;
    }
    ss.ss_sp = malloc(ss.ss_size);
    if (ss.ss_sp == NULL) {
        return -ENOMEM;
    }
    if (sigaltstack(&ss, NULL) != 0) {
        result = -errno;
        free(ss.ss_sp);
        return result;
    }
    pthread_setspecific(stack_key, ss.ss_sp);
    return 0;
}

/* Installs on_fatal for every fatal signal and saves what it replaces.
 * On failure the signals installed so far get their disposition back. */
static int handlers_install(void)
{
    struct sigaction sa;
    size_t i, j;
    int result;

    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_fatal;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    /* A fatal signal inside the handler then kills the process at once
     * instead of entering the handler again. */
    sigemptyset(&sa.sa_mask);
    for (i = 0; i < N_FATAL; i++) {
        sigaddset(&sa.sa_mask, fatal_signals[i]);
    }
    for (i = 0; i < N_FATAL; i++) {
        if (sigaction(fatal_signals[i], &sa, &previous[i]) != 0) {
            result = -errno;
            for (j = 0; j < i; j++) {
                sigaction(fatal_signals[j], &previous[j], NULL);
            }
            return result;
        }
    }
    return 0;
}

int tl_fatal_signals_install(int drain_ms)
{
    int result;

    if (drain_ms < 0) {
        return TL_EINVAL;
    }
    pthread_mutex_lock(&install_mu);
    result = stack_ensure();
    if (result == 0) {
        atomic_store(&drain_ms_setting, drain_ms);
        if (!installed) {
            result = handlers_install();
            installed = result == 0;
        }
    }
    pthread_mutex_unlock(&install_mu);
    return result;
}

// Runs before the Swift runtime and before main: see CProcessStartup.h.
//
// 1. The standard descriptors. A process started with fd 0, 1 or 2 closed would hand the
//    first descriptor anything opens (a log file, an epoll instance, a socket) that
//    number, and the protocol or a stray write would land in it. Each closed one gets
//    /dev/null; main then refuses to run without a usable stdout.
// 2. The crash reporter. The Swift runtime reads SWIFT_BACKTRACE in its own constructor.
//    Its defaults for a non-interactive process are the "full" preset: every thread and
//    every register of the crashed one, which can hold bytes of an API key. Unless the
//    caller chose settings, we choose ours (no registers, no image list, sanitized
//    paths, the crashed thread only, to stderr). With the runtime linked statically (the
//    release build), this constructor's priority puts it first and the runtime reads
//    our value. With a dynamic runtime (debug builds) the runtime has already read its
//    defaults by now, so instead the crash handler is removed: a crash then just ends
//    the process with its signal, and prints nothing.

#define _GNU_SOURCE
#include "CProcessStartup.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *const hs_backtrace_settings =
    "interactive=no,color=no,threads=crashed,registers=none,images=none,sanitize=yes,output-to=stderr";

static int findings = 0;

int hs_startup_findings(void) { return findings; }

static void occupy_closed_descriptors(void) {
    for (int fd = 0; fd <= 2; fd++) {
        if (fcntl(fd, F_GETFD) != -1 || errno != EBADF) continue;
        findings |= 1 << fd;
        int null = open("/dev/null", (fd == 0 ? O_RDONLY : O_WRONLY));
        if (null >= 0 && null != fd) {
            dup2(null, fd);
            close(null);
        }
    }
    if (!(findings & HS_STARTUP_STDOUT_CLOSED)) {
        int flags = fcntl(STDOUT_FILENO, F_GETFL);
        if (flags == -1 || (flags & O_ACCMODE) == O_RDONLY) findings |= HS_STARTUP_STDOUT_NOT_WRITABLE;
    }
}

static int handler_installed(int signal_number) {
    struct sigaction current;
    if (sigaction(signal_number, NULL, &current) != 0) return 0;
    if (current.sa_flags & SA_SIGINFO) return current.sa_sigaction != NULL;
    return current.sa_handler != SIG_DFL && current.sa_handler != SIG_IGN;
}

static void pin_crash_reporter(void) {
    // Only for our executables: test runners that link the same code keep their own.
    const char *name = program_invocation_short_name;
    if (name == NULL || strncmp(name, "hyperstack-", 11) != 0) return;
    if (getenv("SWIFT_BACKTRACE") != NULL) return;  // the caller chose; documented in the README
    static const int crash_signals[] = {SIGQUIT, SIGILL, SIGTRAP, SIGABRT, SIGFPE, SIGBUS, SIGSEGV};
    int runtime_ready = handler_installed(SIGSEGV) || handler_installed(SIGILL);
    if (!runtime_ready) {
        setenv("SWIFT_BACKTRACE", hs_backtrace_settings, 0);
        findings |= HS_STARTUP_BACKTRACE_SET;
        return;
    }
    for (size_t i = 0; i < sizeof(crash_signals) / sizeof(crash_signals[0]); i++) signal(crash_signals[i], SIG_DFL);
    findings |= HS_STARTUP_CRASH_HANDLER_RESET;
}

__attribute__((constructor(101))) static void hs_process_startup(void) {
    occupy_closed_descriptors();
    pin_crash_reporter();
}

// Runs before the Swift runtime and before main: see CProcessStartup.h.
//
// 1. The standard descriptors. A process started with fd 0, 1 or 2 closed would hand the
//    first descriptor anything opens (a log file, an epoll instance, a socket) that
//    number, and the protocol or a stray write would land in it. Each closed one gets
//    /dev/null; main then refuses to run without a usable stdout.
// 2. The crash reporter: see hs_disarm_crash_reporter below. Nothing here may change the
//    environment: the statically linked Swift runtime finds argv by walking back from
//    `environ` on the initial stack, and a setenv this early moves `environ` to the heap
//    (CommandLine.arguments then comes out empty).

#define _GNU_SOURCE
#include "CProcessStartup.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

void hs_disarm_crash_reporter(void) {
    // The runtime's backtracer prints, by default, every register of the crashed thread with
    // 16 bytes of memory at each, and every thread and image: bytes of an API key can be
    // among them. Unless the caller asked for a report by setting SWIFT_BACKTRACE (for
    // debugging; documented in the README), a crash ends the process with its signal and
    // prints nothing. Called first thing in main, after the runtime installed its handlers
    // (with a static runtime they are installed after every C constructor of ours has run).
    if (getenv("SWIFT_BACKTRACE") != NULL) return;
    static const int crash_signals[] = {SIGQUIT, SIGILL, SIGTRAP, SIGABRT, SIGFPE, SIGBUS, SIGSEGV};
    for (size_t i = 0; i < sizeof(crash_signals) / sizeof(crash_signals[0]); i++) signal(crash_signals[i], SIG_DFL);
}

__attribute__((constructor(101))) static void hs_process_startup(void) {
    occupy_closed_descriptors();
}

#ifndef C_PROCESS_STARTUP_H
#define C_PROCESS_STARTUP_H

/// What the constructor in startup.c found before the Swift runtime started.
///
/// Bit 0, 1, 2: fd 0, 1 or 2 was closed at start (it now holds /dev/null).
/// Bit 4: fd 1 was open but not writable (opened read-only, or not a descriptor we can write to).
int hs_startup_findings(void);

enum {
    HS_STARTUP_STDIN_CLOSED = 1 << 0,
    HS_STARTUP_STDOUT_CLOSED = 1 << 1,
    HS_STARTUP_STDERR_CLOSED = 1 << 2,
    HS_STARTUP_STDOUT_NOT_WRITABLE = 1 << 4,
};

/// Puts the default action back on the crash signals (unless SWIFT_BACKTRACE is set), so a
/// crash report can never dump registers or memory. Call it first thing in main.
void hs_disarm_crash_reporter(void);

#endif

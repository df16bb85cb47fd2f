#ifndef C_PROCESS_STARTUP_H
#define C_PROCESS_STARTUP_H

/// What the constructor in startup.c found before the Swift runtime started.
///
/// Bit 0, 1, 2: fd 0, 1 or 2 was closed at start (it now holds /dev/null).
/// Bit 4: fd 1 was open but not writable (opened read-only, or not a descriptor we can write to).
/// Bit 8: the constructor set SWIFT_BACKTRACE itself (the variable was unset).
/// Bit 9: the Swift runtime had already read its settings (dynamic runtime), so the
///        constructor turned its crash handler off instead.
int hs_startup_findings(void);

enum {
    HS_STARTUP_STDIN_CLOSED = 1 << 0,
    HS_STARTUP_STDOUT_CLOSED = 1 << 1,
    HS_STARTUP_STDERR_CLOSED = 1 << 2,
    HS_STARTUP_STDOUT_NOT_WRITABLE = 1 << 4,
    HS_STARTUP_BACKTRACE_SET = 1 << 8,
    HS_STARTUP_CRASH_HANDLER_RESET = 1 << 9,
};

/// The SWIFT_BACKTRACE value the shipped binaries run with unless the caller set one.
extern const char *const hs_backtrace_settings;

#endif

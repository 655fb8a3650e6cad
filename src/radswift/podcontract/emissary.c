/*
 * radswift-emissary: run the processor's command and record how it ended.
 *
 *   radswift-emissary [--exit-file PATH] -- CMD [ARGS...]
 *
 * Runs CMD as a child (fork + execvp), forwards SIGTERM, SIGINT, SIGHUP, SIGQUIT,
 * SIGUSR1 and SIGUSR2 to it, reaps it (and any orphan, since it is usually PID 1 of
 * the processor container), then writes a JSON record
 *   {"exit_code": N, "reason": "...", "started_at": "...", "finished_at": "..."}
 * to the exit file atomically (a temporary name in the same directory, rename; no fsync:
 * its readers are the job's own containers, see share.py)
 * and exits with the child's code: 128+SIG if a signal killed it, 127 if CMD was not
 * found, 126 if it could not be executed.
 *
 * CMD's stdout and stderr go through pipes: every byte is passed on to the emissary's own
 * stdout and stderr (the container's log), and the last TAIL_BYTES of both, interleaved
 * as read, are written to <exit file>.tail just before the exit file, so that the
 * publisher can record why a processor failed. Once CMD has exited, output still
 * arriving (from a process it left behind holding the pipes) is read for DRAIN_MS more.
 *
 * The exit file, unless --exit-file is given: <control>/exitcode, or
 * <control>/exitcode.<JOB_COMPLETION_INDEX> in an Indexed Job, where <control> is the
 * parent of the directory holding this binary (/share/.radswift when run as
 * /share/.radswift/bin/radswift-emissary). No shell, no Python, no libraries needed:
 * it is linked statically. See radswift/podcontract/share.py for the whole contract.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TAIL_BYTES 8192
#define DRAIN_MS 200

static volatile sig_atomic_t child_pid = 0;
static char tail_ring[TAIL_BYTES];
static size_t tail_start = 0, tail_len = 0;
static const int forwarded[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
#define NFORWARDED (sizeof(forwarded) / sizeof(forwarded[0]))

static void forward(int sig) {
    if (child_pid > 0) kill((pid_t)child_pid, sig);
}

static void now_utc(char *buf, size_t len) {
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Where to write: --exit-file, else derived from /proc/self/exe and the job index. */
static int exit_file_path(const char *given, char *out, size_t len) {
    if (given) {
        if (strlen(given) >= len) return -1;
        strcpy(out, given);
        return 0;
    }
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n <= 0) return -1;
    exe[n] = '\0';
    for (int up = 0; up < 2; up++) { /* drop the file name, then bin/ */
        char *slash = strrchr(exe, '/');
        if (!slash) return -1;
        *slash = '\0';
    }
    const char *index = getenv("JOB_COMPLETION_INDEX");
    int ok = 1;
    if (index && *index) {
        for (const char *p = index; *p; p++) ok = ok && (*p >= '0' && *p <= '9');
    }
    int w = (index && *index && ok) ? snprintf(out, len, "%s/exitcode.%s", exe, index)
                                    : snprintf(out, len, "%s/exitcode", exe);
    return (w < 0 || (size_t)w >= len) ? -1 : 0;
}

static int write_all(int fd, const char *buf, size_t len) {
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Keep the last TAIL_BYTES of what went by. */
static void keep(const char *buf, size_t n) {
    for (size_t k = 0; k < n; k++) {
        tail_ring[(tail_start + tail_len) % TAIL_BYTES] = buf[k];
        if (tail_len < TAIL_BYTES) tail_len++;
        else tail_start = (tail_start + 1) % TAIL_BYTES;
    }
}

/* Write `len` bytes to `path` atomically (temporary name, rename), mode 0644. */
static int write_atomically(const char *path, const char *body, size_t len) {
    char tmp[PATH_MAX + 32];
    if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof(tmp))
        return -1;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return -1;
    fchmod(fd, 0644); /* whatever the umask: the publisher may be another user */
    if (write_all(fd, body, len) != 0) {
        close(fd);
        unlink(tmp);
        return -1;
    }
    close(fd);
    if (rename(tmp, path) != 0) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

static int record_tail(const char *exit_path) {
    char path[PATH_MAX + 8], body[TAIL_BYTES];
    if (snprintf(path, sizeof(path), "%s.tail", exit_path) >= (int)sizeof(path)) return -1;
    for (size_t k = 0; k < tail_len; k++) body[k] = tail_ring[(tail_start + k) % TAIL_BYTES];
    return write_atomically(path, body, tail_len);
}

static int record(const char *path, int code, const char *reason, const char *started) {
    char finished[32], body[512];
    now_utc(finished, sizeof(finished));
    int n = snprintf(body, sizeof(body),
                     "{\"exit_code\": %d, \"reason\": \"%s\", \"started_at\": \"%s\", "
                     "\"finished_at\": \"%s\"}\n",
                     code, reason, started, finished);
    if (n < 0 || (size_t)n >= sizeof(body)) return -1;
    record_tail(path); /* best effort: the exit code matters more than the tail */
    return write_atomically(path, body, (size_t)n);
}

/* fork + exec; the child reports an exec failure's errno through a close-on-exec pipe.
 * out[0] and err[0] receive the child's stdout and stderr. */
static pid_t spawn(char **argv, sigset_t *old_mask, int *exec_errno, int out[2], int err[2]) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) return -1;
    if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) return -1;
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        for (size_t i = 0; i < NFORWARDED; i++) signal(forwarded[i], SIG_DFL);
        signal(SIGPIPE, SIG_DFL); /* ignored signals stay ignored across exec */
        sigprocmask(SIG_SETMASK, old_mask, NULL);
        dup2(out[1], STDOUT_FILENO); /* dup2 clears close-on-exec on the copies */
        dup2(err[1], STDERR_FILENO);
        close(fds[0]);
        execvp(argv[0], argv);
        int err = errno;
        (void)!write(fds[1], &err, sizeof(err));
        _exit(127);
    }
    close(fds[1]);
    close(out[1]);
    close(err[1]);
    child_pid = pid;
    ssize_t n;
    do n = read(fds[0], exec_errno, sizeof(*exec_errno));
    while (n < 0 && errno == EINTR);
    if (n != (ssize_t)sizeof(*exec_errno)) *exec_errno = 0;
    close(fds[0]);
    return pid;
}

/* Pass one read of `fd` on to `to` and into the tail; 0 at its end (fd closed), else 1. */
static int pump(int *fd, int to) {
    char buf[65536];
    ssize_t n = read(*fd, buf, sizeof(buf));
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) return 1;
    if (n <= 0) {
        close(*fd);
        *fd = -1;
        return 0;
    }
    (void)write_all(to, buf, (size_t)n); /* a closed log must not stop the processor */
    keep(buf, (size_t)n);
    return 1;
}

/* Reap children without blocking (any orphan we inherited as PID 1 too); 1 once `pid`
 * has ended, its status in *status (-1 if it was lost). */
static int reaped(pid_t pid, int *status) {
    for (;;) {
        int st;
        pid_t got = waitpid(-1, &st, WNOHANG);
        if (got == pid) {
            *status = st;
            return 1;
        }
        if (got > 0) continue;
        if (got < 0 && errno == EINTR) continue;
        if (got < 0 && errno == ECHILD) {
            *status = -1;
            return 1;
        }
        return 0;
    }
}

/* Pump the child's output until it has exited and its pipes are drained (or quiet for
 * DRAIN_MS after its exit); return its wait status. */
static int wait_child(pid_t pid, int out, int err) {
    int status = -1, exited = 0;
    for (;;) {
        if (!exited) exited = reaped(pid, &status);
        if (out < 0 && err < 0) {
            while (!exited) {
                pid_t got = waitpid(-1, &status, 0);
                if (got == pid) exited = 1;
                else if (got < 0 && errno != EINTR) status = -1, exited = 1;
            }
            return status;
        }
        struct pollfd p[2] = {{out, POLLIN, 0}, {err, POLLIN, 0}};
        int ready = poll(p, 2, exited ? DRAIN_MS : 100);
        if (ready < 0 && errno != EINTR) return exited ? status : -1;
        if (ready == 0 && exited) break;
        if (ready <= 0) continue;
        if (out >= 0 && (p[0].revents & (POLLIN | POLLHUP | POLLERR))) pump(&out, STDOUT_FILENO);
        if (err >= 0 && (p[1].revents & (POLLIN | POLLHUP | POLLERR))) pump(&err, STDERR_FILENO);
    }
    if (out >= 0) close(out);
    if (err >= 0) close(err);
    return status;
}

int main(int argc, char **argv) {
    const char *given = NULL;
    int i = 1;
    if (i + 1 < argc && strcmp(argv[i], "--exit-file") == 0) {
        given = argv[i + 1];
        i += 2;
    }
    if (i < argc && strcmp(argv[i], "--") == 0) i++;
    if (i >= argc) {
        fprintf(stderr, "usage: radswift-emissary [--exit-file PATH] -- CMD [ARGS...]\n");
        return 2;
    }
    char path[PATH_MAX];
    if (exit_file_path(given, path, sizeof(path)) != 0) {
        fprintf(stderr, "radswift-emissary: cannot work out where to write the exit code\n");
        return 2;
    }
    char started[32];
    now_utc(started, sizeof(started));

    sigset_t block, old_mask;
    sigemptyset(&block);
    for (size_t k = 0; k < NFORWARDED; k++) sigaddset(&block, forwarded[k]);
    sigprocmask(SIG_BLOCK, &block, &old_mask); /* nothing is lost between fork and handlers */
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = forward;
    sa.sa_flags = SA_RESTART;
    for (size_t k = 0; k < NFORWARDED; k++) sigaction(forwarded[k], &sa, NULL);

    signal(SIGPIPE, SIG_IGN); /* a closed stdout is reported by write, not fatal */
    int exec_errno = 0, out[2], err[2];
    pid_t pid = spawn(argv + i, &old_mask, &exec_errno, out, err);
    sigprocmask(SIG_SETMASK, &old_mask, NULL);
    if (pid < 0) {
        perror("radswift-emissary: fork");
        record(path, 127, "ExecFailed", started);
        return 127;
    }
    int status = wait_child(pid, out[0], err[0]);
    int code;
    const char *reason;
    if (exec_errno != 0) {
        code = (exec_errno == ENOENT || exec_errno == ENOTDIR) ? 127 : 126;
        reason = "ExecFailed";
        char why[PATH_MAX + 128];
        int n = snprintf(why, sizeof(why), "radswift-emissary: cannot execute %s: %s\n", argv[i],
                         strerror(exec_errno));
        if (n > 0) {
            size_t len = (size_t)n < sizeof(why) ? (size_t)n : sizeof(why) - 1;
            (void)write_all(STDERR_FILENO, why, len);
            keep(why, len); /* the tail says why too */
        }
    } else if (status < 0) {
        code = 127;
        reason = "Lost";
    } else if (WIFSIGNALED(status)) {
        code = 128 + WTERMSIG(status);
        reason = "Signaled";
    } else {
        code = WEXITSTATUS(status);
        reason = code == 0 ? "Completed" : "Error";
    }
    if (record(path, code, reason, started) != 0) {
        fprintf(stderr, "radswift-emissary: cannot write %s: %s\n", path, strerror(errno));
        return code == 0 ? 1 : code;
    }
    return code;
}

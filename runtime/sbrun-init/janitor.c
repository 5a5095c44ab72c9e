/* sbrun's janitor process (sbrun_init.h; the design is in janitor.hpp). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "janitor_protocol.h"
#include "sbrun_init.h"

/* A growing list of pointers; out of memory ends the janitor's service (the
 * caller then cleans up what it has). */
struct list {
  void** items;
  size_t size, capacity;
};

static int push(struct list* l, void* item) {
  if (l->size == l->capacity) {
    const size_t capacity = l->capacity == 0 ? 64 : 2 * l->capacity;
    void** grown = realloc(l->items, capacity * sizeof *grown);
    if (grown == NULL) return 0;
    l->items = grown;
    l->capacity = capacity;
  }
  l->items[l->size++] = item;
  return 1;
}

/* Waits until `pid` no longer exists (it is not our child). */
static void wait_gone(pid_t pid) {
  const int fd = (int)syscall(SYS_pidfd_open, pid, 0);
  if (fd >= 0) {
    struct pollfd p = {fd, POLLIN, 0};
    while (poll(&p, 1, -1) < 0 && errno == EINTR) {
    }
    close(fd);
    return;
  }
  while (kill(pid, 0) == 0) usleep(5000);
}

/* The directory holding `path` (absolute), reached from `/` one component
 * at a time without following a symlink: a link swapped in after sbrun made
 * the placeholder leads nowhere, so nothing elsewhere is removed. -1 when it
 * cannot be reached. `*name` points at the last component. */
static int open_parent_nofollow(const char* path, const char** name) {
  const char* last = strrchr(path, '/');
  if (path[0] != '/' || last == NULL || last[1] == '\0') return -1;
  *name = last + 1;
  int dir = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  const char* at = path + 1;
  while (dir >= 0 && at < last) {
    const char* slash = strchr(at, '/');
    char component[256];
    const size_t len = (size_t)(slash - at);
    if (len == 0 || len >= sizeof component) {
      close(dir);
      return -1;
    }
    memcpy(component, at, len);
    component[len] = '\0';
    const int next = openat(dir, component, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    close(dir);
    dir = next;
    at = slash + 1;
  }
  return dir;
}

struct placeholder_file {
  char* path;
  off_t size;
};

static size_t depth(const char* path) {
  size_t n = 0;
  for (; *path != '\0'; ++path) n += *path == '/';
  return n;
}

static int deeper_first(const void* a, const void* b) {
  const size_t da = depth(*(char* const*)a), db = depth(*(char* const*)b);
  return da > db ? -1 : da < db ? 1 : 0;
}

_Noreturn void sbrun_janitor_main(void) {
  /* Nothing of sbrun's but the channel and stderr: no terminal on stdin or
   * stdout, no descriptor sbrun's own caller leaked to it. */
  close(STDIN_FILENO);
  close(STDOUT_FILENO);
  if (syscall(SYS_close_range, SB_JANITOR_CHANNEL_FD + 1u, ~0u, 0u) != 0) {
    for (int fd = SB_JANITOR_CHANNEL_FD + 1; fd < 1024; ++fd) close(fd);
  }
  setsid();
  const int ignored[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE, SIGTSTP, SIGTTIN, SIGTTOU};
  for (size_t i = 0; i < sizeof ignored / sizeof ignored[0]; ++i) signal(ignored[i], SIG_IGN);

  struct list created = {0}, pids = {0}, files = {0};
  /* The unfinished line carried over between messages. */
  char* line = NULL;
  size_t line_size = 0;
  static char chunk[4096];
  union {
    struct cmsghdr align;
    char bytes[CMSG_SPACE(sizeof(int) * SB_JANITOR_FDS_PER_MESSAGE)];
  } control;
  int serving = 1;
  while (serving) {
    struct iovec iov = {chunk, sizeof chunk};
    struct msghdr m = {0};
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    m.msg_control = control.bytes;
    m.msg_controllen = sizeof control.bytes;
    const ssize_t n = recvmsg(SB_JANITOR_CHANNEL_FD, &m, MSG_CMSG_CLOEXEC);
    if (n < 0 && errno == EINTR) continue;
    /* Handed-over placeholders stay open here (the process holds them)
     * until it exits; nothing else is done with them. */
    if (n <= 0) break;
    char* grown = realloc(line, line_size + (size_t)n + 1);
    if (grown == NULL) break;
    line = grown;
    memcpy(line + line_size, chunk, (size_t)n);
    line_size += (size_t)n;
    line[line_size] = '\0';
    char* start = line;
    char* nl;
    while (serving && (nl = memchr(start, '\n', line_size - (size_t)(start - line))) != NULL) {
      *nl = '\0';
      if (strcmp(start, "done") == 0) {
        /* sbrun removed the names; the held directories are released as
         * this process exits. Whoever reads sbrun's stderr to its end is not
         * kept waiting for that. */
        close(STDERR_FILENO);
        _exit(0);
      }
      if (strncmp(start, "mkdir ", 6) == 0) {
        char* path = strdup(start + 6);
        serving = path != NULL && push(&created, path);
      } else if (strncmp(start, "file ", 5) == 0) {
        /* "file SIZE PATH": removed only while a regular file of SIZE bytes. */
        char* end = NULL;
        const unsigned long size = strtoul(start + 5, &end, 10);
        struct placeholder_file* f = malloc(sizeof *f);
        serving = f != NULL && end != NULL && *end == ' ' && (f->path = strdup(end + 1)) != NULL;
        if (serving) {
          f->size = (off_t)size;
          serving = push(&files, f);
        }
      } else if (strncmp(start, "pid ", 4) == 0) {
        serving = push(&pids, (void*)(long)atol(start + 4));
      }
      start = nl + 1;
    }
    line_size -= (size_t)(start - line);
    memmove(line, start, line_size);
  }
  /* sbrun is gone without cleaning up: wait for the sandbox, then remove
   * the placeholders that are still empty, deepest first (rmdir fails
   * harmlessly on one that is not). */
  for (size_t i = 0; i < pids.size; ++i) wait_gone((pid_t)(long)pids.items[i]);
  for (size_t i = 0; i < files.size; ++i) {
    const struct placeholder_file* f = files.items[i];
    struct stat st;
    const char* name = NULL;
    const int dir = open_parent_nofollow(f->path, &name);
    if (dir < 0) continue;
    if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) && st.st_size == f->size) {
      unlinkat(dir, name, 0);
    }
    close(dir);
  }
  if (created.size > 0) qsort(created.items, created.size, sizeof *created.items, deeper_first);
  for (size_t i = 0; i < created.size; ++i) {
    const char* name = NULL;
    const int dir = open_parent_nofollow((const char*)created.items[i], &name);
    if (dir < 0) continue;
    unlinkat(dir, name, AT_REMOVEDIR); /* fails harmlessly when not empty */
    close(dir);
  }
  _exit(0);
}

// Who the sandbox runs as on the host.
//
// bubblewrap maps the command's uid inside to the uid that started it. Run
// by root, that is host uid 0: every root-owned file the kernel exposes by
// mode bits alone (`/proc/sys/kernel/core_pattern`, sysfs, anything a grant
// binds read-write) is the command's to write, and a core pattern is a way to
// run a program as host root outside every namespace. So sbrun started as
// root gives root up before it does anything for the sandbox, and for good:
// the whole process (the log, placeholders, bubblewrap, the proxy) runs as
// an ordinary user, chosen in this order:
//   1. `--user NAME|UID`;
//   2. the owner of the workspace, when that is not root;
//   3. otherwise nobody: the launch is refused (exit 125), because the only
//      user who may write a root-owned workspace is root.
// Uid 0 and gid 0 are never kept: a target whose primary group is 0 is
// refused, and group 0 is dropped from the supplementary groups. `~` stays
// $HOME when the target owns it, else it becomes the target's home from the
// password database (as `su` and `sudo -H` do); USER and LOGNAME name the
// target.
#pragma once

#include <sys/types.h>

#include <string>

namespace sbpolicy::runtime {

struct Identity {
  bool switched = false;  // sbrun was root and is now `name`
  uid_t uid = 0;
  gid_t gid = 0;
  std::string name;
  std::string why;  // how the user was chosen, for -v
};

// Leaves root when sbrun runs as root (real or effective uid 0); nothing
// otherwise, except that `requested` must then be empty or the current user.
// False with `error` when no safe identity can be taken: the caller exits
// 125 and runs nothing.
bool leave_root(const std::string& requested, const std::string& workspace, Identity& out, std::string& error);

}  // namespace sbpolicy::runtime

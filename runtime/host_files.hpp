// Files sbrun writes on the host, opened so that nothing the sandbox planted
// can redirect them.
//
// A sandbox may write whatever its policy lets it write, and it runs before
// the next launch: a link it planted (`sbrun.log -> ~/.bashrc`, `logs ->
// ~`) would turn sbrun's own writes into its writes, outside the boundary,
// with content it chose (file names in log lines). So a host file is
// reached by walking its path one component at a time from a descriptor:
//  - a directory the sandbox could write (decided by the policy being run)
//    is refused outright, so is the file itself: nothing there can be
//    trusted not to have been planted;
//  - a symlink is followed only where the sandbox could not have made it
//    (in a directory it cannot write: the user's own `/home -> /var/home`);
//  - the file is opened with O_NOFOLLOW, created 0600 if missing, and must
//    then be a regular file of this user with one link (no hard link to
//    another file), empty or starting as sbrun's logs do (a JSON line): sbrun
//    appends to nothing it did not write.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace sbpolicy::runtime {

// Whether the sandbox may write the canonical absolute path.
using SandboxWrites = std::function<bool(const std::string& path)>;

// Opens directory `path` (absolute, canonical) from `/`, one component at a
// time, following no symlink (O_PATH | O_NOFOLLOW): what is opened is what
// the path names now, and a symlink swapped in on the way is an error, not a
// detour. With `make`, missing components are created (mkdirat, 0755) and
// appended to `made`. Returns an O_PATH descriptor, or -1 with `error`.
int open_directory_nofollow(const std::string& path, bool make, std::vector<std::string>* made, std::string& error);

// The same for a path of any type (the last component is not followed
// either): the descriptor a bind mount's source is given as.
int open_path_nofollow(const std::string& path, std::string& error);

// Opens `path` (absolute, or relative to the working directory) to append,
// creating it when missing. Returns the descriptor (O_CLOEXEC), or -1 with
// `error` saying what to fix.
int open_host_file_for_append(const std::string& path, const SandboxWrites& sandbox_writes, std::string& error);

}  // namespace sbpolicy::runtime

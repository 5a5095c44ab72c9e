// `sbrun --sbrun-connect HOST PORT`: ssh's ProxyCommand inside the sandbox.
//
// ssh cannot speak to an HTTP or SOCKS proxy by itself, and the sandbox
// has no other way out, so sbrun sets GIT_SSH_COMMAND to
// `ssh -o ProxyCommand='SBRUN --sbrun-connect %h %p'`: this mode asks the
// proxy for a CONNECT tunnel to HOST:PORT on 127.0.0.1 (the policy decides
// there, as for any client) and then copies stdin to the tunnel and the
// tunnel to stdout until both ends close. No socat, no netcat.
#pragma once

namespace sbpolicy::runtime {

// Returns the exit status: 0 after a tunnel that ended normally, 1 when
// the proxy refused (its status line is printed on stderr), 2 on bad usage.
int run_connect(int argc, char** argv);

}  // namespace sbpolicy::runtime

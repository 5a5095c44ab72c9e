// sbrun's operator new: a bump arena while the process has one thread
// (bump_new.cpp says why and how). Linking bump_new.cpp replaces the global
// operator new and delete; this header only lets tests look.
#pragma once

namespace sbpolicy {

// Did `p` come from the arena (and so will never be given back)?
bool bump_arena_owns(const void* p) noexcept;

}  // namespace sbpolicy

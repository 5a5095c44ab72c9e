// Start-up tuning for sbrun: C++ allocations from a bump arena while the
// process has one thread.
//
// Compiling and lowering std.agent makes ~23,000 small allocations (strings,
// vectors, map nodes: ~1.5 MB in all), most freed soon after; glibc's malloc
// and free were a fifth of that time. Until sbrun starts its first thread
// (the sandbox is running by then), operator new here hands out the next
// 16-byte-aligned piece of one arena and operator delete of a piece does
// nothing: the arena is never reused, the launch's objects either live until
// exit or were short-lived, and either way the kernel takes it all back at
// exit. From the first thread on (__libc_single_threaded turns false, and
// never back), and for any request the arena cannot hold, it is malloc and
// free as usual; deleting a piece of the arena stays a no-op, from any
// thread, since the arena's bounds never change.
//
// The arena is reserved up front (64 MiB of address space, MAP_NORESERVE)
// and only what is handed out is touched, on transparent huge pages where
// the kernel allows: a launch's allocations fit in one, and a page fault
// costs 5-11 us on some virtual machines (huge_heap.cpp, which sbc uses and
// this replaces in sbrun: with both, a launch cleared two huge pages). A
// policy that churns through more than the arena continues on malloc.
// Measured side by side, std.agent -- /bin/true: compiling 0.89 -> 0.77 ms,
// lowering 1.55 -> 1.32 ms, launch 11.76 -> 11.46 ms.
//
// Linked into sbrun only (sbpolicy_sbrun_memory), not into sanitizer or
// fuzzing builds, whose allocators must see every allocation.
#include "support/bump_new.hpp"

#include <sys/mman.h>
#include <sys/single_threaded.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>

namespace {

constexpr std::size_t kArena = std::size_t{64} << 20;
constexpr std::size_t kHugePage = std::size_t{2} << 20;
// Bigger requests go to malloc. The launch's larger vectors (the rules, the
// plan) fit under it: from malloc, each touched fresh heap pages, ~45 page
// faults per launch of std.agent.
constexpr std::size_t kLargest = 512 * 1024;
constexpr std::size_t kAlign = __STDCPP_DEFAULT_NEW_ALIGNMENT__;

char* g_begin = nullptr;  // the arena, once reserved; never changes after
char* g_end = nullptr;
char* g_next = nullptr;
bool g_failed = false;  // no arena could be reserved: malloc only

bool reserve() {
  // 2 MiB-aligned, so the advice covers whole huge pages.
  void* raw = mmap(nullptr, kArena + kHugePage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                   -1, 0);
  if (raw == MAP_FAILED) {
    g_failed = true;
    return false;
  }
  const auto at = (reinterpret_cast<std::uintptr_t>(raw) + kHugePage - 1) & ~(kHugePage - 1);
  madvise(reinterpret_cast<void*>(at), kArena, MADV_HUGEPAGE);  // advice only
  g_next = g_begin = reinterpret_cast<char*>(at);
  g_end = g_begin + kArena;
  return true;
}

void* from_arena(std::size_t n) {
  if (!__libc_single_threaded || n > kLargest || g_failed) return nullptr;
  if (g_begin == nullptr && !reserve()) return nullptr;
  const std::size_t size = n == 0 ? kAlign : (n + kAlign - 1) & ~(kAlign - 1);
  if (static_cast<std::size_t>(g_end - g_next) < size) return nullptr;
  void* p = g_next;
  g_next += size;
  return p;
}

bool in_arena(const void* p) {
  const auto* c = static_cast<const char*>(p);
  return c >= g_begin && c < g_end;
}

void* allocate(std::size_t n) {
  if (void* p = from_arena(n)) return p;
  for (;;) {
    if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
    std::new_handler handler = std::get_new_handler();
    if (handler == nullptr) throw std::bad_alloc();
    handler();
  }
}

void release(void* p) noexcept {
  if (p != nullptr && !in_arena(p)) std::free(p);
}

}  // namespace

bool sbpolicy::bump_arena_owns(const void* p) noexcept { return p != nullptr && in_arena(p); }

void* operator new(std::size_t n) { return allocate(n); }
void* operator new[](std::size_t n) { return allocate(n); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  try {
    return allocate(n);
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
  try {
    return allocate(n);
  } catch (...) {
    return nullptr;
  }
}
void operator delete(void* p) noexcept { release(p); }
void operator delete[](void* p) noexcept { release(p); }
void operator delete(void* p, std::size_t) noexcept { release(p); }
void operator delete[](void* p, std::size_t) noexcept { release(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { release(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { release(p); }
// Over-aligned requests are rare: they always go to the C library, and so
// never come from the arena.

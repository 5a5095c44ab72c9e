// Start-up tuning for sbc: the heap on transparent huge pages.
//
// Compiling and lowering std.agent touches ~250 fresh 4 KiB heap pages, and
// each first touch is a page fault. On virtual machines with shadow or
// nested paging a fault costs 5-11 us (measured on the project's machine),
// so those faults were ~2 ms of every launch. One 2 MiB huge page holds the
// whole heap of a launch and costs one fault (0.15-0.35 ms there).
//
// Before main, this moves the program break to 4 KiB below a 2 MiB
// boundary, lets malloc take a 16 MiB block there (so the heap's VMA spans
// it), marks that range MADV_HUGEPAGE before anything in it is touched, and
// frees the block back into malloc's top. Every step only asks: if the
// kernel or the C library refuses one (no THP, a data limit, a heap moved by
// someone else), the heap stays as it was, on small pages. Nothing is
// touched that malloc will not use anyway: the range stays virtual until
// allocations reach it, one huge page at a time.
//
// Linked into sbc (sbpolicy_sbc_memory), not into sanitizer or fuzzing
// builds, whose allocators are not glibc's. sbrun puts its allocations on a
// huge page another way (bump_new.cpp): with both, a launch cleared two huge
// pages where one holds it all.
#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>

namespace {

constexpr std::uintptr_t kHugePage = std::uintptr_t{2} << 20;
constexpr std::size_t kRegion = std::size_t{16} << 20;
constexpr std::uintptr_t kSmallPage = 4096;

__attribute__((constructor(101))) void heap_on_huge_pages() {
  // malloc keeps the region: freeing into the top chunk must not give it
  // back to the kernel (a later brk would map it again without the advice).
  if (mallopt(M_TRIM_THRESHOLD, 2 * static_cast<int>(kRegion)) == 0) return;
  const auto brk_now = reinterpret_cast<std::uintptr_t>(sbrk(0));
  if (brk_now == static_cast<std::uintptr_t>(-1)) return;
  // malloc writes a chunk header just below the block it returns: that
  // header goes in the small page before the boundary, so the first huge
  // range is untouched when the advice is given.
  const std::uintptr_t boundary = (brk_now + kSmallPage + kHugePage - 1) & ~(kHugePage - 1);
  if (sbrk(static_cast<intptr_t>(boundary - kSmallPage - brk_now)) == reinterpret_cast<void*>(-1)) return;
  // The block must come from the break, not from mmap.
  mallopt(M_MMAP_THRESHOLD, static_cast<int>(2 * kRegion));
  void* block = std::malloc(kRegion);
  asm volatile("" : : "r"(block) : "memory");  // the allocation is the point
  const auto start = reinterpret_cast<std::uintptr_t>(block);
  if (block != nullptr && start >= boundary - kSmallPage && start < boundary) {
    madvise(reinterpret_cast<void*>(boundary), (start + kRegion - boundary) & ~(kHugePage - 1), MADV_HUGEPAGE);
  }
  std::free(block);
  mallopt(M_MMAP_THRESHOLD, 128 * 1024);  // glibc's default
}

}  // namespace

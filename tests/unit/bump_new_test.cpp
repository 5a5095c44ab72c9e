// The bump arena behind sbrun's operator new (compiler/support/bump_new.cpp),
// in a program of its own since it replaces operator new for the whole
// program: while there is one thread, pieces come in order from the arena,
// aligned and never reused; requests over the largest piece, and every
// request once a thread exists, come from malloc; deleting a piece is
// harmless from any thread.
#include "support/bump_new.hpp"

#include <gtest/gtest.h>
#include <sys/single_threaded.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <thread>

using sbpolicy::bump_arena_owns;

namespace {

bool aligned(const void* p) { return reinterpret_cast<std::uintptr_t>(p) % __STDCPP_DEFAULT_NEW_ALIGNMENT__ == 0; }

// Tests run in file order: this one before any thread exists.
TEST(BumpNew, OneThreadPiecesComeInOrderAndAreNotReused) {
  ASSERT_TRUE(__libc_single_threaded) << "a thread exists already; the arena is off";
  char* a = new char[24];
  char* b = new char[24];
  char* c = new char[1];
  ASSERT_TRUE(bump_arena_owns(a) && bump_arena_owns(b) && bump_arena_owns(c));
  EXPECT_EQ(b - a, 32) << "24 bytes take 32, the next 16-byte boundary";
  EXPECT_EQ(c - b, 32);
  EXPECT_TRUE(aligned(a) && aligned(b) && aligned(c));
  std::memset(a, 'x', 24);
  delete[] a;
  char* d = new char[16];
  EXPECT_EQ(d - c, 16) << "a deleted piece is not handed out again";
  auto s = std::make_unique<std::string>(1000, 'y');  // through std::allocator too
  EXPECT_TRUE(bump_arena_owns(s.get()) && bump_arena_owns(s->data()));
  void* big = ::operator new(std::size_t{1} << 20);
  EXPECT_FALSE(bump_arena_owns(big)) << "a request over 512 KiB goes to malloc";
  ::operator delete(big);
  delete[] b;
  delete[] c;
  delete[] d;
}

TEST(BumpNew, FromTheFirstThreadOnItIsMalloc) {
  char* before = new char[16];
  ASSERT_TRUE(bump_arena_owns(before));
  char* in_thread = nullptr;
  std::thread t([&] {
    in_thread = new char[16];
    delete[] before;  // an arena piece deleted from another thread: nothing happens
  });
  t.join();
  EXPECT_FALSE(__libc_single_threaded);
  EXPECT_FALSE(bump_arena_owns(in_thread));
  char* after = new char[16];
  EXPECT_FALSE(bump_arena_owns(after)) << "the arena stays off once a thread has existed";
  std::memset(after, 0, 16);
  delete[] after;  // malloc's, freed by free
  delete[] in_thread;
  EXPECT_FALSE(bump_arena_owns(nullptr));
}

}  // namespace

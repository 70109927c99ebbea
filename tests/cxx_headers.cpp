// The public headers must compile as C++ (C++20: co_yield, co_await and
// co_return are keywords there). Compiled with -fsyntax-only by ctest.
#include "crawl/co.h"
#include "crawl/co_exec.h"
#include "crawl/co_group.h"
#include "crawl/co_queue.h"
#include "crawl/co_sync.h"
#include "crawl/hash.h"

int main() { return co_loop_current() == nullptr ? 0 : 1; }

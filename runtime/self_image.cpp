#include "self_image.hpp"

#include <elf.h>
#include <link.h>
#include <limits.h>
#include <stdlib.h>

#include <algorithm>
#include <cstring>

namespace sbpolicy::runtime {

namespace {

int collect(dl_phdr_info* info, std::size_t, void* data) {
  auto* files = static_cast<std::vector<std::pair<std::string, std::string>>*>(data);
  // The main program has an empty name; linux-vdso has no file.
  if (info->dlpi_name == nullptr || info->dlpi_name[0] != '/') {
    // The main program's PT_INTERP names the loader's path as the kernel will look for it.
    if (info->dlpi_name != nullptr && info->dlpi_name[0] == '\0') {
      for (int i = 0; i < info->dlpi_phnum; ++i) {
        if (info->dlpi_phdr[i].p_type != PT_INTERP) continue;
        const char* interp = reinterpret_cast<const char*>(info->dlpi_addr + info->dlpi_phdr[i].p_vaddr);
        char real[PATH_MAX];
        if (realpath(interp, real) != nullptr) files->emplace_back(real, interp);
      }
    }
    return 0;
  }
  char real[PATH_MAX];
  if (realpath(info->dlpi_name, real) != nullptr) files->emplace_back(real, real);
  return 0;
}

}  // namespace

SelfImage self_image() {
  SelfImage image;
  dl_iterate_phdr(collect, &image.files);
  char exe[PATH_MAX];
  if (realpath("/proc/self/exe", exe) != nullptr) {
    image.executable = exe;
    image.files.emplace_back(exe, exe);
  }
  std::sort(image.files.begin(), image.files.end());
  image.files.erase(std::unique(image.files.begin(), image.files.end()), image.files.end());
  return image;
}

}  // namespace sbpolicy::runtime

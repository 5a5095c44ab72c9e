#include "self_image.hpp"

#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
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

// Does the ELF file at `path` ask for a dynamic loader (PT_INTERP)?
bool is_dynamic(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return true;
  Elf64_Ehdr eh{};
  bool dynamic = true;
  if (pread(fd, &eh, sizeof eh, 0) == static_cast<ssize_t>(sizeof eh) && eh.e_phentsize == sizeof(Elf64_Phdr)) {
    dynamic = false;
    for (unsigned i = 0; i < eh.e_phnum; ++i) {
      Elf64_Phdr ph{};
      const auto at = static_cast<off_t>(eh.e_phoff + i * sizeof ph);
      if (pread(fd, &ph, sizeof ph, at) != static_cast<ssize_t>(sizeof ph)) return close(fd), true;
      if (ph.p_type == PT_INTERP) dynamic = true;
    }
  }
  close(fd);
  return dynamic;
}

}  // namespace

SelfImage self_image() {
  SelfImage image;
  char exe[PATH_MAX];
  if (realpath("/proc/self/exe", exe) == nullptr) {
    image.error = std::string("cannot find sbrun's own executable: ") + std::strerror(errno);
    return image;
  }
  std::string dir = exe;
  dir.erase(dir.rfind('/'));
  const std::string init = dir + "/" SBRUN_INIT_NAME;
  char real[PATH_MAX];
  if (realpath(init.c_str(), real) == nullptr || access(real, X_OK) != 0) {
    image.error = "`" + init + "` is missing or not executable; it is installed with sbrun, next to it";
    return image;
  }
  image.init = real;
  image.files.emplace_back(image.init, image.init);
  if (is_dynamic(image.init)) dl_iterate_phdr(collect, &image.files);
  std::sort(image.files.begin(), image.files.end());
  image.files.erase(std::unique(image.files.begin(), image.files.end()), image.files.end());
  return image;
}

}  // namespace sbpolicy::runtime

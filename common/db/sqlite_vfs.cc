#include "common/db/sqlite_vfs.h"

#include <sqlite3.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

namespace dbrepl {
namespace {

constexpr char kVfsName[] = "dbrepl-unix";

sqlite3_vfs* base_vfs = nullptr;  // SQLite's default, set once before registering.
sqlite3_vfs dbrepl_vfs;

bool IsPlainAbsolutePath(const char* path, size_t len) {
  if (len == 0 || path[0] != '/') return false;
  for (size_t i = 0; i < len; ++i) {
    if (path[i] != '/') continue;
    // A component that starts here: "", "." and ".." are not plain.
    const char* c = path + i + 1;
    size_t rest = len - i - 1;
    if (rest == 0 || c[0] == '/') return false;
    if (c[0] == '.' && (rest == 1 || c[1] == '/')) return false;
    if (c[0] == '.' && c[1] == '.' && (rest == 2 || c[2] == '/')) return false;
  }
  return true;
}

int FullPathname(sqlite3_vfs* vfs, const char* name, int n_out, char* out) {
  (void)vfs;
  const size_t len = std::strlen(name);
  if (IsPlainAbsolutePath(name, len) && len < static_cast<size_t>(n_out)) {
    struct stat st;
    // A missing file (about to be created) has no link to follow either.
    if (lstat(name, &st) == 0 ? !S_ISLNK(st.st_mode) : errno == ENOENT) {
      std::memcpy(out, name, len + 1);
      return SQLITE_OK;
    }
  }
  return base_vfs->xFullPathname(base_vfs, name, n_out, out);
}

const char* Register() {
  base_vfs = sqlite3_vfs_find(nullptr);
  if (base_vfs == nullptr) return nullptr;
  // A copy of the default, pAppData included (the unix VFS keeps its
  // locking-style finder there), with only the pathname step replaced.
  dbrepl_vfs = *base_vfs;
  dbrepl_vfs.pNext = nullptr;
  dbrepl_vfs.zName = kVfsName;
  dbrepl_vfs.xFullPathname = &FullPathname;
  if (sqlite3_vfs_register(&dbrepl_vfs, /*makeDflt=*/0) != SQLITE_OK) return nullptr;
  return kVfsName;
}

}  // namespace

const char* DbreplVfsName() {
  static const char* const name = Register();
  return name;
}

}  // namespace dbrepl

// The SQLite VFS dbrepl opens databases with: SQLite's own unix VFS (the
// same files, locks and journals as Swift's Python, which uses the same
// library), except for how a path becomes a full pathname. SQLite's unix VFS
// lstat()s every component of every path it opens, to resolve symbolic links
// in directories (a dozen system calls per open for Swift's deep layout,
// paid on every cold read). A journal's name is the database's full
// pathname plus "-journal", so only a link in the last component changes
// where the journal goes: an absolute, plain path (no "." or ".." components,
// no repeated "/") whose last component is not a symbolic link is its own
// full pathname here; anything else is resolved by SQLite as before.
//
// Thread-safe: registered once, on first use.
#ifndef DBREPL_COMMON_DB_SQLITE_VFS_H_
#define DBREPL_COMMON_DB_SQLITE_VFS_H_

namespace dbrepl {

// The VFS name to pass to sqlite3_open_v2, or nullptr (SQLite's default)
// if it could not be registered.
const char* DbreplVfsName();

}  // namespace dbrepl

#endif  // DBREPL_COMMON_DB_SQLITE_VFS_H_

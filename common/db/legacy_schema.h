// The container schema Swift wrote before storage policies (Swift 1.x,
// 2013: a container_stat table, an object table without
// storage_policy_index, and triggers that update container_stat directly).
// Such databases still arrive by rsync from old clusters; dbrepl reads them
// as they are and migrates them on the first row merge, as Swift does.
// These are the DDL strings as Swift wrote them, used to recognise such a
// schema in an upload and to build one in tests.
#ifndef DBREPL_COMMON_DB_LEGACY_SCHEMA_H_
#define DBREPL_COMMON_DB_LEGACY_SCHEMA_H_

namespace dbrepl {

// The object table, its index and its three triggers.
extern const char kLegacyObjectDdl[];
// The container_stat table and its initial row.
extern const char kLegacyContainerStatDdl[];

}  // namespace dbrepl

#endif  // DBREPL_COMMON_DB_LEGACY_SCHEMA_H_

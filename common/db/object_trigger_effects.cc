#include "common/db/object_trigger_effects.h"

#include <limits>

#include "common/chexor.h"
#include "common/status_macros.h"

namespace dbrepl {
namespace {

// Whether an exactly computed count fits SQLite's INTEGER.
bool InRange(__int128 v) {
  return v >= std::numeric_limits<int64_t>::min() && v <= std::numeric_limits<int64_t>::max();
}

}  // namespace

bool ObjectTriggerEffects::Add(const Row& row, std::map<int64_t, Sums>* sums) {
  if ((row.deleted != 0 && row.deleted != 1) || row.size < 0) return false;
  Sums& s = (*sums)[row.storage_policy_index];
  Sums next;
  if (__builtin_add_overflow(s.objects, 1 - row.deleted, &next.objects) ||
      __builtin_add_overflow(s.bytes, row.size, &next.bytes)) {
    return false;
  }
  s = next;
  const Md5Digest term = ChexorTerm(row.name, row.created_at);
  for (int i = 0; i < 16; ++i) mask_[i] ^= term[i];
  ++rows_;
  return true;
}

bool ObjectTriggerEffects::Deleted(const Row& row) { return Add(row, &deleted_); }
bool ObjectTriggerEffects::Inserted(const Row& row) { return Add(row, &inserted_); }

absl::StatusOr<bool> ObjectTriggerEffects::Load(SqliteConnection* conn) {
  final_.clear();
  if (rows_ == 0) return true;
  {
    // The triggers rewrite every row of container_info; Swift has one.
    ASSIGN_OR_RETURN(SqliteStatement st, conn->Prepare("SELECT hash FROM container_info LIMIT 2"));
    ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row || !st.ColumnIsText(0)) return false;
    hash_ = st.ColumnText(0);
    ASSIGN_OR_RETURN(bool second, st.Step());
    if (second || !ChexorApply(hash_, Md5Digest{}).ok()) return false;
  }
  ASSIGN_OR_RETURN(SqliteStatement st, conn->Prepare("SELECT object_count, bytes_used FROM policy_stat "
                                                     "WHERE storage_policy_index = ?"));
  auto load = [&](int64_t policy) -> absl::StatusOr<bool> {
    if (final_.count(policy) != 0) return true;
    st.BindInt(1, policy);
    ASSIGN_OR_RETURN(bool row, st.Step());
    Stat stat;
    if (row) {
      if (!st.ColumnIsInteger(0) || !st.ColumnIsInteger(1)) return false;
      stat = Stat{true, st.ColumnInt(0), st.ColumnInt(1)};
    }
    st.Reset();
    final_[policy] = stat;
    return true;
  };
  // Deletes first: they only lower an existing row's counts.
  for (const auto& [policy, sums] : deleted_) {
    ASSIGN_OR_RETURN(bool ok, load(policy));
    if (!ok) return false;
    Stat& stat = final_[policy];
    if (!stat.exists) continue;
    const __int128 objects = static_cast<__int128>(stat.objects) - sums.objects;
    const __int128 bytes = static_cast<__int128>(stat.bytes) - sums.bytes;
    if (!InRange(objects) || !InRange(bytes)) return false;
    stat.objects = static_cast<int64_t>(objects);
    stat.bytes = static_cast<int64_t>(bytes);
  }
  // Then inserts: they only raise them, creating a missing row.
  for (const auto& [policy, sums] : inserted_) {
    ASSIGN_OR_RETURN(bool ok, load(policy));
    if (!ok) return false;
    Stat& stat = final_[policy];
    const __int128 objects = static_cast<__int128>(stat.objects) + sums.objects;
    const __int128 bytes = static_cast<__int128>(stat.bytes) + sums.bytes;
    if (!InRange(objects) || !InRange(bytes)) return false;
    stat = Stat{true, static_cast<int64_t>(objects), static_cast<int64_t>(bytes)};
  }
  return true;
}

absl::Status ObjectTriggerEffects::Apply(SqliteConnection* conn) const {
  if (rows_ == 0) return absl::OkStatus();
  // An existing row is updated in place, a missing one inserted with
  // policy_stat's other columns at their defaults, as the triggers do.
  ASSIGN_OR_RETURN(SqliteStatement update, conn->Prepare("UPDATE policy_stat SET object_count = ?, bytes_used = ? "
                                                         "WHERE storage_policy_index = ?"));
  ASSIGN_OR_RETURN(SqliteStatement insert, conn->Prepare("INSERT INTO policy_stat (storage_policy_index, "
                                                         "object_count, bytes_used) VALUES (?, ?, ?)"));
  for (const auto& [policy, stat] : final_) {
    if (!stat.exists) continue;
    update.BindInt(1, stat.objects);
    update.BindInt(2, stat.bytes);
    update.BindInt(3, policy);
    RETURN_IF_ERROR(update.Run());
    update.Reset();
    if (conn->Changes() != 0) continue;
    insert.BindInt(1, policy);
    insert.BindInt(2, stat.objects);
    insert.BindInt(3, stat.bytes);
    RETURN_IF_ERROR(insert.Run());
    insert.Reset();
  }
  ASSIGN_OR_RETURN(std::string hash, ChexorApply(hash_, mask_));
  ASSIGN_OR_RETURN(SqliteStatement set, conn->Prepare("UPDATE container_info SET hash = ?"));
  set.BindText(1, hash);
  return set.Run();
}

}  // namespace dbrepl

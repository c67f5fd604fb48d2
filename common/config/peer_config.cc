#include "common/config/peer_config.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "common/config/config_values.h"
#include "common/status_macros.h"

namespace dbrepl {

std::string ServerAppSectionName(DbType type) { return absl::StrCat("app:", ServerType(type), "-server"); }

PeerConfig PeerConfig::Defaults(DbType type) {
  PeerConfig c;
  c.type = type;
  c.bind_port = DefaultPort(type);
  return c;
}

absl::StatusOr<PeerConfig> PeerConfig::FromSection(const ConfigSection& section, DbType type) {
  PeerConfig c = Defaults(type);
  OptionReader in(section);
  c.devices = in.String("devices", c.devices);
  c.mount_check = in.Bool("mount_check", c.mount_check, &c.warnings);
  c.bind_ip = in.String("bind_ip", c.bind_ip);
  ASSIGN_OR_RETURN(int64_t bind_port, in.Int("bind_port", c.bind_port, 0, 65535));
  c.bind_port = static_cast<int>(bind_port);
  c.swift_dir = in.String("swift_dir", c.swift_dir);
  if (const std::string* v = section.Find("fallocate_reserve"); v != nullptr) {
    // config_fallocate_value: "<float>%" or an integer number of bytes.
    if (!v->empty() && v->back() == '%') {
      absl::StatusOr<double> pct = ParsePythonFloat(v->substr(0, v->size() - 1));
      if (!pct.ok() || !std::isfinite(*pct) || *pct < 0 || *pct > 100) {
        return in.Invalid("fallocate_reserve", *v, "must be a percentage between 0% and 100% or a byte count");
      }
      c.fallocate_reserve = *pct;
      c.fallocate_reserve_is_percent = true;
    } else {
      absl::StatusOr<int64_t> bytes = ParsePythonInt(*v);
      if (!bytes.ok() || *bytes < 0) {
        return in.Invalid("fallocate_reserve", *v, "must be a percentage such as 1% or a byte count");
      }
      c.fallocate_reserve = static_cast<double>(*bytes);
      c.fallocate_reserve_is_percent = false;
    }
  }
  return c;
}

absl::StatusOr<ConfigSection> PeerConfigSection(const IniFile& ini, DbType type) {
  const std::string app = ServerAppSectionName(type);
  ConfigSection merged;
  if (ini.HasSection(app)) {
    ASSIGN_OR_RETURN(merged, ini.PasteSection(app));
  } else {
    ASSIGN_OR_RETURN(merged, ini.Section("DEFAULT"));
    merged.name = app;  // for messages: what Swift's server would read
  }
  if (const auto* own = ini.RawSection(kPeerSectionName); own != nullptr) {
    // Interpolated like any section, but only the keys it sets itself.
    ASSIGN_OR_RETURN(ConfigSection peer, ini.Section(kPeerSectionName));
    for (const auto& [key, raw_value] : *own) merged.values[key] = peer.values[key];
    merged.name = absl::StrCat(app, "] + [", kPeerSectionName);
  }
  return merged;
}

absl::StatusOr<PeerConfig> LoadPeerConfig(const std::string& path, DbType type) {
  ASSIGN_OR_RETURN(IniFile ini, IniFile::Load(path));
  ASSIGN_OR_RETURN(ConfigSection section, PeerConfigSection(ini, type));
  return PeerConfig::FromSection(section, type);
}

}  // namespace dbrepl

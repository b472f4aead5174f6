#include "migrate/backup_step.hpp"

#include <cstdlib>

#include <fmt/format.h>

#include "core/json_fields.hpp"
#include "core/server_edition.hpp"
#include "core/tsql.hpp"
#include "migrate/backup_file_identity.hpp"

namespace m2r {

namespace {

// The files' identities once the backup has ended (the upload checks them before it sends
// anything). A file this host cannot see is the upload's to report, with its fix.
nlohmann::json with_identities(nlohmann::json names, const std::vector<std::string>& files) {
  nlohmann::json ids = nlohmann::json::array();
  for (const auto& f : files) {
    auto id = identify_backup_file(f);
    if (!id) return names;
    ids.push_back(to_json(*id));
  }
  names["file_identity"] = ids;
  return names;
}

}  // namespace

Expected<nlohmann::json> run_backup_step(StepContext& ctx, mssql::SqlSession& source, const MigrationConfig& config,
                                         const std::string& new_stamp, const mssql::SessionOpener& open_monitor,
                                         const mssql::LiveProgressOptions& progress_options) {
  const std::string stamp = M2R_TRY(string_field_or(ctx.partial(), "stamp", new_stamp, journal_outputs(ctx.step())));
  const auto layout = backup_layout(config, stamp);
  const nlohmann::json names = {{"stamp", stamp},
                                {"server_files", layout.server_files},
                                {"local_files", layout.local_files},
                                {"s3_keys", layout.s3_keys},
                                {"restore_arn", layout.restore_arn}};
  M2R_TRY(ctx.record(names));

  // A kill after BACKUP finished but before the step was marked done: msdb knows.
  const auto existing = M2R_TRY(source.query(tsql::backupset_for_file(config.source.database, layout.server_files[0]),
                                             {}, {.idempotent = mssql::Idempotent::yes}));
  if (!existing.rows().empty()) {
    ctx.info("the backup to " + layout.server_files[0] + " had already finished; not taking it again");
    return with_identities(names, layout.local_files);
  }

  // Express and Web refuse WITH COMPRESSION (Msg 1844, docs/facts.md §13): asked of the server
  // itself, so the statement fits the edition; an edition that cannot be read keeps the config.
  bool compression = config.source.compression;
  if (compression) {
    if (auto e = source.query(edition_query(), {}, {.idempotent = mssql::Idempotent::yes}); e && !e->rows().empty()) {
      const auto edition_text = e->first().value(0, "edition");
      const auto engine = e->first().value(0, "engine_edition");
      const std::string edition = edition_text && !edition_text->is_null() ? edition_text->to_text() : "";
      const EditionKind kind = edition_kind(edition, engine && !engine->is_null() ? std::atoi(engine->to_text().c_str()) : 0);
      compression = backup_compression(true, kind);
      if (!compression) ctx.info("backup without COMPRESSION: " + edition + " does not support backup compression");
    }
  }
  const auto sql = tsql::backup_database({config.source.database, layout.server_files, compression, 5});
  ctx.info(sql);
  mssql::LiveProgressHandlers handlers;
  handlers.on_message = [&](const mssql::SqlMessage& m) {
    if (m.number == 3014) ctx.info(m.text);
  };
  handlers.on_progress = [&](double fraction, const std::string& text) { ctx.progress(fraction, text); };
  handlers.on_polling_unavailable = [&](const std::string& why) {
    ctx.warning("live backup progress unavailable (" + why + "); progress comes from the STATS messages, which "
                "some drivers (FreeTDS) deliver only when BACKUP ends; grant VIEW SERVER STATE to see it live");
  };
  // A stop cancels the running BACKUP (SQLCancel on the session); the runner then records the
  // step as interrupted, and the next run takes the backup again (WITH FORMAT, INIT).
  const auto cancel = on_stop(ctx.stop(), [&source] { source.cancel(); });
  auto result = mssql::run_with_live_progress(source, open_monitor, mssql::Statement{sql, {}, {}}, handlers,
                                              progress_options);
  if (!result) {
    return fail(result.error().kind, "BACKUP DATABASE failed: " + result.error().message,
                result.error().hint.empty()
                    ? fmt::format("check that SQL Server can write to {} (backup_dir_server) and has space there",
                                  config.source.backup_dir_server)
                    : result.error().hint);
  }
  return with_identities(names, layout.local_files);
}

}  // namespace m2r

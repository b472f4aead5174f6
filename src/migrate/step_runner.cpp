#include "migrate/step_runner.hpp"

#include <chrono>

#include <algorithm>

#include <fmt/format.h>

#include "core/step_inputs.hpp"

namespace m2r {

const nlohmann::json& StepContext::outputs_of(const std::string& step) const {
  static const nlohmann::json empty = nlohmann::json::object();
  const auto it = m_earlier.find(step);
  return it == m_earlier.end() ? empty : *it;
}

Expected<void> StepContext::record(const nlohmann::json& outputs) {
  M2R_TRY(m_journal.record_outputs(m_step, outputs));
  m_partial.merge_patch(outputs);
  return {};
}

void StepContext::progress(double fraction, const std::string& message) {
  Event e;
  e.kind = EventKind::progress;
  e.step = m_step;
  e.fraction = fraction;
  e.message = message;
  m_events.emit(e);
}

void StepContext::info(const std::string& message, nlohmann::json data) {
  Event e;
  e.kind = EventKind::info;
  e.step = m_step;
  e.message = message;
  e.data = std::move(data);
  m_events.emit(e);
  (void)m_journal.append_event(m_step, "info", {{"message", message}});
}

void StepContext::warning(const std::string& message) {
  Event e;
  e.kind = EventKind::warning;
  e.step = m_step;
  e.message = message;
  m_events.emit(e);
  (void)m_journal.append_event(m_step, "warning", {{"message", message}});
}

namespace {

// A step's exceptions end here: a json type_error from a damaged record is the journal's
// damage, anything else a bug; either way an Error, recorded like any failure.
Expected<nlohmann::json> run_guarded(const StepDefinition& def, StepContext& ctx) {
  try {
    return def.run(ctx);
  } catch (const nlohmann::json::exception& e) {
    return fail(ErrorKind::journal_damaged,
                fmt::format("step '{}' could not read what the journal records: {}", def.name, e.what()),
                "the journal was edited or damaged: restore it from a copy, or move it aside (or set [migration] "
                "journal to a new file) and run again, which starts over");
  } catch (const std::exception& e) {
    return fail(ErrorKind::fatal, fmt::format("step '{}' failed unexpectedly: {}", def.name, e.what()),
                "this is a bug; please report it with the journal's event log");
  }
}

Event step_event(EventKind kind, const std::string& step, std::string message) {
  Event e;
  e.kind = kind;
  e.step = step;
  e.message = std::move(message);
  return e;
}
}  // namespace

std::string earliest_step(const std::vector<StepDefinition>& steps, const std::vector<std::string>& names) {
  for (const auto& def : steps) {
    if (std::find(names.begin(), names.end(), def.name) != names.end()) return def.name;
  }
  return {};
}

Expected<void> check_resume(const std::vector<StepDefinition>& steps, Journal& journal, const std::string& redo_from,
                            const std::string& command) {
  const auto records = M2R_TRY(journal.steps());
  std::vector<RecordedStep> recorded;
  for (const auto& r : records) recorded.push_back({r.name, r.status == StepStatus::done, r.inputs});
  std::vector<std::pair<std::string, nlohmann::json>> current;
  std::size_t redo_index = steps.size();
  for (std::size_t i = 0; i < steps.size(); ++i) {
    if (steps[i].name == redo_from) redo_index = i;
    // Steps being redone are not judged: they run again with today's values.
    if (i < redo_index) current.emplace_back(steps[i].name, steps[i].inputs);
  }
  if (!redo_from.empty() && redo_index == steps.size()) {
    return fail(ErrorKind::invalid_input, fmt::format("--redo-from names no step: '{}'", redo_from),
                "name one of the steps `mssql2rds plan` lists");
  }
  const auto changes = config_changes(recorded, current);
  if (!changes.empty()) {
    std::vector<std::string> affected;
    for (const auto& c : changes) affected.push_back(c.step);
    const std::string first = earliest_step(steps, affected);
    std::vector<std::string> invalidated;
    bool from_here = false;
    for (const auto& def : steps) {
      from_here = from_here || def.name == first;
      if (from_here) invalidated.push_back(def.name);
    }
    return fail(ErrorKind::config_changed,
                fmt::format("the configuration changed since these steps were done: {}; this invalidates step(s) {}",
                            describe_changes(changes), fmt::join(invalidated, ", ")),
                fmt::format("put the old value(s) back to continue as recorded, or run `{} --redo-from {}` to do "
                            "step '{}' and every later step again with the new values",
                            command, first, first));
  }
  return {};
}

Expected<void> restart_from(const std::vector<StepDefinition>& steps, Journal& journal, const std::string& redo_from) {
  const auto records = M2R_TRY(journal.steps());
  std::size_t redo_index = steps.size();
  for (std::size_t i = 0; i < steps.size(); ++i) {
    if (steps[i].name == redo_from) redo_index = i;
  }
  if (redo_index == steps.size()) return {};
  // Restart the redone steps (and their sub-steps, "upload/1"), latest first, keeping their
  // records as events.
  for (auto it = records.rbegin(); it != records.rend(); ++it) {
    const std::string top = it->name.substr(0, it->name.find('/'));
    const auto pos = std::find_if(steps.begin(), steps.end(), [&](const StepDefinition& d) { return d.name == top; });
    if (pos == steps.end() || static_cast<std::size_t>(pos - steps.begin()) < redo_index) continue;
    if (it->status == StepStatus::pending && it->outputs.empty()) continue;
    M2R_TRY(journal.append_event(it->name, "step_restarted",
                                 {{"redo_from", redo_from},
                                  {"status", to_string(it->status)},
                                  {"attempts", it->attempts},
                                  {"inputs", it->inputs},
                                  {"outputs", it->outputs}}));
    M2R_TRY(journal.restart_step(it->name));
  }
  return {};
}

Expected<void> run_steps(const std::vector<StepDefinition>& steps, Journal& journal, EventSink& events,
                         const std::string& stop_after, const StopSignal* stop) {
  nlohmann::json earlier = nlohmann::json::object();
  for (const auto& def : steps) {
    if (stop_requested(stop)) {
      return tl::unexpected(interrupted_error(
          fmt::format("stopped before step '{}'; the steps before it are done and recorded in the journal", def.name),
          "run the same command again: it continues with this step"));
    }
    const auto record = M2R_TRY(journal.step(def.name));
    if (record && record->status == StepStatus::done) {
      earlier[def.name] = record->outputs;
      events.emit(step_event(EventKind::step_skipped, def.name, def.title));
      if (def.name == stop_after) return {};
      continue;
    }
    const bool resuming = record && record->status == StepStatus::running;
    const nlohmann::json partial = record ? record->outputs : nlohmann::json::object();
    M2R_TRY(journal.begin_step(def.name, def.inputs));
    M2R_TRY(journal.append_event(def.name, resuming ? "step_resumed" : "step_started", {}));
    events.emit(step_event(EventKind::step_started, def.name, def.title + (resuming ? " (resuming)" : "")));

    const auto started = std::chrono::steady_clock::now();
    StepContext ctx(journal, events, def.name, partial, earlier);
    ctx.set_stop(stop);
    auto outputs = run_guarded(def, ctx);
    if (!outputs && stop_requested(stop) && outputs.error().kind != ErrorKind::interrupted) {
      // Work cancelled by the stop fails in its own terms (a transfer aborted, a statement
      // cancelled): what happened is the interruption.
      outputs = tl::unexpected(interrupted_error(
          fmt::format("step '{}' stopped at a safe point ({})", def.name, outputs.error().message),
          "run the same command again: it continues this step"));
    }
    if (!outputs) {
      (void)journal.fail_step(def.name, outputs.error().message);
      (void)journal.append_event(def.name, "step_failed",
                                 {{"message", outputs.error().message}, {"hint", outputs.error().hint}});
      events.emit(step_event(EventKind::step_failed, def.name, outputs.error().message));
      return tl::unexpected(outputs.error());
    }
    M2R_TRY(journal.finish_step(def.name, *outputs));
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    M2R_TRY(journal.append_event(def.name, "step_finished", {{"seconds", secs}}));
    events.emit(step_event(EventKind::step_finished, def.name, fmt::format("{:.1f}s", secs)));
    const auto finished = M2R_TRY(journal.step(def.name));
    earlier[def.name] = finished ? finished->outputs : *outputs;
    if (def.name == stop_after) return {};
  }
  return {};
}

}  // namespace m2r
